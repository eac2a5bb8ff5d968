package vrrp

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Open validates cfgs, opens what the instances need in the network
// namespace opts.NetNS (default: the caller's) and returns a Router ready
// to Run: a raw IPv4 socket on the shared advertisement interface if an
// instance is IPv4, a raw IPv6 one if an instance is IPv6, AF_PACKET
// sockets on the VIP interfaces (gratuitous ARP, unsolicited neighbour
// advertisements) and an rtnetlink handle (NETLINK_ROUTE
// only, so no other netlink family module needs to be loadable). It needs
// CAP_NET_RAW and CAP_NET_ADMIN. It returns a *FieldError for an invalid
// configuration, a negative NetNS or an interface that does not exist.
//
// For an instance with a VMAC, Open creates (or reuses) the macvlan
// interface and sets the sysctls keepalived sets for it (see VMAC); they
// are undone when Run returns (or by Close, if Run never ran).
func Open(cfgs []Config, opts *Options) (*Router, error) {
	if len(cfgs) == 0 {
		return nil, &FieldError{Field: "instances", Msg: "none configured"}
	}
	norm := make([]Config, len(cfgs))
	for i, c := range cfgs {
		n, err := c.Normalize()
		if err != nil {
			return nil, err
		}
		norm[i] = n
	}
	ns := netns.None()
	if opts != nil && opts.NetNS < 0 {
		return nil, &FieldError{Field: "NetNS", Value: itoa(opts.NetNS), Msg: "not a file descriptor"}
	}
	if opts != nil && opts.NetNS > 0 {
		ns = netns.NsHandle(opts.NetNS)
	}
	var nl *netlink.Handle
	var err error
	if ns > 0 {
		nl, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	} else {
		nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("vrrp: rtnetlink: %w", err)
	}
	h := &linuxHost{ns: ns, nl: nl, links: map[string]netlink.Link{}, garp: map[string]*garpConn{}}
	fail := func(err error) (*Router, error) {
		h.Close()
		return nil, err
	}
	lookup := func(field, name string) (netlink.Link, error) {
		if l, ok := h.links[name]; ok {
			return l, nil
		}
		l, err := nl.LinkByName(name)
		if err != nil {
			return nil, &FieldError{Field: field, Value: name, Msg: "no such interface"}
		}
		h.links[name] = l
		return l, nil
	}
	for _, c := range norm {
		if _, err := lookup("Interface", c.Interface); err != nil {
			return fail(err)
		}
		for _, t := range c.TrackInterfaces {
			if _, err := lookup("TrackInterfaces", t); err != nil {
				return fail(err)
			}
		}
		for _, o := range c.AddrOptions {
			if o.Interface == "" {
				continue
			}
			if _, err := lookup("AddrOptions.Interface", o.Interface); err != nil {
				return fail(err)
			}
		}
	}
	log := slog.New(slog.DiscardHandler)
	if opts != nil && opts.Logger != nil {
		log = opts.Logger
	}
	var known []string // the interfaces the configuration names
	for _, c := range norm {
		for _, n := range slices.Concat([]string{c.Interface}, c.addrInterfaces(), c.TrackInterfaces) {
			if (c.VMAC == nil || n != c.VMAC.Name) && !slices.Contains(known, n) {
				known = append(known, n)
			}
		}
	}
	renamed := map[string]string{}
	for i := range norm {
		c := &norm[i]
		if c.VMAC == nil {
			continue
		}
		name, err := h.setupVMAC(c, known, log)
		if err != nil {
			return fail(err)
		}
		if name != c.VMAC.Name {
			renamed[c.VMAC.Name] = name
			v := *c.VMAC
			if c.VIPInterface == v.Name {
				c.VIPInterface = name
			}
			v.Name = name
			c.VMAC = &v
		}
	}
	for _, c := range norm {
		if _, err := lookup("VIPInterface", c.VIPInterface); err != nil {
			return fail(err)
		}
	}
	if err := h.promote(norm); err != nil {
		return fail(err)
	}
	var groups4, groups6 []netip.Addr
	for _, c := range norm {
		if c.IPv6 && !slices.Contains(groups6, c.Group) {
			groups6 = append(groups6, c.Group)
		}
		if !c.IPv6 && !slices.Contains(groups4, c.Group) {
			groups4 = append(groups4, c.Group)
		}
	}
	var c4 *rawConn
	var c6 *rawConn6
	closeConns := func() {
		if c4 != nil {
			c4.Close()
		}
		if c6 != nil {
			c6.Close()
		}
	}
	err = inNS(ns, func() error {
		l := h.links[norm[0].advertInterface()]
		ifi := &net.Interface{Index: l.Attrs().Index, Name: l.Attrs().Name, MTU: l.Attrs().MTU,
			HardwareAddr: l.Attrs().HardwareAddr, Flags: l.Attrs().Flags}
		var err error
		if len(groups4) > 0 {
			if c4, err = listenRaw(ifi, groups4); err != nil {
				return err
			}
		}
		if len(groups6) > 0 {
			if c6, err = listenRaw6(ifi, groups6); err != nil {
				return err
			}
		}
		for _, cfg := range norm {
			for i, name := range cfg.addrInterfaces() {
				if err := h.openGARP(name, i == 0); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		closeConns()
		return fail(err)
	}
	var conn Conn
	switch {
	case c4 != nil && c6 != nil:
		conn = newPairConn(c4, c6)
	case c6 != nil:
		conn = c6
	default:
		conn = c4
	}
	r, err := New(norm, conn, h, opts)
	if err != nil {
		conn.Close()
		return fail(err)
	}
	r.closers = append(r.closers, h.Close)
	r.onStop = append(r.onStop, h.stopVMACs)
	r.vmacNames = renamed
	return r, nil
}

// openGARP opens the socket that sends the gratuitous ARPs and neighbour
// advertisements on ifname, if it is not open yet; vipInterface says
// whether ifname is an instance's VIPInterface, for the error.
func (h *linuxHost) openGARP(ifname string, vipInterface bool) error {
	if _, ok := h.garp[ifname]; ok {
		return nil
	}
	a := h.links[ifname].Attrs()
	switch {
	case len(a.HardwareAddr) == 6:
	case vipInterface:
		return &FieldError{Field: "VIPInterface", Value: a.Name, Msg: "has no Ethernet address"}
	default:
		// An address of an instance on an interface without one, such
		// as lo, is announced by nothing.
		h.garp[ifname] = nil
		return nil
	}
	vifi := &net.Interface{Index: a.Index, Name: a.Name, MTU: a.MTU, HardwareAddr: a.HardwareAddr, Flags: a.Flags}
	pc, err := packet.Listen(vifi, packet.Raw, 0, nil)
	if err != nil {
		return fmt.Errorf("vrrp: ARP socket on %s: %w", a.Name, err)
	}
	// keepalived sets the Router flag of its neighbour
	// advertisements when the interface forwards IPv6.
	fwd, _ := os.ReadFile("/proc/sys/net/ipv6/conf/" + a.Name + "/forwarding")
	h.garp[ifname] = &garpConn{c: pc, mac: a.HardwareAddr, buf: make([]byte, 0, NALen),
		router: strings.TrimSpace(string(fwd)) == "1"}
	return nil
}

// inNS runs fn on a locked OS thread inside ns (or where it is, for
// None), so that the sockets fn opens belong to ns. The caller's thread
// never changes namespace.
func inNS(ns netns.NsHandle, fn func() error) error {
	if ns <= 0 {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("vrrp: current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("vrrp: entering network namespace: %w", err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			// Back home: the thread may serve other goroutines again.
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
