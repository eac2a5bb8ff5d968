// Command faults injects faults into the article's cluster under client
// load and prints, per fault, what the client and the VIP went through,
// lbnode beside keepalived.
//
//	go run ./internal/bench/faults [-impl lbnode,keepalived]
//	    [-faults partition,kill,cut,stop,reload,loss20,loss50,jitter,server,nginx,drift]
//	    [-settle 20s] [-hold 10s] [-v]
//	    [-lbnode PATH] [-natswitch PATH] [-kaconf FILE]
//
// It builds the article's topology (package internal/testenv/cluster) once
// per daemon and runs that daemon on both balancers with the article's
// keepalived.conf (internal/config/testdata/article-keepalived.conf; lb1
// priority 102, lb2 101, nopreempt), natswitch as its notify program,
// nginx started beside it, the article's sysctls and
// net.ipv4.vs.expire_nodest_conn=1 (see the README: without it, a client
// port reused within the connection timeouts of a removed real server is
// dropped). lb1 starts first and becomes MASTER. Then each copy's client namespace runs the same load
// through the VIP until the end: a new HTTP connection every 100 ms, a DNS
// query every 200 ms, and 3 keep-alive HTTP connections with a request
// every 500 ms, each request's time and outcome recorded; which balancers
// hold the VIP is sampled every 100 ms.
//
// After a quiet baseline window the faults run in order, each on all
// copies at once (the emulated machine's speed drifts, so that faults run
// one after the other would compare the drift), each followed by a settle
// pause:
//
//   - partition: VRRP (IP protocol 112) dropped on input of both balancers,
//     every link up, until both hold the VIP; held for -hold, then healed.
//     The note says who holds the VIP after the heal and how long the
//     client kept failing after it.
//   - kill: SIGKILL to the MASTER's daemon and its children at once (its
//     process group: keepalived's VRRP child, left alive, would send a
//     priority-0 advert), restarted 5 s later. The killed node keeps the
//     VIP address it had until the daemon starts again, so that the split
//     brain column counts that time too.
//   - cut: the MASTER's switch-side ports (eth0 and eth1) down for -hold,
//     then up.
//   - stop: the BACKUP's daemon stopped gracefully (SIGTERM) and started
//     again 10 s later. A planned operation: the goal is zero failed
//     requests.
//   - reload: SIGHUP to both daemons after each rewrite of their files: a
//     changed weight, an added real server (172.16.0.3: a direct-routing
//     real server built for it, web4, which answers as a working new
//     server does), a file with an error (the running configuration must
//     stay), and the original file. A planned operation: the goal is zero
//     failed requests.
//   - loss20, loss50, jitter: tc netem on both balancers' eth1 for 30 s:
//     20 % loss, 50 % loss, 100 ms delay with 100 ms jitter. eth1 carries
//     VRRP and also the MASTER's forwarding to the other node's nginx, so
//     that some requests fail there whatever VRRP does. The note names
//     the balancer the client's neighbour entry for the VIP points to.
//   - server: web server 1 (behind every node's nginx) stopped for 15 s
//     and started again: nginx must send its requests to the other two
//     meanwhile and use it again afterwards.
//   - nginx: the MASTER's nginx stopped for 15 s and started again: the
//     health checks take it out of IPVS and put it back.
//   - drift: the MASTER's IPVS table cleared (ipvsadm -C) behind the
//     daemon's back; the note says whether the daemon put it back. Last,
//     since a daemon that does not leaves the cluster changed.
//
// -v prints the daemons' output at the end.
//
// The table gives, per fault and daemon, over the window from the fault to
// the end of its settle pause: the requests and those that failed (HTTP on
// new connections / DNS / keep-alive), the longest outage (from a failed
// request to the next success of its kind), the VRRP transitions (times a
// node took or gave up the VIP), the split-brain time (both holding the
// VIP) and the keep-alive connections that broke.
//
// It needs root, keepalived, nginx, ipvsadm, nft, tc, ip, nc and sysctl. When the
// kernel has no IPVS it runs itself inside a VM booting Debian's kernel
// (package internal/testenv/vm). lbnode and natswitch are built from the
// module unless given. Everything it creates is removed at the end. A
// benchmark, not a test: it fails only when a cluster does not come up or
// a fault cannot be injected.
package main
