package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
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
		if (n.name == "lb_kind" || n.name == "lvs_method") && len(n.args) == 1 && !n.block {
			s := n.args[0].text
			if _, err := exactValue(n.name, s); err != nil && slices.Contains(exactWords[n.name].values, strings.ToUpper(s)) {
				m.errf(n, "%s", err)
			}
		}
	}
}

// vrrpGlobal reads the global_defs settings of the VRRP wire protocol that
// the speaker does not implement yet. The values that change nothing are
// accepted; any other is refused, as a node that ignored it would speak to
// its keepalived peer in a way the peer does not hear.
func (m *kaMapper) vrrpGlobal(n *node) {
	switch n.name {
	case "vrrp_version":
		s, ok := m.value(n)
		if !ok {
			return
		}
		switch s {
		case "2":
		case "3":
			m.errf(n, "VRRP version 3 is not supported yet: lbnode would send version 2 adverts that a keepalived peer reading this file drops")
		default:
			m.errf(n, "%q is not 2 or 3", s)
		}
	case "vrrp_mcast_group4", "vrrp_mcast_group6":
		s, ok := m.value(n)
		if !ok {
			return
		}
		def, fam := "224.0.0.18", "IPv4"
		if n.name == "vrrp_mcast_group6" {
			def, fam = "ff02::12", "IPv6"
		}
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil || a.Zone() != "" || !a.IsMulticast() || (fam == "IPv4") != a.Is4():
			m.errf(n, "%q is not an %s multicast address", s, fam)
		case a != netip.MustParseAddr(def):
			m.errf(n, "a multicast group other than %s is not supported yet: lbnode would advertise to %s, which a keepalived peer reading this file does not listen to", def, def)
		}
	case "vrrp_strict":
		if m.flag(n) {
			m.errf(n, "not supported yet: keepalived's strict RFC mode (no authentication, no unicast, firewall rules for the VIPs) is not implemented, and ignoring it would run a node that a strict keepalived peer does not accept")
		}
	}
}

// isVRRPWireGlobal reports whether vrrpGlobal reads the global setting.
func isVRRPWireGlobal(name string) bool {
	switch name {
	case "vrrp_version", "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_strict":
		return true
	}
	return false
}
