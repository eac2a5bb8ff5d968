package vrrp

import (
	"net/netip"
	"slices"
	"time"
)

// source handles EventSource. Up: the adverts come from a from now on,
// which breaks priority ties too, and an instance held in FAULT for want
// of a source leaves it unless something else holds it there. !Up: the
// source a was deleted from ifname and there is no other; a MASTER
// resigns with a priority 0 advert, and the instance is FAULT until a
// source is back, as keepalived's down_instance on a deleted address
// (keepalived_netlink.c).
func (m *Machine) source(now time.Time, ifname string, a netip.Addr, up bool) {
	if up {
		if a = a.WithZone(""); a.IsValid() && a.Is6() == m.cfg.IPv6 && (!a.Is6() || a.IsLinkLocalUnicast()) {
			m.local = a
		}
		if !m.noSource {
			return
		}
		m.noSource = false
		if m.state == StateFault && m.firstDown() < 0 && !m.trackFault {
			m.enter(now, Cause{Kind: CauseSourceBack, Interface: ifname, Addr: a})
		}
		return
	}
	if m.noSource {
		return
	}
	m.noSource = true
	m.srcCause = Cause{Kind: CauseNoSource, Interface: ifname, Addr: a.WithZone("")}
	if m.state != StateBackup && m.state != StateMaster {
		return
	}
	if m.state == StateMaster {
		m.send(0)
	}
	m.emit(Action{Kind: ActionRemoveVIPs})
	m.transition(now, StateFault, m.srcCause)
}

// followSource follows the source of in's adverts through ev, an address
// added to or deleted from an interface, as keepalived follows its
// instances' source address (keepalived_netlink.c). Without a configured
// source (UnicastSrc), the adverts come from the interface's primary
// address of the family (IPv6: its link-local address). When it is
// deleted the next one takes over; when none is left the instance is
// FAULT until one is added. A configured source stays the source when it
// is deleted, as in keepalived, whose track_src_ip is meant to make the
// instance FAULT then but never does (keepalived_netlink.c:1133).
func (r *Router) followSource(in *instance, ev AddrEvent, now time.Time) {
	c := in.cfg
	addr := ev.Addr.WithZone("")
	if ev.Interface != c.Interface || addr.Is6() != c.IPv6 {
		return
	}
	if c.UnicastSrc.IsValid() {
		return // it stays the source, as in keepalived
	}
	switch {
	case ev.Added && !in.m.noSource, !ev.Added && (in.m.noSource || addr != in.local):
		return // the source stays
	}
	// None of the router's own addresses, as keepalived ignores its own
	// (the instance's first: their family picks the address's).
	exclude := slices.Concat(c.VIPs, c.ExcludedVIPs)
	for _, o := range r.insts {
		for _, p := range slices.Concat(o.cfg.VIPs, o.cfg.ExcludedVIPs) {
			if o != in && p.Addr().Is6() == c.IPv6 {
				exclude = append(exclude, p)
			}
		}
	}
	a, err := r.host.PrimaryAddr(c.Interface, exclude)
	if err != nil {
		if !ev.Added {
			r.log.Warn("vrrp: the source address is deleted and the interface has no other", "instance", c.Name, "vrid", c.VRID,
				"interface", c.Interface, "addr", addr, "err", err)
			// The resign advert goes from the deleted source, as
			// keepalived's does (the Conn sends it transparent).
			src := in.src
			in.src = addr
			r.step(in, Event{Kind: EventSource, Now: now, Interface: ev.Interface, Addr: addr})
			in.src = src
		}
		return
	}
	a = a.WithZone("")
	old := in.local
	in.local = a
	if in.src.IsValid() {
		in.src = a
	}
	r.log.Info("vrrp: source address", "instance", c.Name, "vrid", c.VRID, "interface", c.Interface, "was", old, "now", a)
	r.step(in, Event{Kind: EventSource, Now: now, Interface: ev.Interface, Addr: a, Up: true})
}
