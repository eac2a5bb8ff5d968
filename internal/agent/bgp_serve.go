package agent

import (
	"net/netip"
	"reflect"
	"slices"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
)

// Scale-out by BGP: past one active balancer per VIP (VRRP), every node
// with a bgp section announces the VIPs it can serve to the upstream
// routers, which spread the flows over the announcing nodes by ECMP.
//
// # When a node announces
//
//   - A VIP is servable while at least one real server of its virtual
//     servers (by address, or the fwmark services listed with it) has a
//     weight above 0 in the IPVS table the agent wants (servable). Every
//     table the agent applies is passed to the speaker after the kernel
//     has it, and the speaker announces or withdraws to match.
//   - A graceful stop withdraws everything first, waits withdraw_wait so
//     that the routers move the flows away, and only then lets the agent
//     drain and remove the rest.
//   - A failed session (hold timer, or BFD, which makes GoBGP reset the
//     session) takes its routes with it on the router; GoBGP announces them
//     again when the session is back. A node that dies without a word is
//     caught by the router's BFD (300 ms x 3 by default).
//   - The VIP is on the loopback for the node's lifetime (scope host), so
//     that IPVS, which works on locally delivered packets, sees it, and
//     packets that still arrive after a withdrawal are served.
//
// # Consistent forwarding across nodes
//
// When the routers' set of next hops changes (a node dies, withdraws or
// comes back), ECMP moves some flows from one node to another, including
// flows between nodes that stayed. For such a flow to survive, the node it
// lands on must pick the same real server without having seen its SYN:
//
//   - the mh (Maglev) scheduler, whose choice depends only on the packet's
//     source (address, and port with the mh-port flag) and the list of
//     destinations with their weights, not on any per-node state;
//   - the same real servers in the same order on every node: the kernel's
//     list is in insertion order (newest first), so a real server removed
//     on failure and added back on one node only would reorder that node's
//     list; inhibit_on_failure keeps a failed real server in the list with
//     weight 0 instead;
//   - net.ipv4.vs.sloppy_tcp=1 (sysctls section), so that a node creates a
//     connection entry for a mid-stream packet rather than handing it to
//     its own TCP stack, which answers with a reset. The IPVS sync daemon
//     does the same job with per-connection state instead, at the cost of
//     multicast traffic between the nodes.
//
// Loops: where the nodes are also real servers (each node's nginx behind
// IPVS, as in the two-node design), a packet that one node forwards to
// another node's real server arrives there with the VIP as destination and
// would be scheduled again: with mh and the same lists it lands on the
// local real server after a second scheduling, but with lists that differ
// for a moment (a check that failed on one node only) or another
// scheduler it is forwarded on, and may come back. So the VIP is served by
// a fwmark virtual server, and the node marks only what the routers send
// (announce: [{prefix: VIP/32, fwmark: [1], mark: [{protocol: TCP, port:
// 80, fwmark: 1}]}]). The routers are told apart by their link-layer
// address, the source of every packet they forward to the node, which
// works where routers and nodes share one segment as well as where they
// do not; an interface name would not. bgp_mark_linux.go keeps the
// addresses of the neighbors, from the neighbor table (the BGP sessions
// keep their entries fresh), in the set of an nftables table of its own
// (nat.Marker) at the prerouting hook, mangle priority, before IPVS sees
// the packet at local-in:
//
//	ether saddr @sources ip daddr VIP tcp dport 80 meta mark set 0x00000001
//
// A packet another node forwards carries that node's address, gets no
// mark, matches no virtual server, and goes to the local real server. A
// router's address is kept when its entry fails (it sends nothing then)
// and replaced when it changes. The neighbors must therefore be on-link
// (single-hop sessions, as single-hop BFD requires anyway); until a
// router's address is known, what it sends is served locally, not lost.
//
// # Going further
//
//   - More routers: list each as a neighbor; each does its own ECMP, and
//     because the nodes hash consistently a flow may enter through any
//     router. Give each router maximum-paths at least the number of nodes
//     and the same multipath hash policy (L4: fib_multipath_hash_policy=1).
//   - IPv6: announce VIP/128 prefixes (the speaker negotiates IPv6 unicast
//     when one is listed and sends them with MP_REACH_NLRI); the routers
//     need the nodes' IPv6 next hops, so use IPv6 sessions or extended
//     next hops, and set net.ipv6.fib_multipath_hash_policy on them.
//   - Balancers in different racks: BFD here is single hop (GoBGP's); a
//     multi-hop design needs eBGP multihop and multi-hop BFD on both sides.
//     Direct routing needs the real servers on the balancers' L2 segment;
//     across racks use IPVS tunnelling (ipip or GUE, lb_kind TUN) to the
//     real servers, and the sync daemon (or consistent hashing as here) so
//     that a flow moved across racks finds its connection.

// servable returns, for each announced prefix, whether the node can serve
// it with the IPVS table t.
func servable(b *config.BGP, t *ipvs.Table) map[netip.Prefix]bool {
	out := make(map[netip.Prefix]bool, len(b.Announce))
	for _, a := range b.Announce {
		out[a.Prefix] = false
		if t == nil {
			continue
		}
		for _, v := range t.Services {
			s := v.Service
			mine := s.FWMark == 0 && s.Address == a.Prefix.Addr() ||
				s.FWMark != 0 && slices.Contains(a.FWMarks, s.FWMark)
			if !mine {
				continue
			}
			for _, d := range v.Destinations {
				if d.Weight > 0 {
					out[a.Prefix] = true
				}
			}
		}
	}
	return out
}

// sameBGP reports whether two bgp sections are the same, wherever in
// their files they are written; a running speaker keeps its settings, so
// a reload that changes them is refused.
func sameBGP(a, b *config.BGP) bool {
	if a == nil || b == nil {
		return a == b
	}
	strip := func(c config.BGP) config.BGP {
		c.Pos = config.Pos{}
		c.Neighbors = slices.Clone(c.Neighbors)
		for i := range c.Neighbors {
			c.Neighbors[i].Pos = config.Pos{}
		}
		c.Announce = slices.Clone(c.Announce)
		for i := range c.Announce {
			c.Announce[i].Pos = config.Pos{}
		}
		return c
	}
	return reflect.DeepEqual(strip(*a), strip(*b))
}
