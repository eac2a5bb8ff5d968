// Command failover measures how fast VRRP fails over, for lvskit and for
// keepalived side by side, on pairs of nodes in network namespaces.
//
//	go run ./internal/bench/failover [-trials 10] [-impl both|lvskit|keepalived] [-v]
//
// For each implementation it builds two nodes on a bridge (priority 100
// both, advert_int 1s, so the node that has just taken over stays MASTER and
// the roles alternate), captures the bridge with tcpdump (kernel
// timestamps) and runs the trials. Each node is a process of its own in its
// namespace: keepalived -P, or for lvskit this program re-executed with
// -node (vrrp.Open and Router.Run, the same configuration). Each trial
// measures:
//
//   - abrupt: the master's cable is cut (its bridge port set down); the
//     gap between its last advertisement and the new master's first, minus
//     the backup's Master_Down_Interval (3.609375 s), is the overshoot;
//   - graceful: the master gets SIGTERM; the gap between its priority 0
//     advertisement and the new master's first, minus Skew_Time
//     (0.609375 s);
//   - garp: from the new master's first advertisement to its first
//     gratuitous ARP, for both kinds of takeover.
//
// It prints min/median/max per figure and implementation. It needs root,
// tcpdump and keepalived; everything runs inside namespaces it creates and
// removes. A benchmark, not a test: it never fails on a timing.
package main
