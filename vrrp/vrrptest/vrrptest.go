// Package vrrptest provides in-memory fakes of vrrp.Conn and vrrp.Host, so
// that Routers can be run without privileges, sockets or real time: a Bus
// is a broadcast segment that Routers' Ports share, and a Host records VIP
// changes and gratuitous ARPs and lets a test flip links. Both work under
// testing/synctest, where a whole election takes no real time.
package vrrptest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lvskit/lvskit/vrrp"
)

// Bus is an in-memory segment: what a Port writes reaches every other Port
// of the same partition group (multicast) or the Port with the destination
// address (unicast), with IP TTL 255.
type Bus struct {
	mu    sync.Mutex
	ports []*Port
	sent  []Sent
}

// Sent is a packet written to the Bus.
type Sent struct {
	At        time.Time
	From, Dst netip.Addr
	Priority  uint8 // byte 2 of the VRRP message
	Data      []byte
}

// Port is one node's attachment to a Bus; it implements vrrp.Conn.
type Port struct {
	b     *Bus
	addr  netip.Addr
	more  []netip.Addr
	group int
	in    chan packet
	done  chan struct{}
	once  sync.Once
}

type packet struct {
	data []byte
	info vrrp.PacketInfo
}

// NewBus returns an empty Bus.
func NewBus() *Bus { return &Bus{} }

// Port attaches a node with primary address addr, and the other addresses
// more (such as an IPv6 link-local one for IPv6 instances), in partition
// group 0.
func (b *Bus) Port(addr netip.Addr, more ...netip.Addr) *Port {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := &Port{b: b, addr: addr, more: more, in: make(chan packet, 64), done: make(chan struct{})}
	b.ports = append(b.ports, p)
	return p
}

// SetGroup moves p to partition group g: ports exchange packets only
// within a group. Moving a port to a group of its own cuts its cable.
func (b *Bus) SetGroup(p *Port, g int) {
	b.mu.Lock()
	p.group = g
	b.mu.Unlock()
}

// Sent returns the packets written from the address from, in order.
func (b *Bus) Sent(from netip.Addr) []Sent {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Sent
	for _, s := range b.sent {
		if s.From == from {
			out = append(out, s)
		}
	}
	return out
}

// Addr returns the port's address.
func (p *Port) Addr() netip.Addr { return p.addr }

func (p *Port) has(a netip.Addr) bool { return a == p.addr || slices.Contains(p.more, a) }

// ReadFrom implements vrrp.Conn.
func (p *Port) ReadFrom(buf []byte) (int, vrrp.PacketInfo, error) {
	select {
	case r := <-p.in:
		return copy(buf, r.data), r.info, nil
	case <-p.done:
		return 0, vrrp.PacketInfo{}, net.ErrClosed
	}
}

// WriteTo implements vrrp.Conn: a multicast destination reaches every
// other port of the group, a unicast one the port with that address.
// Packets to a closed or full port are dropped.
func (p *Port) WriteTo(data []byte, src, dst netip.Addr) error {
	select {
	case <-p.done:
		return net.ErrClosed
	default:
	}
	if !src.IsValid() {
		src = p.addr
	}
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Sent{At: time.Now(), From: src, Dst: dst, Data: slices.Clone(data)}
	if len(data) > 2 {
		s.Priority = data[2]
	}
	b.sent = append(b.sent, s)
	for _, q := range b.ports {
		if q == p || q.group != p.group || (!dst.IsMulticast() && !q.has(dst)) {
			continue
		}
		select {
		case <-q.done:
		case q.in <- packet{data: slices.Clone(data), info: vrrp.PacketInfo{Src: src, Dst: dst, TTL: 255}}:
		default:
		}
	}
	return nil
}

// Close implements vrrp.Conn.
func (p *Port) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// Host implements vrrp.Host in memory.
type Host struct {
	addr  netip.Addr
	addr6 netip.Addr
	links chan vrrp.LinkEvent
	addrs chan vrrp.AddrEvent

	mu     sync.Mutex
	down   map[string]bool
	vips   map[string][]vrrp.Address
	garps  []time.Time
	garpOn map[string][]netip.Addr // the addresses announced, by interface
	// own are the interfaces' own addresses, by interface, once
	// DeleteOwn or AddOwn changed them; addr and addr6 before that.
	own map[string][]netip.Addr
}

// NewHost returns a Host whose interfaces all have the primary address
// addr and are up. An IPv6 addr, or the first IPv6 address of more, is
// the link-local address of IPv6 instances.
func NewHost(addr netip.Addr, more ...netip.Addr) *Host {
	var addr6 netip.Addr
	for _, a := range append([]netip.Addr{addr}, more...) {
		if a.Is6() && !addr6.IsValid() {
			addr6 = a
		}
	}
	return &Host{addr: addr, addr6: addr6, links: make(chan vrrp.LinkEvent), addrs: make(chan vrrp.AddrEvent), vips: map[string][]vrrp.Address{}, down: map[string]bool{}}
}

// SetLink reports a link change to the Router watching the host; it
// blocks until the Router takes it. Before the Router runs, use SetDown.
func (h *Host) SetLink(name string, up bool) {
	h.mu.Lock()
	h.down[name] = !up
	h.mu.Unlock()
	h.links <- vrrp.LinkEvent{Interface: name, Up: up}
}

// SetDown marks an interface down before the Router starts watching.
func (h *Host) SetDown(name string) {
	h.mu.Lock()
	h.down[name] = true
	h.mu.Unlock()
}

// PrimaryAddr implements vrrp.Host: the IPv6 address for IPv6 VIPs, addr
// otherwise; once DeleteOwn or AddOwn changed ifname's addresses, the
// first of them of the family that is not in exclude.
func (h *Host) PrimaryAddr(ifname string, exclude []netip.Prefix) (netip.Addr, error) {
	ipv6 := len(exclude) > 0 && exclude[0].Addr().Is6()
	h.mu.Lock()
	defer h.mu.Unlock()
	if own, ok := h.own[ifname]; ok {
		for _, a := range own {
			if a.Is6() == ipv6 && !slices.ContainsFunc(exclude, func(p netip.Prefix) bool { return p.Addr() == a }) {
				return a, nil
			}
		}
		return netip.Addr{}, fmt.Errorf("no address on %s: %w", ifname, vrrp.ErrNoAddress)
	}
	if ipv6 && h.addr6.IsValid() {
		return h.addr6, nil
	}
	return h.addr, nil
}

// SetOwn sets ifname's own addresses, none for none, before the Router
// starts watching.
func (h *Host) SetOwn(ifname string, addrs ...netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.own == nil {
		h.own = map[string][]netip.Addr{}
	}
	h.own[ifname] = slices.Clone(addrs)
	if h.own[ifname] == nil {
		h.own[ifname] = []netip.Addr{}
	}
}

// DeleteOwn deletes addr, one of ifname's own addresses (addr or addr6
// until then), and reports it to the Router watching the host; it blocks
// until the Router takes it.
func (h *Host) DeleteOwn(ifname string, addr netip.Addr) {
	h.mu.Lock()
	h.ownLocked(ifname)
	h.own[ifname] = slices.DeleteFunc(h.own[ifname], func(a netip.Addr) bool { return a == addr })
	h.mu.Unlock()
	h.addrs <- vrrp.AddrEvent{Interface: ifname, Addr: addr}
}

// AddOwn adds addr to ifname's own addresses, after those it has, and
// reports it to the Router watching the host; it blocks until the Router
// takes it.
func (h *Host) AddOwn(ifname string, addr netip.Addr) {
	h.mu.Lock()
	h.ownLocked(ifname)
	h.own[ifname] = append(h.own[ifname], addr)
	h.mu.Unlock()
	h.addrs <- vrrp.AddrEvent{Interface: ifname, Addr: addr, Added: true}
}

func (h *Host) ownLocked(ifname string) {
	if h.own == nil {
		h.own = map[string][]netip.Addr{}
	}
	if _, ok := h.own[ifname]; !ok {
		for _, a := range []netip.Addr{h.addr, h.addr6} {
			if a.IsValid() {
				h.own[ifname] = append(h.own[ifname], a)
			}
		}
	}
}

// AddVIPs implements vrrp.Host.
func (h *Host) AddVIPs(addrs []vrrp.Address) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range addrs {
		if !slices.ContainsFunc(h.vips[a.Interface], func(b vrrp.Address) bool { return b.Prefix == a.Prefix }) {
			h.vips[a.Interface] = append(h.vips[a.Interface], a)
		}
	}
	return nil
}

// RemoveVIPs implements vrrp.Host.
func (h *Host) RemoveVIPs(addrs []vrrp.Address) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range addrs {
		h.vips[a.Interface] = slices.DeleteFunc(h.vips[a.Interface], func(b vrrp.Address) bool { return b.Prefix == a.Prefix })
	}
	return nil
}

// SendGARP implements vrrp.Host by recording the time of each frame.
func (h *Host) SendGARP(ifname string, vips []netip.Prefix, count int) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for range count * len(vips) {
		h.garps = append(h.garps, time.Now())
	}
	if h.garpOn == nil {
		h.garpOn = map[string][]netip.Addr{}
	}
	for range count {
		for _, p := range vips {
			h.garpOn[ifname] = append(h.garpOn[ifname], p.Addr())
		}
	}
	return count * len(vips), nil
}

// WatchLinks implements vrrp.Host.
func (h *Host) WatchLinks(ctx context.Context, names []string) ([]bool, <-chan vrrp.LinkEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	up := make([]bool, len(names))
	for i, n := range names {
		up[i] = !h.down[n]
	}
	return up, h.links, nil
}

// VIPs returns the addresses present on ifname.
func (h *Host) VIPs(ifname string) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range h.Addresses(ifname) {
		out = append(out, a.Prefix)
	}
	return out
}

// Addresses returns the addresses present on ifname with their
// attributes.
func (h *Host) Addresses(ifname string) []vrrp.Address {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.vips[ifname])
}

// HasVIP reports whether ifname carries any VIP.
func (h *Host) HasVIP(ifname string) bool { return len(h.VIPs(ifname)) > 0 }

// GARPs returns when each gratuitous ARP frame was sent.
func (h *Host) GARPs() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.garps)
}

// GARPsOn returns the addresses of the gratuitous ARPs (IPv6: neighbour
// advertisements) sent on ifname, a frame each, in order.
func (h *Host) GARPsOn(ifname string) []netip.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.garpOn[ifname])
}

// WatchAddrs implements vrrp.AddrWatcher: the changes DeleteAddr, DeleteOwn
// and AddOwn make.
func (h *Host) WatchAddrs(ctx context.Context) (<-chan vrrp.AddrEvent, error) {
	return h.addrs, nil
}

// DeleteAddr deletes addr from ifname as someone else than the Router
// would, and reports it to the Router watching the host; it blocks until
// the Router takes it.
func (h *Host) DeleteAddr(ifname string, addr netip.Addr) {
	h.mu.Lock()
	h.vips[ifname] = slices.DeleteFunc(h.vips[ifname], func(b vrrp.Address) bool { return b.Prefix.Addr() == addr })
	h.mu.Unlock()
	h.addrs <- vrrp.AddrEvent{Interface: ifname, Addr: addr}
}
