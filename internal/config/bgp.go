package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BGP is the scale-out side of a node (YAML only): the node announces each
// of its VIPs to the upstream routers by BGP while it can serve it, and the
// routers spread clients over all the nodes that announce it by ECMP. A
// node with BGP and no VRRP instances is one of N active nodes; VRRP and
// BGP may coexist on one node for different VIPs.
type BGP struct {
	Pos Pos
	// ASN is the node's own AS number, 1-4294967295 (not 23456, AS_TRANS).
	ASN uint32
	// RouterID is the node's BGP identifier, an IPv4 address.
	RouterID netip.Addr
	// ListenPort is the TCP port the node accepts sessions on; 0, the
	// default, means the node only connects out to its neighbors.
	ListenPort int
	// WithdrawWait is how long a graceful stop waits after withdrawing the
	// announcements before the node stops serving, so that the routers
	// move new flows away first. Default DefaultBGPWithdrawWait.
	WithdrawWait time.Duration
	Neighbors    []BGPNeighbor
	Announce     []BGPAnnounce
}

// BGPNeighbor is one upstream router.
type BGPNeighbor struct {
	Pos     Pos
	Address netip.Addr
	ASN     uint32
	// Port is the neighbor's BGP port (default 179).
	Port int
	// HoldTime is the BGP hold time the node offers (0 or 3-65535 s;
	// default DefaultBGPHoldTime). Without BFD it bounds how long a dead
	// peer goes unnoticed.
	HoldTime time.Duration
	// BFD turns on single-hop BFD (RFC 5880/5881) for the session, with
	// BFDInterval as both the desired transmit and the required receive
	// interval and BFDMultiplier the detection multiplier: by default
	// 300 ms x 3.
	BFD           bool
	BFDInterval   time.Duration
	BFDMultiplier int
}

// BGPAnnounce is one prefix the node announces: a host route (/32 or /128)
// that the node puts on its loopback interface. The node can serve it
// while at least one real server of a virtual server with that address, or
// with one of FWMarks, is healthy.
type BGPAnnounce struct {
	Pos     Pos
	Prefix  netip.Prefix
	FWMarks []uint32
	// Marks are what the node marks, among the packets the routers (the
	// neighbors, known by their MAC addresses) send to the prefix, so
	// that its fwmark services schedule them while packets that another
	// node forwards to this node's real server, unmarked, go to that real
	// server (no loop where the nodes are each other's real servers).
	Marks []BGPMark
}

// BGPMark marks what the routers send to an announced prefix with
// Protocol and destination port Port (0: any) with FWMark, one of the
// prefix's fwmark services.
type BGPMark struct {
	Pos      Pos
	Protocol Protocol
	Port     int
	FWMark   uint32
}

// Defaults of the bgp section.
const (
	DefaultBGPPort         = 179
	DefaultBGPHoldTime     = 9 * time.Second
	DefaultBGPWithdrawWait = 2 * time.Second
	DefaultBFDInterval     = 300 * time.Millisecond
	DefaultBFDMultiplier   = 3
	minBFDInterval         = 10 * time.Millisecond
	maxBFDInterval         = 10 * time.Second
	asTrans                = 23456
	maxASN                 = 1<<32 - 1
	maxBGPHoldTime         = 65535 * time.Second
	minBGPHoldTime         = 3 * time.Second
	maxBGPWithdrawWait     = 5 * time.Minute
)

// validateBGP checks what the reader cannot see on its own: duplicates,
// and that every announced prefix has a virtual server that tells whether
// the node can serve it.
func validateBGP(l *errList, b *BGP, vss []VirtualServer) {
	if b.ASN == 0 {
		l.add(b.Pos, "bgp.asn", "missing")
	}
	if !b.RouterID.IsValid() {
		l.add(b.Pos, "bgp.router_id", "missing")
	} else if !b.RouterID.Is4() {
		l.add(b.Pos, "bgp.router_id", fmt.Sprintf("%q is not an IPv4 address", b.RouterID))
	}
	if len(b.Neighbors) == 0 {
		l.add(b.Pos, "bgp.neighbors", "missing: at least one router to announce to")
	}
	seen := map[netip.Addr]bool{}
	for i, n := range b.Neighbors {
		if n.Address.IsValid() && seen[n.Address] {
			l.add(n.Pos, fmt.Sprintf("bgp.neighbors[%d].address", i), fmt.Sprintf("%q is listed twice", n.Address))
		}
		seen[n.Address] = true
	}
	if len(b.Announce) == 0 {
		l.add(b.Pos, "bgp.announce", "missing: at least one VIP to announce")
	}
	served := map[netip.Addr]bool{}
	marks := map[uint32]bool{}
	for _, vs := range vss {
		if vs.Addr.IsValid() {
			served[vs.Addr.Addr()] = true
		}
		if vs.FWMark != 0 {
			marks[vs.FWMark] = true
		}
		for _, m := range vs.GroupFWMarks {
			marks[m] = true
		}
	}
	dup := map[netip.Prefix]bool{}
	for i, a := range b.Announce {
		path := fmt.Sprintf("bgp.announce[%d]", i)
		if !a.Prefix.IsValid() {
			continue
		}
		if dup[a.Prefix] {
			l.add(a.Pos, path, fmt.Sprintf("%q is listed twice", a.Prefix))
		}
		dup[a.Prefix] = true
		if len(a.FWMarks) == 0 && !served[a.Prefix.Addr()] {
			l.add(a.Pos, path, fmt.Sprintf("no virtual server has the address %s: nothing tells whether this node can serve it (list its fwmark services with fwmark)", a.Prefix.Addr()))
		}
		for _, m := range a.FWMarks {
			if !marks[m] {
				l.add(a.Pos, path+".fwmark", fmt.Sprintf("no virtual server has fwmark %d", m))
			}
		}
		type match struct {
			proto Protocol
			port  int
		}
		matches := map[match]bool{}
		for j, m := range a.Marks {
			mp := fmt.Sprintf("%s.mark[%d]", path, j)
			if m.FWMark != 0 && !slices.Contains(a.FWMarks, m.FWMark) {
				l.add(m.Pos, mp+".fwmark", fmt.Sprintf("%d is not one of the prefix's fwmark services %v: the marked packets would be scheduled by none", m.FWMark, a.FWMarks))
			}
			k := match{m.Protocol, m.Port}
			if matches[k] {
				l.add(m.Pos, mp, fmt.Sprintf("%s port %d is marked twice", m.Protocol, m.Port))
			}
			matches[k] = true
		}
	}
}

// bgpWarnings returns what a bgp section allows but the design of
// consistent forwarding across nodes (internal/agent/bgp_serve.go) warns
// against: an announced prefix served by a virtual server whose scheduler
// is not mh, and announced TCP (or fwmark) services without
// net.ipv4.vs.sloppy_tcp on, SCTP services without net.ipv4.vs.sloppy_sctp
// on. A prefix no virtual server serves is an error (validateBGP).
func bgpWarnings(b *BGP, vss []VirtualServer, sysctls []Sysctl) []Warning {
	var out []Warning
	var tcp, sctp bool
	for i, a := range b.Announce {
		if !a.Prefix.IsValid() {
			continue
		}
		for j := range vss {
			vs := &vss[j]
			byAddr := vs.FWMark == 0 && vs.Group == "" && vs.Addr.Addr() == a.Prefix.Addr()
			if !byAddr && !(vs.FWMark != 0 && slices.Contains(a.FWMarks, vs.FWMark)) {
				continue
			}
			switch {
			case vs.FWMark != 0 || vs.Protocol == TCP:
				tcp = true
			case vs.Protocol == SCTP:
				sctp = true
			}
			if vs.LBAlgo != "mh" {
				out = append(out, Warning{Pos: a.Pos, Directive: fmt.Sprintf("bgp.announce[%d]", i),
					Msg: fmt.Sprintf("%s is served by virtual server %s (%s) with the %s scheduler, not mh: flows moved between nodes by ECMP will reach a different real server", a.Prefix, vs.Key(), vs.Pos, vs.LBAlgo)})
			}
		}
	}
	for _, need := range []struct {
		on     bool
		key    string
		proto  string
		answer string
	}{
		{tcp, "net.ipv4.vs.sloppy_tcp", "TCP", "hands it to its own TCP stack, which resets it"},
		{sctp, "net.ipv4.vs.sloppy_sctp", "SCTP", "hands it to its own SCTP stack, which aborts it"},
	} {
		if !need.on {
			continue
		}
		v, set := sysctlValue(sysctls, need.key)
		if n, err := strconv.Atoi(strings.TrimSpace(v)); set && err == nil && n != 0 {
			continue
		}
		state := "which lacks it"
		if set {
			state = fmt.Sprintf("not %q", v)
		}
		out = append(out, Warning{Pos: b.Pos, Directive: "bgp",
			Msg: fmt.Sprintf("announced %s services need %s: 1 in sysctls, %s: a node that receives a connection moved to it by ECMP mid-stream %s", need.proto, need.key, state, need.answer)})
	}
	return out
}

// sysctlValue returns the last value sysctls give key, written with dots
// or slashes as sysctl(8) accepts.
func sysctlValue(sysctls []Sysctl, key string) (string, bool) {
	v, set := "", false
	for _, s := range sysctls {
		if strings.ReplaceAll(s.Key, "/", ".") == key {
			v, set = s.Value, true
		}
	}
	return v, set
}
