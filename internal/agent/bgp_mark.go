package agent

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
)

// markRules are the nftables marking rules of b's announcements: what a
// router sends to an announced prefix with a marked protocol and port
// gets the mark of the prefix's fwmark service (see config.BGPMark).
func markRules(b *config.BGP) []nat.MarkRule {
	var out []nat.MarkRule
	for _, a := range b.Announce {
		for _, m := range a.Marks {
			out = append(out, nat.MarkRule{Dst: a.Prefix.Addr(), Proto: strings.ToLower(string(m.Protocol)), Port: uint16(m.Port), Mark: m.FWMark})
		}
	}
	return out
}

// routerMACs follows the link-layer addresses of the BGP neighbors (the
// routers) in the neighbor table: the sources whose packets are marked.
type routerMACs struct {
	neighbors map[netip.Addr]bool
	macs      map[netip.Addr]net.HardwareAddr
}

func newRouterMACs(b *config.BGP) *routerMACs {
	r := &routerMACs{neighbors: map[netip.Addr]bool{}, macs: map[netip.Addr]net.HardwareAddr{}}
	for _, n := range b.Neighbors {
		r.neighbors[n.Address.Unmap()] = true
	}
	return r
}

// update takes one neighbor entry: ip's link-layer address mac, valid
// says whether the entry holds a usable one. It reports whether the set
// of sources changed. A neighbor whose entry fails or goes keeps its
// last address: a router that does not answer sends nothing to mark, and
// one that comes back with the same address is marked at once.
func (r *routerMACs) update(ip netip.Addr, mac net.HardwareAddr, valid bool) bool {
	ip = ip.Unmap()
	if !r.neighbors[ip] || !valid || len(mac) != 6 {
		return false
	}
	if bytes.Equal(r.macs[ip], mac) {
		return false
	}
	r.macs[ip] = slices.Clone(mac)
	return true
}

// sources is the set, sorted, without duplicates.
func (r *routerMACs) sources() []net.HardwareAddr {
	var out []net.HardwareAddr
	for _, m := range r.macs {
		if !slices.ContainsFunc(out, func(o net.HardwareAddr) bool { return bytes.Equal(o, m) }) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b net.HardwareAddr) int { return bytes.Compare(a, b) })
	return out
}
