package config

import (
	"fmt"
	"strconv"
)

// maxPEName is the longest persistence engine name IPVS takes
// (IP_VS_PENAME_MAXLEN less its NUL), where keepalived truncates.
const maxPEName = 15

// forwarding reads a forwarding method as keepalived 2.2.7's
// svr_forwarding_handler (check_parser.c) reads lvs_method, lb_kind and
// sorry_server_lvs_method: NAT, DR or TUN, with TUN's [type ipip|gue|gre]
// [port N] [nocsum|csum|remcsum]. what names the server in messages
// ("virtual", "real", "sorry"). ok is false when the line is refused.
func (m *kaMapper) forwarding(n *node, what string) (LBKind, Tunnel, bool) {
	ws, ok := m.words(n)
	if !ok {
		return "", Tunnel{}, false
	}
	k, err := parseLBKind(ws[0])
	if err != nil {
		m.errf(n, "%s", err)
		return "", Tunnel{}, false
	}
	if what != "virtual" && string(k) != ws[0] {
		// The virtual server's is checked with the block (checkLBKindCase).
		m.errf(n, "%q is not NAT, DR or TUN: keepalived 2.2.7 reads these in upper case only and otherwise ignores the line (the %s server keeps the virtual server's method); write %s", ws[0], what, k)
		return "", Tunnel{}, false
	}
	var t Tunnel
	for i := 1; i < len(ws); i++ {
		switch w := ws[i]; w {
		case "type":
			if i+1 == len(ws) {
				m.errf(n, "missing tunnel type for %s server", what)
				return "", Tunnel{}, false
			}
			i++
			switch ws[i] {
			case "ipip":
				t.Type = ""
			case "gue", "gre":
				t.Type = ws[i]
			default:
				m.errf(n, "unknown tunnel type %s for %s server", ws[i], what)
				return "", Tunnel{}, false
			}
		case "port":
			if i+1 == len(ws) {
				m.errf(n, "missing port for %s server gue tunnel", what)
				return "", Tunnel{}, false
			}
			i++
			p, err := strconv.ParseUint(ws[i], 10, 16)
			if err != nil || p == 0 {
				m.errf(n, "invalid gue tunnel port %s for %s server", ws[i], what)
				return "", Tunnel{}, false
			}
			t.Port = uint16(p)
		case "nocsum":
			t.Csum = ""
		case "csum", "remcsum":
			t.Csum = w
		default:
			m.errf(n, "invalid tunnel option %s for %s server", w, what)
			return "", Tunnel{}, false
		}
	}
	switch {
	case (t.Type == "gue") != (t.Port != 0):
		m.errf(n, "gue tunnels require port, otherwise cannot have port")
		return "", Tunnel{}, false
	case t.Type == "" && t.Csum != "":
		m.errf(n, "ipip tunnels do not support checksum option")
		return "", Tunnel{}, false
	case t.Type == "gre" && t.Csum == "remcsum":
		m.errf(n, "gre tunnels do not support remote checksum option")
		return "", Tunnel{}, false
	}
	// keepalived keeps the tunnel settings with any method; IPVS uses
	// them only with TUN.
	return k, t, true
}

// ipFamily reads a virtual server's ip_family, inet or inet6, which must
// agree with its address (or its real servers', for a fwmark service).
func (m *kaMapper) ipFamily(n *node, vs *VirtualServer) {
	s, ok := m.value(n)
	if !ok {
		return
	}
	var fam int
	switch s {
	case "inet":
		fam = 4
	case "inet6":
		fam = 6
	default:
		m.errf(n, "unknown address family %s (keepalived 2.2.7 ignores the line)", s)
		return
	}
	conflict := vs.Addr.IsValid() && (vs.Addr.Addr().Is4() != (fam == 4))
	for _, rs := range vs.RealServers {
		if rs.Addr.Addr().Is4() != (fam == 4) {
			conflict = true
		}
	}
	if conflict {
		m.errf(n, "virtual server specified family %s conflicts with server family (keepalived 2.2.7 ignores the line)", s)
		return
	}
	vs.IPFamily = fam
}

// Kind is the real server's forwarding method: its own, or vs's.
func (rs *RealServer) Kind(vs *VirtualServer) LBKind {
	if rs.LBKind != "" {
		return rs.LBKind
	}
	return vs.LBKind
}

// Kind is the sorry server's forwarding method: its own, or vs's.
func (s *SorryServer) Kind(vs *VirtualServer) LBKind {
	if s.LBKind != "" {
		return s.LBKind
	}
	return vs.LBKind
}

// String is the method as keepalived.conf writes it.
func (t Tunnel) String() string {
	s := "type ipip"
	if t.Type != "" {
		s = "type " + t.Type
	}
	if t.Port != 0 {
		s += fmt.Sprintf(" port %d", t.Port)
	}
	if t.Csum != "" {
		s += " " + t.Csum
	}
	return s
}
