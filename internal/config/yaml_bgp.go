package config

import (
	"fmt"
	"net/netip"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The YAML bgp section:
//
//	bgp:
//	  asn: 65001
//	  router_id: 10.0.0.11
//	  neighbors:
//	    - address: 10.0.0.1
//	      asn: 65000
//	      bfd: true          # 300 ms x 3 unless bfd_interval / bfd_multiplier say otherwise
//	  announce:
//	    - 192.168.100.1/32   # or {prefix: 192.168.100.1/32, fwmark: [1]}
//	    - prefix: 192.168.100.2/32
//	      fwmark: [2]
//	      mark:              # what the routers send there, marked for the fwmark service
//	        - {protocol: TCP, port: 80, fwmark: 2}
type yBGP struct {
	ASN          yaml.Node      `yaml:"asn"`
	RouterID     yaml.Node      `yaml:"router_id"`
	ListenPort   yaml.Node      `yaml:"listen_port"`
	WithdrawWait yaml.Node      `yaml:"withdraw_wait"`
	Neighbors    []yBGPNeighbor `yaml:"neighbors"`
	Announce     yaml.Node      `yaml:"announce"`
}

type yBGPNeighbor struct {
	Address       yaml.Node `yaml:"address"`
	ASN           yaml.Node `yaml:"asn"`
	Port          yaml.Node `yaml:"port"`
	HoldTime      yaml.Node `yaml:"hold_time"`
	BFD           yaml.Node `yaml:"bfd"`
	BFDInterval   yaml.Node `yaml:"bfd_interval"`
	BFDMultiplier yaml.Node `yaml:"bfd_multiplier"`
}

func (y *yReader) bgp(b *yBGP) *BGP {
	out := &BGP{WithdrawWait: DefaultBGPWithdrawWait}
	out.Pos = y.firstPos(&b.ASN, &b.RouterID, &b.ListenPort, &b.WithdrawWait, &b.Announce)
	if out.Pos.Line == 0 && len(b.Neighbors) > 0 {
		out.Pos = y.firstPos(&b.Neighbors[0].Address, &b.Neighbors[0].ASN)
	}
	y.asn(&b.ASN, "bgp.asn", &out.ASN)
	if s, ok := y.scalar(&b.RouterID, "bgp.router_id"); ok {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			y.errf(&b.RouterID, "bgp.router_id", "%q is not an IPv4 address", s)
		} else {
			out.RouterID = a
		}
	}
	y.intv(&b.ListenPort, "bgp.listen_port", 0, 65535, &out.ListenPort)
	y.seconds(&b.WithdrawWait, "bgp.withdraw_wait", 0, maxBGPWithdrawWait, &out.WithdrawWait)
	for i := range b.Neighbors {
		out.Neighbors = append(out.Neighbors, y.bgpNeighbor(&b.Neighbors[i], fmt.Sprintf("bgp.neighbors[%d]", i)))
	}
	for i, it := range y.list(&b.Announce, "bgp.announce") {
		if a, ok := y.bgpAnnounce(it, fmt.Sprintf("bgp.announce[%d]", i)); ok {
			out.Announce = append(out.Announce, a)
		}
	}
	return out
}

func (y *yReader) bgpNeighbor(n *yBGPNeighbor, path string) BGPNeighbor {
	out := BGPNeighbor{Port: DefaultBGPPort, HoldTime: DefaultBGPHoldTime, BFDInterval: DefaultBFDInterval, BFDMultiplier: DefaultBFDMultiplier}
	out.Pos = y.firstPos(&n.Address, &n.ASN, &n.Port, &n.HoldTime, &n.BFD, &n.BFDInterval, &n.BFDMultiplier)
	p := func(f string) string { return path + "." + f }
	if absent(&n.Address) {
		y.errs.add(out.Pos, p("address"), "missing")
	}
	y.addr(&n.Address, p("address"), &out.Address)
	if absent(&n.ASN) {
		y.errs.add(out.Pos, p("asn"), "missing")
	}
	y.asn(&n.ASN, p("asn"), &out.ASN)
	y.intv(&n.Port, p("port"), 1, 65535, &out.Port)
	if s, ok := y.scalar(&n.HoldTime, p("hold_time")); ok {
		d, err := parseSeconds(s, 0, maxBGPHoldTime)
		switch {
		case err != nil:
			y.errf(&n.HoldTime, p("hold_time"), "%s", err)
		case d != 0 && d < minBGPHoldTime:
			y.errf(&n.HoldTime, p("hold_time"), "%q is neither 0 nor at least 3 s (RFC 4271 4.2)", s)
		default:
			out.HoldTime = d
		}
	}
	y.boolean(&n.BFD, p("bfd"), &out.BFD)
	y.seconds(&n.BFDInterval, p("bfd_interval"), minBFDInterval, maxBFDInterval, &out.BFDInterval)
	y.intv(&n.BFDMultiplier, p("bfd_multiplier"), 1, 255, &out.BFDMultiplier)
	if !out.BFD {
		for _, f := range []struct {
			n    *yaml.Node
			name string
		}{{&n.BFDInterval, "bfd_interval"}, {&n.BFDMultiplier, "bfd_multiplier"}} {
			if !absent(f.n) {
				y.errf(f.n, p(f.name), "set without bfd: true")
			}
		}
	}
	return out
}

// bgpAnnounce reads an announce item: a prefix, or a mapping with the
// prefix and the fwmark services that serve it.
func (y *yReader) bgpAnnounce(n *yaml.Node, path string) (BGPAnnounce, bool) {
	out := BGPAnnounce{Pos: y.pos(n)}
	pfx := n
	if n.Kind == yaml.MappingNode {
		pfx = nil
		for _, kv := range y.pairs(n, path) {
			switch kv[0].Value {
			case "prefix":
				pfx = kv[1]
			case "fwmark":
				for i, m := range y.list(kv[1], path+".fwmark") {
					var v int
					y.intv(m, fmt.Sprintf("%s.fwmark[%d]", path, i), 1, maxASN, &v)
					if v != 0 {
						out.FWMarks = append(out.FWMarks, uint32(v))
					}
				}
			case "mark":
				for i, m := range y.list(kv[1], path+".mark") {
					if bm, ok := y.bgpMark(m, fmt.Sprintf("%s.mark[%d]", path, i)); ok {
						out.Marks = append(out.Marks, bm)
					}
				}
			default:
				y.errf(kv[0], path+"."+kv[0].Value, "unknown field")
			}
		}
		if pfx == nil {
			y.errf(n, path+".prefix", "missing")
			return out, false
		}
	}
	s, ok := y.scalar(pfx, path)
	if !ok {
		return out, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil && a.Zone() == "" {
			p = netip.PrefixFrom(a, a.BitLen())
			err = nil
		}
	}
	switch {
	case err != nil || p.Addr().Zone() != "":
		y.errf(pfx, path, "%q is not a prefix such as 192.168.100.1/32", s)
		return out, false
	case p.Bits() != p.Addr().BitLen():
		y.errf(pfx, path, "%q is not a host route (/%d): a node announces only its VIPs", s, p.Addr().BitLen())
		return out, false
	}
	out.Prefix = p
	return out, true
}

// bgpMark reads a mark item: {protocol: TCP, port: 80, fwmark: 1}, the
// port optional (any port).
func (y *yReader) bgpMark(n *yaml.Node, path string) (BGPMark, bool) {
	out := BGPMark{Pos: y.pos(n)}
	if n.Kind != yaml.MappingNode {
		y.errf(n, path, "not a mapping such as {protocol: TCP, port: 80, fwmark: 1}")
		return out, false
	}
	var proto, mark *yaml.Node
	for _, kv := range y.pairs(n, path) {
		switch kv[0].Value {
		case "protocol":
			proto = kv[1]
			if s, ok := y.scalar(kv[1], path+".protocol"); ok {
				p, err := parseProtocol(s)
				if err != nil {
					y.errf(kv[1], path+".protocol", "%s", err)
				}
				out.Protocol = p
			}
		case "port":
			y.intv(kv[1], path+".port", 1, 65535, &out.Port)
		case "fwmark":
			mark = kv[1]
			var v int
			y.intv(kv[1], path+".fwmark", 1, maxASN, &v)
			out.FWMark = uint32(v)
		default:
			y.errf(kv[0], path+"."+kv[0].Value, "unknown field")
		}
	}
	if proto == nil {
		y.errs.add(out.Pos, path+".protocol", "missing (TCP, UDP or SCTP)")
	}
	if mark == nil {
		y.errs.add(out.Pos, path+".fwmark", "missing")
	}
	return out, proto != nil && mark != nil
}

func (y *yReader) asn(n *yaml.Node, path string, dst *uint32) {
	s, ok := y.scalar(n, path)
	if !ok {
		return
	}
	v, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil || v < 1 || v > maxASN:
		y.errf(n, path, "%q is not an AS number 1-4294967295", s)
	case v == asTrans:
		y.errf(n, path, "%q is AS_TRANS (RFC 6793), not a real AS number", s)
	default:
		*dst = uint32(v)
	}
}
