package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// keepalived 2.2.7 compares some values byte for byte and reads anything
// else as something the file's author rarely meant: `state master` is an
// unknown state and the instance runs as BACKUP, `auth_type pass` an
// unknown type and the instance runs without authentication, `lb_kind dr`
// an unknown method and the service forwards by NAT. A reader that
// upper-cased them would run a node that disagrees with a keepalived peer
// reading the same file, so they are refused here, saying what keepalived
// would do.

// exactWord is a keepalived setting whose values are compared case
// sensitively, and what keepalived does with any other value.
type exactWord struct {
	values    []string
	otherwise string
}

var exactWords = map[string]exactWord{
	"state":      {[]string{"MASTER", "BACKUP"}, "runs the instance as BACKUP"},
	"auth_type":  {[]string{"PASS", "AH"}, "runs the instance without authentication"},
	"lb_kind":    {[]string{"NAT", "DR", "TUN"}, "ignores the line and forwards by NAT"},
	"lvs_method": {[]string{"NAT", "DR", "TUN"}, "ignores the line and forwards by NAT"},
}

// exactValue returns s when it is one of the values keepalived reads for
// directive, or an error saying what keepalived would do with it.
func exactValue(directive, s string) (string, error) {
	w := exactWords[directive]
	if slices.Contains(w.values, s) {
		return s, nil
	}
	list := strings.Join(w.values[:len(w.values)-1], ", ") + " or " + w.values[len(w.values)-1]
	if up := strings.ToUpper(s); slices.Contains(w.values, up) {
		return "", fmt.Errorf("%q is not %s: keepalived 2.2.7 reads these in upper case only and otherwise %s; write %s", s, list, w.otherwise, up)
	}
	return "", fmt.Errorf("%q is not %s (keepalived 2.2.7 %s)", s, list, w.otherwise)
}

// checkLBKindCase refuses, in a virtual_server block, an lb_kind that
// keepalived would not read as written; the LVS reader itself accepts any
// case.
func (m *kaMapper) checkLBKindCase(b *node) {
	for _, n := range b.children {
		if (n.name == "lb_kind" || n.name == "lvs_method") && len(n.args) >= 1 && !n.block {
			s := n.args[0].text
			if _, err := exactValue(n.name, s); err != nil && slices.Contains(exactWords[n.name].values, strings.ToUpper(s)) {
				m.errf(n, "%s", err)
			}
		}
	}
}

// vrrpGlobal reads the global_defs settings of the VRRP wire protocol
// (vrrp_strict: see strictGlobal).
func (m *kaMapper) vrrpGlobal(n *node) {
	g := &m.cfg.Global
	switch n.name {
	case "vrrp_version":
		m.intValue(n, 2, 3, &g.VRRPVersion)
	case "vrrp_mcast_group4", "vrrp_mcast_group6":
		s, ok := m.value(n)
		if !ok {
			return
		}
		a, err := netip.ParseAddr(s)
		switch {
		case n.name == "vrrp_mcast_group4" && (err != nil || !a.Is4() || !a.IsMulticast()):
			m.errf(n, "%q is not an IPv4 multicast address", s)
		case n.name == "vrrp_mcast_group4":
			g.MulticastGroup4 = a
		case err != nil || a.Zone() != "" || !a.Is6() || !a.IsLinkLocalMulticast():
			m.errf(n, "%q is not an IPv6 link-local multicast address (ff02::/16)", s)
		default:
			g.MulticastGroup6 = a
		}
	}
}

// isVRRPWireGlobal reports whether vrrpGlobal reads the global setting.
func isVRRPWireGlobal(name string) bool {
	switch name {
	case "vrrp_version", "vrrp_mcast_group4", "vrrp_mcast_group6":
		return true
	}
	return false
}

// vrrpVersion is the instance's VRRP version: its own, the global one, or
// keepalived's default (2 for IPv4, 3 for IPv6).
func (in *VRRPInstance) vrrpVersion(g Global) int {
	switch {
	case in.Version != 0:
		return in.Version
	case g.VRRPVersion != 0:
		return g.VRRPVersion
	case in.IPv6():
		return 3
	}
	return 2
}

// IPv6 reports whether the instance is an IPv6 one: native_ipv6, or its
// first VIP is IPv6.
func (in *VRRPInstance) IPv6() bool {
	return in.NativeIPv6 || len(in.VirtualIPs) > 0 && in.VirtualIPs[0].Prefix.Addr().Is6()
}

// advertIntervals makes each keepalived instance's advert_int what
// keepalived 2.2.7 makes it once its version is known (vrrp.c,
// vrrp_complete_instance): VRRPv2 rounds to whole seconds, VRRPv3 to
// centiseconds, at most 40.95s; each change is a warning, as keepalived
// warns.
func (m *kaMapper) advertIntervals() {
	for i := range m.cfg.VRRP {
		in, at := &m.cfg.VRRP[i], m.advertAt[i]
		d := in.AdvertInt
		switch in.vrrpVersion(m.cfg.Global) {
		case 2:
			if d%time.Second != 0 {
				in.AdvertInt = max((d + time.Second/2).Truncate(time.Second), time.Second)
			}
		default:
			switch {
			case d >= maxAdvertIntV3+centisecond:
				in.AdvertInt = maxAdvertIntV3
			case d%centisecond != 0:
				in.AdvertInt = max((d + centisecond/2).Truncate(centisecond), centisecond)
			}
		}
		if in.AdvertInt != d {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: at, Directive: "advert_int",
				Msg: fmt.Sprintf("%s is not a valid VRRPv%d interval: %s, as keepalived rounds it", fmtDur(d), in.vrrpVersion(m.cfg.Global), fmtDur(in.AdvertInt))})
		}
	}
}

// multicastGroup is where the instance's adverts go.
func (g Global) multicastGroup(in *VRRPInstance) netip.Addr {
	if in.MulticastGroup.IsValid() {
		return in.MulticastGroup
	}
	if len(in.VirtualIPs) > 0 && in.VirtualIPs[0].Prefix.Addr().Is6() {
		if g.MulticastGroup6.IsValid() {
			return g.MulticastGroup6
		}
		return netip.MustParseAddr("ff02::12")
	}
	if g.MulticastGroup4.IsValid() {
		return g.MulticastGroup4
	}
	return netip.MustParseAddr("224.0.0.18")
}
