package agent

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netlinkIP is the ipKernel of the agent's network namespace.
type netlinkIP struct{ h *netlink.Handle }

func openIPKernel() (ipKernel, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &netlinkIP{h}, nil
}

func (n *netlinkIP) Close() error {
	n.h.Close()
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipOrNil(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return a.AsSlice()
}

func (n *netlinkIP) linkIndex(name string) (int, error) {
	if name == "" {
		return 0, nil
	}
	l, err := n.h.LinkByName(name)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	return l.Attrs().Index, nil
}

func (n *netlinkIP) address(a *config.StaticAddress) (netlink.Link, *netlink.Addr, error) {
	l, err := n.h.LinkByName(a.Dev)
	if err != nil {
		return nil, nil, fmt.Errorf("interface %s: %w", a.Dev, err)
	}
	na := &netlink.Addr{IPNet: ipNet(a.Prefix), Label: a.Label, Scope: int(a.Scope), Broadcast: ipOrNil(a.Broadcast), Flags: int(a.Flags)}
	if na.Broadcast == nil && a.Prefix.Addr().Is4() {
		// netlink would fill in the subnet's (or the peer's) broadcast
		// address; keepalived sets none unless told (vrrp_ipaddress.c).
		na.Broadcast = net.IPv4zero
	}
	if a.Peer.IsValid() {
		na.Peer = ipNet(a.Peer)
	}
	if a.Prefix.Addr().Is6() {
		// As keepalived adds an IPv6 address: no duplicate address
		// detection unless -nodad, and the preferred lifetime given,
		// else a /128 deprecated so that it is not chosen as a source
		// and others forever (vrrp_ipaddress.c).
		if !a.DAD {
			na.Flags |= unix.IFA_F_NODAD
		}
		switch {
		case a.PreferredLftSet && a.PreferredLft != math.MaxUint32:
			na.PreferedLft, na.ValidLft = int(a.PreferredLft), math.MaxUint32
		case !a.PreferredLftSet && a.Prefix.Bits() == 128:
			na.PreferedLft, na.ValidLft = 0, math.MaxUint32
		}
	}
	return l, na, nil
}

func (n *netlinkIP) route(r *config.Route) (*netlink.Route, error) {
	idx, err := n.linkIndex(r.Dev)
	if err != nil {
		return nil, err
	}
	nr := &netlink.Route{
		LinkIndex: idx,
		Dst:       ipNet(r.Dst),
		Src:       ipOrNil(r.Src),
		Gw:        ipOrNil(r.Via),
		Scope:     netlink.Scope(r.Scope),
		Table:     int(r.Table),
		Protocol:  config.RTProtoKeepalived,
		Family:    unix.AF_INET,
	}
	if r.Dst.Addr().Is6() {
		nr.Family = unix.AF_INET6
	}
	if r.MetricSet {
		nr.Priority = int(r.Metric)
	}
	switch r.Type {
	case config.RouteBlackhole:
		nr.Type = unix.RTN_BLACKHOLE
	case config.RouteUnreachable:
		nr.Type = unix.RTN_UNREACHABLE
	case config.RouteProhibit:
		nr.Type = unix.RTN_PROHIBIT
	}
	if r.OnLink {
		nr.Flags = unix.RTNH_F_ONLINK
	}
	for _, nh := range r.Nexthops {
		nr.MultiPath = append(nr.MultiPath, &netlink.NexthopInfo{Gw: nh.AsSlice()})
	}
	return nr, nil
}

func rule(r *config.Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = unix.AF_INET
	if r.IPv6 {
		nr.Family = unix.AF_INET6
	}
	if r.From.IsValid() {
		nr.Src = ipNet(r.From)
	}
	if r.To.IsValid() {
		nr.Dst = ipNet(r.To)
	}
	nr.Table = int(r.Table)
	nr.Priority = int(r.Priority)
	nr.Invert = r.Invert
	if !r.NoTrack {
		nr.Protocol = config.RTProtoKeepalived
	}
	return nr
}

func (n *netlinkIP) Add(e ipEntry) error {
	var err error
	switch {
	case e.addr != nil:
		l, a, aerr := n.address(e.addr)
		if aerr != nil {
			return aerr
		}
		err = n.h.AddrAdd(l, a)
	case e.route != nil:
		r, rerr := n.route(e.route)
		if rerr != nil {
			return rerr
		}
		switch e.route.Mode {
		case config.RouteAdd:
			err = n.h.RouteAdd(r)
		case config.RouteAppend:
			err = n.h.RouteAppend(r)
		default: // keepalived's default: NLM_F_CREATE alone, in front
			err = n.h.RouteAddEcmp(r)
		}
	default:
		err = n.h.RuleAdd(rule(e.rule))
	}
	if errors.Is(err, unix.EEXIST) {
		return errIPExists
	}
	return err
}

func (n *netlinkIP) Del(e ipEntry) error {
	var err error
	switch {
	case e.addr != nil:
		l, a, aerr := n.address(e.addr)
		if aerr != nil {
			return nil // the interface is gone, and its addresses with it
		}
		err = n.h.AddrDel(l, a)
	case e.route != nil:
		r, rerr := n.route(e.route)
		if rerr != nil {
			return nil // the interface is gone, and its routes with it
		}
		err = n.h.RouteDel(r)
	default:
		err = n.h.RuleDel(rule(e.rule))
	}
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EADDRNOTAVAIL) {
		return nil
	}
	return err
}
