// Package lvskit is a set of Go packages for building highly available Linux
// load-balancer clusters, and example programs that assemble them.
//
// # The cluster
//
// A virtual IP floats between two or more balancer nodes by VRRP. The node
// that holds it (MASTER) spreads incoming connections with the kernel's IPVS
// (LVS) in direct-routing mode over the nginx of every node, its own and the
// others'. A node that does not hold the VIP (BACKUP) still accepts the
// packets the MASTER forwards to it, whose destination is still the VIP,
// thanks to an nftables DNAT rule to its own service address. nginx on every
// node proxies HTTP and DNS to the real servers, and health checks take dead
// servers out of IPVS:
//
//	         clients
//	            |
//	     VIP 192.168.0.100        <- owned by the VRRP MASTER
//	     /               \
//	[lb1: IPVS DR]    [lb2: IPVS DR]
//	[lb1: nginx  ]    [lb2: nginx  ]
//	     \      \     /      /
//	   web1 web2 web3    dns1 dns2
//
// keepalived, a shell script and hand-written configuration files do this
// today; lvskit makes each piece an importable package that an existing
// agent can embed.
//
// # Packages
//
//   - vrrp: a VRRPv2 speaker (RFC 3768) compatible with keepalived on the wire:
//     advertisement codec, a pure state machine, raw sockets, gratuitous ARP
//     and the VIP addresses.
//   - ipvs: an IPVS client over generic netlink, and a declarative desired state
//     applied with the fewest operations.
//   - nat: the nftables DNAT rule of the BACKUP role, in a table of its own.
//   - healthcheck: TCP, UDP, HTTP(S), DNS and exec checkers, and a monitor for
//     many targets with rise/fall thresholds.
//   - proxyconf: the nginx proxy layer as a typed model, rendered, validated
//     with nginx -t and reloaded.
//
// The packages do not import each other. The glue between them lives in
// internal/agent and runs as examples/lbnode; examples/ holds thin programs
// (vrrpd, ipvsctl, natswitch, lvscheck, lbnode, demo). Everything that
// touches the kernel can be opened in a given network namespace.
package lvskit
