// Command bgpconverge measures how fast a router drops the path of a
// scale-out node that dies, for lvskit's BGP speaker and for FRR's as the
// reference, side by side, on one router in network namespaces.
//
//	go run ./internal/bench/bgpconverge [-trials 10] [-v]
//
// It builds a bridge with an FRR router (zebra, bfdd, bgpd: AS 65000, BFD
// on every session, ECMP) and two nodes in AS 65001 that both announce
// 192.168.100.1/32 to it with BFD 300 ms x 3 and BGP timers 1 s and 3 s,
// as the scale-out test bed does:
//
//   - lvskit: this program re-executed with -speaker in the node's
//     namespace, running lbnode's speaker (agent.RunBGPSpeaker: embedded
//     GoBGP with its single-hop BFD) with the VIP announced;
//   - frr: a second FRR (bfdd, bgpd) announcing the VIP with a network
//     statement.
//
// Each trial waits until the router's BFD session with the node has been
// up for 3 s, then cuts the node's link (its bridge port set down, as a
// power loss) at a random phase of the BFD packets, and times until the router's
// kernel route to the VIP has lost that next hop (polled every 5 ms);
// then restores the link and waits until the path is back. The nodes
// alternate. It prints min/median/max per speaker next to the detection
// time BFD promises (3 x 300 ms after the last packet heard). It needs
// root and FRR; everything runs inside namespaces it creates and removes.
// A benchmark, not a test: it never fails on a timing.
package main
