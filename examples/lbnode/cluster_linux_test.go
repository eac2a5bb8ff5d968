package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// node is one balancer running lbnode (this test binary in lbnode mode).
type node struct {
	b    *cluster.Balancer
	conf string
	proc *topology.Proc
	// drain is lbnode's -drain; "" means "0": the tests stop nodes at
	// cleanup, where a drain only costs time.
	drain string
}

func startNode(t *testing.T, n *node) {
	t.Helper()
	drain := n.drain
	if drain == "" {
		drain = "0"
	}
	p, err := n.b.NS.Start("env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", n.conf, "-metrics", n.b.SVC.String()+":9100", "-drain", drain)
	if err != nil {
		t.Fatal(err)
	}
	n.proc = p
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("lbnode on %s:\n%s", n.b.Name, p.Output())
		}
	})
}

func ipvsadm(t *testing.T, b *cluster.Balancer, args ...string) string {
	t.Helper()
	out, err := b.NS.Command("ipvsadm", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: ipvsadm %s: %v\n%s", b.Name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestVMClusterEndToEnd runs the article's cluster with lbnode on both
// balancers and checks what the demo shows: election, distribution over
// the web and DNS servers and over both balancers, drift repair, a SIGHUP
// reload without a VRRP transition, failover when lb1's lbnode dies, and a
// returning lb1 that does not preempt (nopreempt).
func TestVMClusterEndToEnd(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ipvsadm", "nginx", "env")
	c, err := cluster.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("removing the cluster: %v", err)
		}
	})
	dir := t.TempDir()
	var nodes []*node
	for i, b := range c.Balancers {
		n := &node{b: b, conf: filepath.Join(dir, b.Name+".yaml")}
		src := cluster.NodeYAML(b, cluster.NodeOptions{Priority: 102 - i, Nopreempt: true, NginxPrefix: filepath.Join(dir, "nginx-"+b.Name), DelayLoop: 3})
		if err := os.WriteFile(n.conf, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	lb1, lb2 := nodes[0], nodes[1]
	// nginx outlives a killed lbnode, as it would on a real node; stop it
	// at the end by its pid file.
	t.Cleanup(func() {
		for _, n := range nodes {
			if b, err := os.ReadFile(filepath.Join(dir, "nginx-"+n.b.Name, "nginx.pid")); err == nil {
				var pid int
				fmt.Sscan(string(b), &pid)
				if pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGQUIT)
				}
			}
		}
	})
	// Election. With nopreempt (the article's setting) the first node up
	// stays MASTER, as with keepalived: lb1 starts first, lb2 joins as
	// BACKUP.
	startNode(t, lb1)
	took := netnstest.WaitFor(t, "lb1 holds the VIP", 30*time.Second, func() bool { return lb1.b.HasVIP() })
	t.Logf("lb1 became MASTER after %v", took)
	startNode(t, lb2)
	netnstest.WaitFor(t, "lb2 up as BACKUP", 30*time.Second, func() bool {
		return strings.Contains(lb2.proc.Output(), "to=BACKUP")
	})
	time.Sleep(2 * time.Second)
	if lb2.b.HasVIP() {
		t.Fatal("lb2 holds the VIP too")
	}

	// HTTP through the VIP reaches all three web servers.
	vipHTTP := netip.AddrPortFrom(cluster.VIP, 80)
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		body, err := cluster.HTTPGet(c.Client, vipHTTP, 5*time.Second)
		if err != nil {
			t.Fatalf("request %d through the VIP: %v", i, err)
		}
		seen[body]++
	}
	t.Logf("HTTP answers: %v", seen)
	for i := 1; i <= 3; i++ {
		if seen[fmt.Sprintf("Hello from server-%d !", i)] == 0 {
			t.Errorf("server-%d never answered through the VIP: %v", i, seen)
		}
	}
	// DNS through the VIP reaches both DNS servers.
	answers := map[netip.Addr]int{}
	for i := 0; i < 20; i++ {
		a, err := cluster.DNSQuery(c.Client, netip.AddrPortFrom(cluster.VIP, 53), "www.example.com.", uint16(i+1), 3*time.Second)
		if err != nil {
			t.Fatalf("DNS query %d through the VIP: %v", i, err)
		}
		answers[a]++
	}
	t.Logf("DNS answers: %v", answers)
	for _, d := range c.DNS {
		if answers[d.Addr.Addr()] == 0 {
			t.Errorf("%s never answered through the VIP: %v", d.Name, answers)
		}
	}
	// Both balancers received IPVS traffic: the master scheduled
	// connections to its own nginx and to lb2's. The kernel folds its
	// per-CPU counters into what it reports every two seconds.
	conns := func(stats, rs string) bool {
		m := regexp.MustCompile(`-> ` + regexp.QuoteMeta(rs) + `\s+(\d+)`).FindStringSubmatch(stats)
		return m != nil && m[1] != "0"
	}
	var stats string
	netnstest.WaitFor(t, "connections counted for both balancers' nginx", 10*time.Second, func() bool {
		stats = ipvsadm(t, lb1.b, "-Ln", "--stats")
		return conns(stats, "172.16.0.1:80") && conns(stats, "172.16.0.2:80")
	})
	t.Logf("lb1 ipvsadm -Ln --stats:\n%s", stats)

	// Metrics: the master's lbnode reports its VRRP state, its IPVS
	// counters and its health checks.
	body, err := cluster.Fetch(lb1.b.NS, "http://"+lb1.b.SVC.String()+":9100/metrics", 5*time.Second)
	if err != nil {
		t.Fatalf("scraping lb1's metrics: %v", err)
	}
	for _, re := range []string{
		`lvskit_vrrp_state\{instance="192.168.0.100",state="MASTER",vrid="1"\} 1`,
		`lvskit_vrrp_adverts_sent_total\{instance="192.168.0.100",vrid="1"\} [1-9]`,
		`lvskit_ipvs_destination_connections_total\{destination="172.16.0.2:80",service="[^"]*"\} [1-9]`,
		`lvskit_ipvs_service_bytes_in_total\{service="[^"]*"\} [1-9]`,
		`lvskit_health_up\{target="TCP 192.168.0.100:80 -> 172.16.0.2:80"\} 1`,
		`lvskit_health_check_latency_seconds_count\{result="up",target="TCP 192.168.0.100:80 -> 172.16.0.1:80"\} [1-9]`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("lb1's metrics lack %s", re)
		}
	}

	// Drift repair: a service deleted behind the node's back comes back
	// within a delay loop (3 s here).
	ipvsadm(t, lb1.b, "-D", "-t", "192.168.0.100:80")
	took = netnstest.WaitFor(t, "the deleted service restored", 15*time.Second, func() bool {
		return strings.Contains(ipvsadm(t, lb1.b, "-Ln"), "TCP  192.168.0.100:80 wlc")
	})
	t.Logf("deleted service restored after %v", took)

	// SIGHUP reload: a weight change and a VRRP priority change are
	// applied without a VRRP transition.
	before := strings.Count(lb1.proc.Output(), "vrrp: transition")
	src, _ := os.ReadFile(lb1.conf)
	changed := strings.Replace(string(src), "- address: 172.16.0.2:80\n        weight: 1", "- address: 172.16.0.2:80\n        weight: 3", 1)
	changed = strings.Replace(changed, "priority: 102\n", "priority: 103\n", 1)
	if strings.Count(changed, "weight: 3") != 1 || !strings.Contains(changed, "priority: 103\n") {
		t.Fatal("test bug: weight or priority not found in the configuration")
	}
	if err := os.WriteFile(lb1.conf, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lb1.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, "weight 3 after SIGHUP", 15*time.Second, func() bool {
		return regexp.MustCompile(`-> 172\.16\.0\.2:80\s+Route\s+3 `).MatchString(ipvsadm(t, lb1.b, "-Ln"))
	})
	netnstest.WaitFor(t, "lb1's VRRP instance at priority 103", 15*time.Second, func() bool {
		return regexp.MustCompile(`vrrp: reconfigured.*state=MASTER priority=103`).MatchString(lb1.proc.Output())
	})
	if after := strings.Count(lb1.proc.Output(), "vrrp: transition"); after != before || !lb1.b.HasVIP() {
		t.Errorf("reload caused a VRRP transition (%d -> %d) or lost the VIP", before, after)
	}

	// Failover: lb1's lbnode dies abruptly. Requests keep succeeding but
	// for a gap no longer than Master_Down_Interval (3.6 s for priority
	// 101) plus 1 s.
	type result struct {
		at time.Time
		ok bool
	}
	results := make(chan result, 1000)
	stop := make(chan struct{})
	go func() {
		defer close(results)
		for i := 0; i < 600; i++ { // bounded: at most 600 requests
			select {
			case <-stop:
				return
			default:
			}
			_, err := cluster.HTTPGet(c.Client, vipHTTP, 500*time.Millisecond)
			results <- result{time.Now(), err == nil}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(time.Second)

	if err := lb1.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	took = netnstest.WaitFor(t, "lb2 holds the VIP", 15*time.Second, func() bool { return lb2.b.HasVIP() })
	t.Logf("VIP on lb2 %v after lb1's lbnode was killed", took)
	time.Sleep(3 * time.Second)
	close(stop)
	var worst time.Duration
	var lastOK time.Time
	var n, failed int
	for r := range results {
		n++
		if r.ok {
			if !lastOK.IsZero() && r.at.Sub(lastOK) > worst {
				worst = r.at.Sub(lastOK)
			}
			lastOK = r.at
		} else {
			failed++
		}
	}
	t.Logf("during failover: %d requests, %d failed, longest gap between successes %v", n, failed, worst)
	if limit := 3609375*time.Microsecond + time.Second; worst > limit {
		t.Errorf("requests failed for %v, more than Master_Down_Interval + 1 s (%v)", worst, limit)
	}
	if body, err := cluster.HTTPGet(c.Client, vipHTTP, 5*time.Second); err != nil || !strings.HasPrefix(body, "Hello from server-") {
		t.Errorf("after failover: %q, %v", body, err)
	}

	// lb1 comes back: the VIP it still held is removed as it starts
	// BACKUP, and with nopreempt it does not take MASTER back.
	startNode(t, lb1)
	netnstest.WaitFor(t, "lb1 back up", 30*time.Second, func() bool { return strings.Contains(lb1.proc.Output(), "node up") })
	netnstest.WaitFor(t, "lb1 drops the stale VIP", 15*time.Second, func() bool { return !lb1.b.HasVIP() })
	time.Sleep(5 * time.Second)
	if lb1.b.HasVIP() || !lb2.b.HasVIP() {
		t.Errorf("after lb1's return: lb1 VIP %v, lb2 VIP %v; want lb2 only (nopreempt)", lb1.b.HasVIP(), lb2.b.HasVIP())
	}
	if _, err := cluster.HTTPGet(c.Client, vipHTTP, 5*time.Second); err != nil {
		t.Errorf("after lb1's return: %v", err)
	}

	// lb2 is told by a reload to leave its virtual servers at stop
	// (dont_release_ipvs, as keepalived's --dont-release-ipvs).
	src, _ = os.ReadFile(lb2.conf)
	keep := strings.Replace(string(src), "global:\n", "global:\n  dont_release_ipvs: true\n", 1)
	if keep == string(src) {
		t.Fatal("test bug: no global section in lb2's configuration")
	}
	if err := os.WriteFile(lb2.conf, []byte(keep), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lb2.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, "lb2 reloaded", 15*time.Second, func() bool { return strings.Contains(lb2.proc.Output(), "configuration reloaded") })

	// Graceful stop of the master: priority-0 advert, lb1 takes over
	// within about Skew_Time.
	stopped := time.Now()
	if err := lb2.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	took = netnstest.WaitFor(t, "lb1 takes over after lb2's graceful stop", 10*time.Second, func() bool { return lb1.b.HasVIP() })
	t.Logf("graceful stop of lb2: VIP on lb1 after %v", took)
	if err := lb2.proc.Wait(15 * time.Second); err != nil {
		t.Errorf("lbnode on lb2 after SIGTERM: %v", err)
	}
	_ = stopped
	if lb2.b.HasVIP() {
		t.Error("lb2 kept the VIP after a graceful stop")
	}
	if out := lb2.b.NS.Command("nft", "list", "table", "ip", "lvskit_nat"); out != nil {
		if b, _ := out.CombinedOutput(); strings.Contains(string(b), "dnat to") {
			t.Errorf("lb2 kept its DNAT rule after a graceful stop:\n%s", b)
		}
	}
	if got := ipvsadm(t, lb2.b, "-Ln"); strings.Count(got, "192.168.0.100:") != 2 {
		t.Errorf("lb2 stopped with dont_release_ipvs; want both virtual servers left, got:\n%s", got)
	}
	// lb1 stops by default: its virtual servers go with it.
	if err := lb1.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := lb1.proc.Wait(15 * time.Second); err != nil {
		t.Errorf("lbnode on lb1 after SIGTERM: %v", err)
	}
	if got := ipvsadm(t, lb1.b, "-Ln"); strings.Contains(got, "192.168.0.100:") {
		t.Errorf("lb1 stopped without dont_release_ipvs; want its virtual servers removed, got:\n%s", got)
	}
}
