// Package cluster builds the article's reference topology on one machine
// with package topology (see internal/testenv), for the demo, the
// end-to-end tests and the benchmarks:
//
//	switch namespace: bridge "lan" (192.168.0.0/24) and bridge "svc" (172.16.0.0/24)
//	client  eth0 192.168.0.254 on lan
//	lb1     eth0 192.168.0.11 on lan, eth1 172.16.0.1 on svc
//	lb2     eth0 192.168.0.12 on lan, eth1 172.16.0.2 on svc
//	web1..3 eth0 192.168.0.101-103 on lan, answering "Hello from server-N !"
//	dns1..2 eth0 192.168.0.201-202 on lan, answering A queries
//
// The VIP is 192.168.0.100. The web and DNS servers run as goroutines of
// the calling process whose sockets live in their hosts' namespaces.
package cluster
