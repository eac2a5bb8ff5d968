package config

import (
	"fmt"
	"time"
)

// GARPGroup is a garp_group block: the gratuitous ARPs (GARPInterval) and
// unsolicited neighbour advertisements (GNAInterval) sent on its
// interfaces are paced together, one per interval across them, in place
// of vrrp_garp_interval and vrrp_gna_interval there; a zero interval
// sends them at once.
type GARPGroup struct {
	Pos                       Pos
	Interfaces                []string
	GARPInterval, GNAInterval time.Duration
}

// maxGARPGroupInterval is keepalived's bound on a garp_group interval:
// INT_MAX microseconds (vrrp_parser.c, read_decimal_unsigned_strvec).
const maxGARPGroupInterval = 2147483647 * time.Microsecond

// garpGroup reads a garp_group block as keepalived 2.2.7 does
// (vrrp_parser.c, garp_group_*_handler): garp_interval and gna_interval
// in seconds with up to six decimals, interface NAME or an interfaces
// block; an interface already in a group is ignored with keepalived's
// message, and a group without any interval is dropped with it.
func (m *kaMapper) garpGroup(n *node) {
	if !m.block(n) {
		return
	}
	g := GARPGroup{Pos: n.pos}
	have, aggregated := false, false
	add := func(c *node, name string) {
		if !validIfName(name) {
			m.errf(c, "%q is not an interface name", name)
			return
		}
		for _, o := range m.cfg.Global.GARPGroups {
			for _, x := range o.Interfaces {
				if x == name {
					m.warnf(c, "%s is in the garp_group of %s already: ignored here, as keepalived does (\"garp_group already specified for %s - ignoring\")", name, o.Pos, name)
					return
				}
			}
		}
		for _, x := range g.Interfaces {
			if x == name {
				m.warnf(c, "%s is in this garp_group already: ignored, as keepalived does (\"garp_group already specified for %s - ignoring\")", name, name)
				return
			}
		}
		g.Interfaces = append(g.Interfaces, name)
	}
	for _, c := range n.children {
		switch c.name {
		case "garp_interval", "gna_interval":
			s, ok := m.value(c)
			if !ok {
				continue
			}
			d, err := parseDecimalSeconds(s, 0, maxGARPGroupInterval)
			if err != nil {
				// keepalived reports it and then ignores the line or,
				// for some values ("abc", too many decimals), reads
				// something else.
				m.errf(c, "%s (keepalived 2.2.7 reports it and ignores the line or reads another value)", err)
				continue
			}
			if c.name == "garp_interval" {
				g.GARPInterval = d
			} else {
				g.GNAInterval = d
			}
			have = true
		case "interface":
			if s, ok := m.value(c); ok {
				add(c, s)
			}
		case "interfaces":
			if !m.block(c) {
				continue
			}
			aggregated = true
			if len(c.children) == 0 {
				m.warnf(c, "empty: no interface, as keepalived says (\"Warning - empty garp_group interfaces block\")")
			}
			for _, x := range c.children {
				if x.block || len(x.args) > 0 {
					m.errf(x, "want one interface name per line")
					continue
				}
				add(x, x.name)
			}
		default:
			m.unknown(c, "in garp_group")
		}
	}
	// keepalived numbers the kept groups with an interfaces block from 1,
	// the others 0, in its messages.
	number := 0
	if aggregated {
		number = m.garpAggregated + 1
	}
	if !have {
		m.warnf(n, "%s", fmt.Sprintf("no garp_interval or gna_interval: the group is dropped, as keepalived does (\"garp group %d does not have any delay set - removing\")", number))
		return
	}
	if aggregated {
		m.garpAggregated++
	}
	m.cfg.Global.GARPGroups = append(m.cfg.Global.GARPGroups, g)
}
