// Package scaleout builds the scale-out topology on one machine with
// package topology (see internal/testenv), for the BGP tests and the demo:
// three lbnodes announce a VIP by BGP, with BFD, to an FRR router (package
// frr), which spreads the client's flows over them by ECMP.
//
//	switch namespace: bridge "lan" (10.0.0.0/24) and bridge "edge" (10.9.0.0/24)
//	router  eth0 10.0.0.1 on lan, eth1 10.9.0.1 on edge: FRR, AS 65000
//	client  eth0 10.9.0.2 on edge, default route via the router
//	lb1..3  eth0 10.0.0.11-13 on lan: lbnode, AS 65001, announcing 192.168.100.1/32
//	web1..3 eth0 10.0.0.101-103 on lan: direct-routing real servers, the VIP on lo,
//	        answering "Hello from webN !"
//
// Every node has the same virtual server on VIP:80 over the three real
// servers in the same order (inhibit_on_failure, TCP checks every second),
// with the scheduler the caller chooses: with mh and sloppy_tcp a flow that
// the router moves to another node keeps its real server. The router peers
// with BFD 300 ms x 3 and BGP timers 1 s and 3 s, and hashes flows on
// their ports.
//
// A node's power loss ([Cluster.PowerLoss]) cuts its link before its
// process dies: a killed BGP speaker's socket would send a FIN, which
// withdraws its routes at once and hides whether BFD works.
//
// Privileges: root, FRR (frr.Available), ipvsadm, and a kernel with IPVS
// and the chosen scheduler ([Modules]): in the test VM where the host has
// none. Nothing is attached to the root namespace. Errors are returned, so
// that a program (the demo) can use it as well as a test.
package scaleout
