// Command natswitch toggles the DNAT rule a BACKUP load balancer needs, as a
// drop-in for the classic keepalived "nat-switch" notify script.
//
// Usage:
//
//	natswitch -interface IF -vip IP[,IP] [flags] STATE
//	natswitch -interface IF -vip IP[,IP] [flags] INSTANCE NAME STATE PRIORITY
//	natswitch -interface IF -vip IP[,IP] [flags] status|cleanup
//
// The second form is how keepalived calls a notify program, so it can be
// configured as
//
//	notify "/usr/local/bin/natswitch -interface eth1 -vip 192.168.0.100"
//
// STATE MASTER (and keepalived's DELETED) remove the rule; BACKUP, FAULT and
// STOP add it:
//
//	iifname "eth1" ip daddr 192.168.0.100 dnat to <own eth1 address>
//
// STOP, which keepalived sends when it exits, leaves the node as a BACKUP
// is: it no longer holds the VIP, but the MASTER goes on forwarding the
// VIP's traffic to this node's nginx (a real server of its virtual
// servers, which its health checks still find up), and without the rule
// that traffic would be dropped until the daemon runs again. `natswitch
// ... cleanup` removes the rule for good.
//
// status prints the rules present and the state they amount to; cleanup
// deletes natswitch's table. Bad input (no such interface, no IPv4 address on
// it, an invalid VIP, nftables unavailable) exits non-zero with a message
// naming it, having changed nothing: 2 for usage errors, 1 for the rest.
//
// # Privileges and namespaces
//
// natswitch needs CAP_NET_ADMIN. It works in the network namespace it is
// started in (`ip netns exec NS natswitch ...`, or keepalived running in that
// namespace). Concurrent runs, such as notify programs for quick successive
// transitions, are serialized by an flock(2) on the -lock file.
package main
