package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// lvsNotSupported are keywords keepalived 2.2.7 reads in the LVS blocks
// (check_parser.c, check_api.c, check_http.c) that this reader does not
// implement: they are refused, naming the keyword, since ignoring them
// would run the node otherwise than keepalived runs it.
var lvsNotSupported = map[string]string{
	"BFD_CHECK": "BFD checks: they need keepalived's BFD process, which lbnode lacks, and ignoring one would keep a dead real server in service",
}

// lvsIgnored are keywords keepalived reads in the LVS blocks whose effect
// lbnode has no counterpart for and that change nothing in what the node
// forwards: accepted with a warning.
var lvsIgnored = map[string]string{
	"snmp_name": "lbnode has no SNMP agent",
}

// lvsUnknown handles a keyword the LVS reader has no case for in a block
// named where: refused when keepalived knows it, a warning when
// keepalived also ignores it ("Unknown keyword").
func (m *kaMapper) lvsUnknown(n *node, where string) {
	if what, ok := lvsNotSupported[n.name]; ok {
		m.errf(n, "not supported in %s: %s", where, what)
		return
	}
	if why, ok := lvsIgnored[n.name]; ok {
		m.warnf(n, "accepted and ignored: %s", why)
		return
	}
	if msg, ok := unsupported[n.name]; ok {
		m.errf(n, "not supported in %s: %s", where, msg)
		return
	}
	m.warnf(n, "ignored in %s, as keepalived 2.2.7 ignores this unknown keyword", where)
}

// virtualServerGroup reads a virtual_server_group block: entries
// "IP [PORT]", "IP-END [PORT]" (END replacing the last number of the
// address, or a whole address), "IP/LEN [PORT]" and "fwmark N".
func (m *kaMapper) virtualServerGroup(b *node) {
	if !b.block || len(b.args) != 1 {
		m.errf(b, "want virtual_server_group NAME { ... }")
		return
	}
	name := b.args[0].text
	if m.lvs.groups == nil {
		m.lvs.groups = map[string]*kaGroup{}
	}
	if _, dup := m.lvs.groups[name]; dup {
		m.errf(b, "%s defined twice", name)
		return
	}
	g := &kaGroup{pos: b.pos}
	for _, n := range b.children {
		ws := append([]string{n.name}, n.argStrings()...)
		if n.block {
			m.errf(n, "takes no block")
			continue
		}
		if ws[0] == "fwmark" {
			if len(ws) < 2 || len(ws) > 3 {
				m.errf(n, "want fwmark N [inet|inet6]")
				continue
			}
			v, err := parseIntRange(ws[1], 1, 1<<31-1)
			if err != nil {
				m.errf(n, "%s", err)
				continue
			}
			g.fwmarks = append(g.fwmarks, uint32(v))
			continue
		}
		if len(ws) > 2 {
			m.errf(n, "want IP[-END|/LEN] [PORT], got %q", strings.Join(ws, " "))
			continue
		}
		var port uint16
		if len(ws) == 2 {
			p, err := parsePort(ws[1])
			if err != nil {
				m.errf(n, "%s", err)
				continue
			}
			port = p
		}
		addrs, err := groupRange(ws[0])
		if err != nil {
			m.errs.add(n.pos, "virtual_server_group "+name, err.Error())
			continue
		}
		for _, a := range addrs {
			g.addrs = append(g.addrs, netip.AddrPortFrom(a, port))
		}
	}
	if len(g.addrs) == 0 && len(g.fwmarks) == 0 {
		m.warnf(b, "no entries: removed, as keepalived removes it")
		return
	}
	m.lvs.groups[name] = g
}

// lvsState is what the LVS reader keeps while it reads a file.
type lvsState struct {
	groups map[string]*kaGroup
	// haSuspend: the virtual servers (by index) that set ha_suspend.
	haSuspend []vsAt
	// ops: the group virtual servers (by index) that set ops, checked
	// once the group's entries are known.
	ops []vsAt
}

// vsAt is a keyword of the virtual server at index vs.
type vsAt struct {
	vs int
	n  *node
}

// parseUint parses an unsigned number of bitsize bits in base.
func parseUint(s string, base, bitsize int) (uint64, error) {
	return strconv.ParseUint(s, base, bitsize)
}

// kaGroup is a virtual_server_group read from the file.
type kaGroup struct {
	pos     Pos
	addrs   []netip.AddrPort
	fwmarks []uint32
}

// maxGroupRange bounds the addresses one group entry expands to (one
// IPVS service each).
const maxGroupRange = 256

// groupRange expands a virtual_server_group address entry.
func groupRange(s string) ([]netip.Addr, error) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address/length", s)
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("%q: address mask bits not empty (keepalived skips it)", s)
		}
		bits := p.Addr().BitLen() - p.Bits()
		if bits > 8 {
			return nil, fmt.Errorf("%q covers more than %d addresses", s, maxGroupRange)
		}
		var out []netip.Addr
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			out = append(out, a)
		}
		return out, nil
	}
	first, end, isRange := strings.Cut(s, "-")
	a, err := parseAddr(first)
	if err != nil {
		return nil, err
	}
	if !isRange {
		return []netip.Addr{a}, nil
	}
	var last netip.Addr
	if strings.ContainsAny(end, ".:") {
		if last, err = parseAddr(end); err != nil {
			return nil, fmt.Errorf("%q: bad range end", s)
		}
	} else {
		// The end replaces the address's last number: decimal for IPv4,
		// hexadecimal for IPv6.
		base, bitsize := 10, 8
		if a.Is6() {
			base, bitsize = 16, 16
		}
		v, err := parseUint(end, base, bitsize)
		if err != nil {
			return nil, fmt.Errorf("%q: bad range end %q", s, end)
		}
		b := a.AsSlice()
		if a.Is4() {
			b[3] = byte(v)
		} else {
			b[14], b[15] = byte(v>>8), byte(v)
		}
		last, _ = netip.AddrFromSlice(b)
	}
	if last.BitLen() != a.BitLen() || last.Less(a) {
		return nil, fmt.Errorf("%q: the range ends before it starts", s)
	}
	var out []netip.Addr
	for x := a; ; x = x.Next() {
		out = append(out, x)
		if len(out) > maxGroupRange {
			return nil, fmt.Errorf("%q covers more than %d addresses", s, maxGroupRange)
		}
		if x == last {
			break
		}
	}
	return out, nil
}

// lvsEnd resolves what needs the whole file: the virtual servers that
// name a virtual_server_group take its entries.
func (m *kaMapper) lvsEnd() {
	drop := map[int]bool{}
	for i := range m.cfg.VirtualServers {
		vs := &m.cfg.VirtualServers[i]
		if vs.Group == "" {
			continue
		}
		g, ok := m.lvs.groups[vs.Group]
		if !ok {
			m.errs.add(vs.Pos, "virtual_server group", fmt.Sprintf("%s: no virtual_server_group of that name (keepalived would run the file without this virtual server)", vs.Group))
			drop[i] = true
			continue
		}
		vs.GroupAddrs, vs.GroupFWMarks = g.addrs, g.fwmarks
		m.groupPorts(vs)
		switch {
		case vs.Protocol != "":
		case len(g.addrs) > 0:
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: vs.Pos, Directive: "virtual_server", Msg: "no protocol set: UDP, as keepalived defaults to"})
			vs.Protocol = UDP
		default:
			vs.Protocol = TCP
		}
	}
	for _, o := range m.lvs.ops {
		if !drop[o.vs] {
			m.opsNeedsUDP(o.n, &m.cfg.VirtualServers[o.vs])
		}
	}
	for _, h := range m.lvs.haSuspend {
		vs := &m.cfg.VirtualServers[h.vs]
		if vs.FWMark != 0 || len(vs.GroupFWMarks) > 0 {
			m.warnf(h.n, "cannot be used with fwmarks: cleared, as keepalived clears it")
			vs.HASuspend = false
		}
	}
	kept := m.cfg.VirtualServers[:0]
	for i, vs := range m.cfg.VirtualServers {
		if !drop[i] {
			kept = append(kept, vs)
		}
	}
	m.cfg.VirtualServers = kept
}

// groupPorts warns, as keepalived does, about real servers whose port a
// group's services do not use: with DR or TUN, a port other than an
// address entry's, and any port with a fwmark entry (IPVS ignores it).
func (m *kaMapper) groupPorts(vs *VirtualServer) {
	if s := vs.SorryServer; s != nil && s.Kind(vs) != LBKindNAT && s.Addr.Port() != 0 && len(vs.GroupFWMarks) > 0 {
		m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: s.Pos, Directive: "sorry_server", Msg: fmt.Sprintf("port %d with a fwmark in group %s and %s: ignored by IPVS, as keepalived warns", s.Addr.Port(), vs.Group, s.Kind(vs))})
	}
	for _, rs := range vs.RealServers {
		p := rs.Addr.Port()
		if p == 0 || rs.Kind(vs) == LBKindNAT {
			continue
		}
		if len(vs.GroupFWMarks) > 0 {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: rs.Pos, Directive: "real_server", Msg: fmt.Sprintf("port %d with a fwmark in group %s and %s: ignored by IPVS, as keepalived warns", p, vs.Group, rs.Kind(vs))})
		}
		for _, a := range vs.GroupAddrs {
			if a.Port() != p {
				m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: rs.Pos, Directive: "real_server", Msg: fmt.Sprintf("port %d does not match %s of group %s with %s, as keepalived warns", p, a, vs.Group, rs.Kind(vs))})
				break
			}
		}
	}
}
