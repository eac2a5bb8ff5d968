package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// linuxHost changes addresses with rtnetlink, sends gratuitous ARP over
// AF_PACKET and follows link states, all in one network namespace.
type linuxHost struct {
	ns    netns.NsHandle // not owned; None() for the current namespace
	nl    *netlink.Handle
	links map[string]netlink.Link
	garp  map[string]*garpConn
	vmacs []*vmacLink // set up by Open, removed by Close
	// promoted are the interfaces whose promote_secondaries Open holds
	// (see promoteKeeper), released by Close.
	promoted []string

	mu     sync.Mutex
	closed bool
}

type garpConn struct {
	c      *packet.Conn
	mac    net.HardwareAddr
	buf    []byte
	router bool // the Router flag of neighbour advertisements
}

func (h *linuxHost) link(name string) (netlink.Link, error) {
	if l, ok := h.links[name]; ok {
		return l, nil
	}
	return h.nl.LinkByName(name)
}

func (h *linuxHost) PrimaryAddr(ifname string, exclude []netip.Prefix) (netip.Addr, error) {
	l, err := h.link(ifname)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(exclude) > 0 && exclude[0].Addr().Is6() {
		return h.linkLocal(l)
	}
	addrs, err := h.nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, err
	}
	var secondary netip.Addr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok {
			continue
		}
		skip := false
		for _, p := range exclude {
			skip = skip || p.Addr() == ip
		}
		if skip {
			continue
		}
		if a.Flags&unix.IFA_F_SECONDARY == 0 {
			return ip, nil
		}
		if !secondary.IsValid() {
			secondary = ip
		}
	}
	if secondary.IsValid() {
		return secondary, nil
	}
	return netip.Addr{}, fmt.Errorf("no IPv4 address on %s: %w", ifname, ErrNoAddress)
}

// linkLocal returns the first IPv6 link-local address of l that is not
// tentative (duplicate address detection still running) or failed it.
func (h *linuxHost) linkLocal(l netlink.Link) (netip.Addr, error) {
	addrs, err := h.nl.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if ok && ip.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no usable IPv6 link-local address on %s: %w", l.Attrs().Name, ErrNoAddress)
}

// vipAddr is the netlink address of a VIP with its label, scope and
// broadcast address, as keepalived adds it (vrrp_ipaddress.c): no
// broadcast address unless one is given; IPv6 ones without duplicate
// address detection (IFA_F_NODAD), so that they are usable at once, and a
// /128 deprecated, so that it is not chosen as a source address.
func vipAddr(a Address) *netlink.Addr {
	p := a.Prefix
	bits := 32
	na := &netlink.Addr{Label: a.Label, Scope: int(a.Scope), Flags: int(a.Flags)}
	if p.Addr().Is6() {
		bits = 128
		if !a.DAD {
			na.Flags |= unix.IFA_F_NODAD
		}
		switch {
		case a.PreferredLftSet && a.PreferredLft != ^uint32(0):
			na.PreferedLft, na.ValidLft = int(a.PreferredLft), int(^uint32(0))
		case !a.PreferredLftSet && p.Bits() == 128:
			na.PreferedLft, na.ValidLft = 0, int(^uint32(0))
		}
	} else {
		// netlink fills in the subnet's (or the peer's) broadcast address
		// for a nil one; the zero address means none.
		na.Broadcast = net.IPv4zero
		if a.Broadcast.IsValid() {
			na.Broadcast = a.Broadcast.AsSlice()
		}
	}
	na.IPNet = &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
	if a.Peer.IsValid() {
		na.Peer = &net.IPNet{IP: a.Peer.Addr().AsSlice(), Mask: net.CIDRMask(a.Peer.Bits(), bits)}
	}
	return na
}

func (h *linuxHost) AddVIPs(addrs []Address) error {
	var errs []error
	for _, a := range addrs {
		l, err := h.link(a.Interface)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Replace creates the address or keeps the present one.
		if err := h.nl.AddrReplace(l, vipAddr(a)); err != nil {
			errs = append(errs, fmt.Errorf("adding %v to %s: %w", a.Prefix, a.Interface, err))
		}
	}
	return errors.Join(errs...)
}

func (h *linuxHost) RemoveVIPs(addrs []Address) error {
	var errs []error
	for _, a := range addrs {
		l, err := h.link(a.Interface)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = h.nl.AddrDel(l, vipAddr(a))
		if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("removing %v from %s: %w", a.Prefix, a.Interface, err))
		}
	}
	return errors.Join(errs...)
}

func (h *linuxHost) SendGARP(ifname string, vips []netip.Prefix, count int) (int, error) {
	g, ok := h.garp[ifname]
	switch {
	case !ok:
		return 0, fmt.Errorf("no ARP socket on %s", ifname)
	case g == nil: // not an Ethernet interface
		return 0, nil
	}
	dst := &packet.Addr{HardwareAddr: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	dst6 := &packet.Addr{HardwareAddr: net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}}
	sent := 0
	for range count {
		for _, p := range vips {
			if p.Addr().Is6() {
				g.buf = AppendNA(g.buf[:0], g.mac, p.Addr(), g.router)
				if _, err := g.c.WriteTo(g.buf, dst6); err != nil {
					return sent, err
				}
				sent++
				continue
			}
			g.buf = AppendGARP(g.buf[:0], g.mac, p.Addr())
			if _, err := g.c.WriteTo(g.buf, dst); err != nil {
				return sent, err
			}
			sent++
		}
	}
	return sent, nil
}

// linkUp reports whether a link is administratively up and running
// (carrier present).
func linkUp(a *netlink.LinkAttrs) bool {
	return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_RUNNING != 0
}

func (h *linuxHost) WatchLinks(ctx context.Context, names []string) ([]bool, <-chan LinkEvent, error) {
	ch := make(chan netlink.LinkUpdate, 32)
	done := make(chan struct{})
	opts := netlink.LinkSubscribeOptions{}
	if h.ns > 0 {
		ns := h.ns
		opts.Namespace = &ns
	}
	if err := netlink.LinkSubscribeWithOptions(ch, done, opts); err != nil {
		return nil, nil, err
	}
	state := map[string]bool{}
	initial := make([]bool, len(names))
	for i, n := range names {
		l, err := h.nl.LinkByName(n)
		if err == nil {
			initial[i] = linkUp(l.Attrs())
		}
		state[n] = initial[i]
	}
	out := make(chan LinkEvent, 8)
	go func() {
		<-ctx.Done()
		close(done)
	}()
	go func() {
		// Drain ch until the subscription closes it, so that its reader
		// never blocks.
		for u := range ch {
			n := u.Attrs().Name
			prev, ok := state[n]
			if !ok {
				continue
			}
			up := u.Header.Type != unix.RTM_DELLINK && linkUp(u.Attrs())
			if up == prev {
				continue
			}
			state[n] = up
			select {
			case out <- LinkEvent{Interface: n, Up: up}:
			case <-ctx.Done():
			}
		}
	}()
	return initial, out, nil
}

// WatchAddrs implements AddrWatcher for the interfaces Open looked up.
func (h *linuxHost) WatchAddrs(ctx context.Context) (<-chan AddrEvent, error) {
	names := map[int]string{}
	for n, l := range h.links {
		names[l.Attrs().Index] = n
	}
	ch := make(chan netlink.AddrUpdate, 32)
	done := make(chan struct{})
	opts := netlink.AddrSubscribeOptions{}
	if h.ns > 0 {
		ns := h.ns
		opts.Namespace = &ns
	}
	if err := netlink.AddrSubscribeWithOptions(ch, done, opts); err != nil {
		return nil, err
	}
	out := make(chan AddrEvent, 8)
	go func() {
		<-ctx.Done()
		close(done)
	}()
	go func() {
		defer close(out)
		// Drain ch until the subscription closes it, so that its reader
		// never blocks.
		for u := range ch {
			n, ok := names[u.LinkIndex]
			a, ok2 := netip.AddrFromSlice(u.LinkAddress.IP)
			if !ok || !ok2 {
				continue
			}
			select {
			case out <- AddrEvent{Interface: n, Addr: a.Unmap(), Added: u.NewAddr}:
			case <-ctx.Done():
			}
		}
	}()
	return out, nil
}

func (h *linuxHost) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	var errs []error
	for _, g := range h.garp {
		if g != nil {
			errs = append(errs, g.c.Close())
		}
	}
	errs = append(errs, h.removeVMACs(), h.unpromote())
	h.nl.Close()
	return errors.Join(errs...)
}
