package scaleout

import (
	"fmt"
	"net/netip"
	"strings"
)

// The topology's addresses.
var (
	// VIP is the address every node announces and every real server holds
	// on its loopback.
	VIP = netip.MustParsePrefix("192.168.100.1/32")
	// Service is the virtual server: VIP, port 80.
	Service    = netip.AddrPortFrom(VIP.Addr(), 80)
	RouterAddr = netip.MustParseAddr("10.0.0.1")
	ClientAddr = netip.MustParseAddr("10.9.0.2")
)

// Node names and addresses: lbN has 10.0.0.1N, webN 10.0.0.10N.
const (
	nodes = 3
	webs  = 3
)

func nodeAddr(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("10.0.0.1%d", i)) }
func webAddr(i int) netip.Addr  { return netip.MustParseAddr(fmt.Sprintf("10.0.0.10%d", i)) }

// NodeYAML is the lbnode configuration of the node called name with
// address addr: one virtual server on the VIP with scheduler algo over the
// three real servers, in the same order on every node (a failed one stays
// in the kernel's list with weight 0: inhibit_on_failure), and the bgp
// section. With mh, sloppy lets a node schedule the mid-stream packets of
// a flow the router moved to it (net.ipv4.vs.sloppy_tcp).
func NodeYAML(name string, addr netip.Addr, algo string, sloppy bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  router_id: %s\nvirtual_servers:\n  - address: %s\n    protocol: TCP\n    lb_algo: %s\n    lb_kind: DR\n    delay_loop: 1\n    real_servers:\n",
		name, Service, algo)
	for i := 1; i <= webs; i++ {
		fmt.Fprintf(&b, "      - address: %s:80\n        inhibit_on_failure: true\n        checkers:\n          - type: TCP_CHECK\n            connect_timeout: 1\n", webAddr(i))
	}
	if sloppy {
		b.WriteString("sysctls:\n  net.ipv4.vs.sloppy_tcp: 1\n")
	}
	fmt.Fprintf(&b, "bgp:\n  asn: 65001\n  router_id: %s\n  withdraw_wait: 2\n  neighbors:\n    - address: %s\n      asn: 65000\n      hold_time: 3\n      bfd: true\n  announce:\n    - %s\n",
		addr, RouterAddr, VIP)
	return b.String()
}

// ColocatedYAML is the configuration of node name (address addr) where
// the nodes are each other's real servers (Config.Colocated): a fwmark 1
// service with mh over the three nodes' web servers (hashing the client's
// port too, so that the one client's connections spread over them), and the bgp section
// announcing the VIP for it, marking what the router sends to VIP:80 with
// 1. A packet another node forwards here carries no mark and goes to the
// node's own web server instead of being scheduled again.
func ColocatedYAML(name string, addr netip.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  router_id: %s\nvirtual_servers:\n  - fwmark: 1\n    lb_algo: mh\n    sched_flags: [mh-port]\n    lb_kind: DR\n    delay_loop: 1\n    real_servers:\n", name)
	for i := 1; i <= nodes; i++ {
		fmt.Fprintf(&b, "      - address: %s:80\n        inhibit_on_failure: true\n        checkers:\n          - type: TCP_CHECK\n            connect_timeout: 1\n", nodeAddr(i))
	}
	b.WriteString("sysctls:\n  net.ipv4.vs.sloppy_tcp: 1\n")
	fmt.Fprintf(&b, "bgp:\n  asn: 65001\n  router_id: %s\n  withdraw_wait: 2\n  neighbors:\n    - address: %s\n      asn: 65000\n      hold_time: 3\n      bfd: true\n  announce:\n    - prefix: %s\n      fwmark: [1]\n      mark:\n        - {protocol: TCP, port: 80, fwmark: 1}\n",
		addr, RouterAddr, VIP)
	return b.String()
}
