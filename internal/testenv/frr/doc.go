// Package frr runs Debian's FRR (zebra, bfdd, bgpd) as the upstream BGP
// router of a test topology, inside a network namespace the test created,
// without systemd: the configuration files, sockets and pid files live in a
// folder of the test's, the daemons run in the foreground as children of
// the test and are stopped at Close.
//
// The router peers by eBGP with every node listed, with BFD at FRR's
// defaults (300 ms x 3) and BGP timers of 1 s and 3 s, installs up to 8
// equal paths (maximum-paths 8, as-path multipath-relax) and hashes flows
// on their ports (net.ipv4.fib_multipath_hash_policy=1).
//
// [StartVRRP] runs zebra and vrrpd instead, as a VRRP peer: it creates the
// macvlan interfaces FRR's vrrpd needs (the virtual MAC, mode bridge,
// addrgenmode random, the VIPs), and [Router.VRRP] and [Router.VRRPLive]
// read vrrpd's state (`show vrrp json`) and whether its VIPs are in
// service (FRR's BACKUP keeps them on a macvlan in protodown).
//
// Privileges: root, the frr package (/usr/lib/frr), and a namespace; it
// works in the test VM, whose guest sees the host's /usr/lib/frr (vrrpd
// needs macvlan and protodown as well: tried in the netns tier).
package frr
