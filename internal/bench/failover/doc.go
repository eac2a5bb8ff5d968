// Command failover measures how fast VRRP fails over, for lvskit and for
// keepalived side by side, on pairs of nodes in network namespaces.
//
//	go run ./internal/bench/failover [-trials 10] [-impl both|lvskit|keepalived] [-v]
//	    [-version 2|3] [-advert-int 1s] [-family ipv4|ipv6|both] [-steady D [-hog]]
//	    [-rt-priority N]
//
// -version 3 -advert-int 10ms measures VRRPv3 at 10 ms adverts
// (Master_Down_Interval 36.09375 ms at priority 100); -family ipv6 or both
// runs the pair over IPv6 too (adverts from the link-local addresses to
// ff02::12, a VIP fd00::100/64, neighbour advertisements in place of
// gratuitous ARPs). -steady D leaves the pair alone for D after the trials
// and prints the transitions meanwhile (spurious: none is right); -hog
// runs a bounded busy loop per CPU in a node's namespace during it.
// -rt-priority N runs both implementations under SCHED_RR (lvskit's
// vrrp.SetRealtimePriority, keepalived's vrrp_rt_priority).
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
//     gap between its last advertisement on the switch (the last the
//     backup heard: it may follow the order to cut by the milliseconds
//     ip(8) takes) and the new master's first, minus the backup's
//     Master_Down_Interval (3.609375 s), is the overshoot;
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
