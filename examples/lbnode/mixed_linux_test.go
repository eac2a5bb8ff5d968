package main

import (
	"context"
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
	"github.com/lvskit/lvskit/internal/testenv/vm"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
	"github.com/lvskit/lvskit/proxyconf"
)

// startNginx runs the article's nginx layer of balancer b in its namespace,
// stopped at cleanup.
func startNginx(t *testing.T, b *cluster.Balancer, dir string) *topology.Proc {
	t.Helper()
	prefix := filepath.Join(dir, "nginx-"+b.Name)
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	web := []netip.AddrPort{netip.MustParseAddrPort("192.168.0.101:80"), netip.MustParseAddrPort("192.168.0.102:80"), netip.MustParseAddrPort("192.168.0.103:80")}
	dns := []netip.AddrPort{netip.MustParseAddrPort("192.168.0.201:53"), netip.MustParseAddrPort("192.168.0.202:53")}
	one := 1
	pc := proxyconf.NodeConfig(proxyconf.Node{ServiceIP: b.SVC, VIP: cluster.VIP, WebBackends: web, DNSBackends: dns, DNSTimeout: 3 * time.Second, DNSResponses: &one})
	pc.Global = proxyconf.Global{Modules: []string{proxyconf.DebianStreamModule}, PIDFile: "nginx.pid", ErrorLog: "error.log", AccessLog: "off", TempDir: "tmp"}
	n := proxyconf.Nginx{Prefix: prefix, ConfigFile: filepath.Join(prefix, "conf", proxyconf.MainFile), ErrorLog: filepath.Join(prefix, "startup.log")}
	files, err := pc.Render()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proxyconf.WriteDir(filepath.Join(prefix, "conf"), files); err != nil {
		t.Fatal(err)
	}
	p, err := b.NS.Start("nginx", n.Args("-g", "daemon off;")...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(10 * time.Second) })
	return p
}

// installNatSwitch makes the article's notify program, /usr/local/bin/nat-switch,
// run this test binary as natswitch. In the test VM it is installed at that
// very path (a tmpfs over /usr/local/bin of the throwaway guest), so the
// article's keepalived.conf runs unchanged; elsewhere it lives in dir and
// the returned path replaces the article's.
func installNatSwitch(t *testing.T, dir string) string {
	t.Helper()
	script := fmt.Sprintf("#!/bin/sh\nexec env LVSKIT_NATSWITCH_MAIN=1 %s -interface eth1 -vip %s -log %s \"$@\"\n",
		os.Args[0], cluster.VIP, filepath.Join(dir, "natswitch.log"))
	path := filepath.Join(dir, "nat-switch")
	if vm.InGuest() {
		if err := syscall.Mount("tmpfs", "/usr/local/bin", "tmpfs", 0, "mode=755"); err != nil {
			t.Fatalf("tmpfs over /usr/local/bin in the guest: %v", err)
		}
		t.Cleanup(func() { _ = syscall.Unmount("/usr/local/bin", syscall.MNT_DETACH) })
		path = "/usr/local/bin/nat-switch"
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func ipvsConns(t *testing.T, b *cluster.Balancer, rs string) int {
	t.Helper()
	out := ipvsadm(t, b, "-Ln", "--stats")
	m := regexp.MustCompile(`-> ` + regexp.QuoteMeta(rs) + `\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TestVMMixedCluster runs the article's keepalived.conf on both balancers:
// real keepalived on lb1 and lbnode on lb2. Each implementation is MASTER
// once, with the other as BACKUP, and traffic through the VIP reaches both
// balancers' nginx each time (the BACKUP's NAT switch, run as the notify
// program on both sides, accepts what the MASTER's IPVS forwards).
func TestVMMixedCluster(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "nginx", "nc", "env", "sysctl")
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
	lb1, lb2 := c.Balancers[0], c.Balancers[1]

	// The article's sysctls. net.nf_conntrack_max is global: set it in the
	// initial namespace and put the old value back afterwards.
	const ctMax = "/proc/sys/net/nf_conntrack_max"
	if old, err := os.ReadFile(ctMax); err == nil {
		t.Cleanup(func() { _ = os.WriteFile(ctMax, old, 0) })
	}
	if err := os.WriteFile(ctMax, []byte("4194304"), 0); err != nil {
		t.Fatalf("setting %s: %v", ctMax, err)
	}
	for _, b := range c.Balancers {
		if out, err := b.NS.Command("sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1", "net.ipv4.vs.drop_entry=1").CombinedOutput(); err != nil {
			t.Fatalf("%s: sysctl: %v: %s", b.Name, err, out)
		}
	}

	natSwitch := installNatSwitch(t, dir)
	article, err := os.ReadFile("../../internal/config/testdata/article-keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := func(name string, prio int) string {
		s := strings.Replace(string(article), "priority 102", fmt.Sprintf("priority %d", prio), 1)
		s = strings.Replace(s, "notify /usr/local/bin/nat-switch", "notify "+natSwitch, 1)
		p := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lb1Conf, lb2Conf := conf("lb1", 102), conf("lb2", 101)

	// nginx runs on both nodes, configured as in the article.
	nginx1 := startNginx(t, lb1, dir)
	startNginx(t, lb2, dir)

	startKeepalived := func() *topology.Proc {
		p, err := lb1.NS.Start("keepalived", "-n", "-l", "-D", "-f", lb1Conf,
			"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"), "-c", filepath.Join(dir, "ka-check.pid"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			p.Stop(10 * time.Second)
			if t.Failed() {
				t.Logf("keepalived on lb1:\n%s", p.Output())
			}
		})
		return p
	}
	waitOut := func(p *topology.Proc, s string, d time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		if err := p.WaitOutput(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, p.Output())
		}
	}
	through := func(n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			body, err := cluster.HTTPGet(c.Client, netip.AddrPortFrom(cluster.VIP, 80), 5*time.Second)
			if err != nil {
				t.Fatalf("request %d through the VIP: %v", i, err)
			}
			seen[body]++
		}
		return seen
	}

	// 1. keepalived MASTER on lb1, lbnode BACKUP on lb2.
	ka := startKeepalived()
	waitOut(ka, "Entering MASTER STATE", 30*time.Second)
	node2 := &node{b: lb2, conf: lb2Conf}
	startNode(t, node2)
	netnstest.WaitFor(t, "lbnode BACKUP on lb2", 30*time.Second, func() bool { return strings.Contains(node2.proc.Output(), "to=BACKUP") })
	netnstest.WaitFor(t, "the NAT rule on lb2 (natswitch run by lbnode)", 15*time.Second, func() bool {
		out, _ := lb2.NS.Command("nft", "list", "ruleset").CombinedOutput()
		return strings.Contains(string(out), "dnat to 172.16.0.2")
	})
	if !lb1.HasVIP() || lb2.HasVIP() {
		t.Fatalf("VIP: lb1 %v, lb2 %v; want lb1 only", lb1.HasVIP(), lb2.HasVIP())
	}
	seen := through(20)
	t.Logf("keepalived MASTER: %v", seen)
	if len(seen) != 3 {
		t.Errorf("keepalived MASTER: not every web server answered: %v", seen)
	}
	// The kernel folds its per-CPU counters into what it reports every 2 s.
	netnstest.WaitFor(t, "keepalived's IPVS counting connections to lbnode's node", 10*time.Second, func() bool {
		return ipvsConns(t, lb1, "172.16.0.2:80") > 0
	})

	// 2. keepalived stops (priority 0): lbnode takes over after Skew_Time.
	// lb1 goes down as a whole node, nginx included.
	if err := ka.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	took := netnstest.WaitFor(t, "lbnode MASTER on lb2", 15*time.Second, func() bool { return lb2.HasVIP() })
	t.Logf("keepalived stopped: lbnode on lb2 holds the VIP %v later", took)
	nginx1.Stop(10 * time.Second)
	if err := ka.Wait(15 * time.Second); err != nil {
		t.Logf("keepalived exit: %v", err)
	}
	// lbnode's health checks take lb1's nginx out within a delay loop.
	netnstest.WaitFor(t, "lb1's nginx out of lbnode's IPVS", 20*time.Second, func() bool {
		return !strings.Contains(ipvsadm(t, lb2, "-Ln"), "-> 172.16.0.1:80")
	})
	if seen := through(10); len(seen) == 0 {
		t.Error("no answer with lbnode MASTER alone")
	}

	// 3. lb1 comes back (nginx, then keepalived): keepalived is BACKUP
	// (nopreempt) under lbnode's MASTER, and its natswitch lets lb1 accept
	// what lbnode's IPVS forwards.
	startNginx(t, lb1, dir)
	ka = startKeepalived()
	waitOut(ka, "Entering BACKUP STATE", 30*time.Second)
	time.Sleep(3 * time.Second)
	if out := ka.Output(); strings.Contains(out, "Entering MASTER STATE") {
		t.Errorf("returning keepalived preempted lbnode despite nopreempt:\n%s", out)
	}
	netnstest.WaitFor(t, "the NAT rule on lb1 (natswitch run by keepalived)", 15*time.Second, func() bool {
		out, _ := lb1.NS.Command("nft", "list", "ruleset").CombinedOutput()
		return strings.Contains(string(out), "dnat to 172.16.0.1")
	})
	netnstest.WaitFor(t, "lb1's nginx back in lbnode's IPVS", 20*time.Second, func() bool {
		return strings.Contains(ipvsadm(t, lb2, "-Ln"), "-> 172.16.0.1:80")
	})
	seen = through(20)
	t.Logf("lbnode MASTER: %v", seen)
	netnstest.WaitFor(t, "lbnode's IPVS counting connections to keepalived's node", 10*time.Second, func() bool {
		return ipvsConns(t, lb2, "172.16.0.1:80") > 0
	})
	if log, err := os.ReadFile(filepath.Join(dir, "natswitch.log")); err == nil {
		t.Logf("natswitch calls:\n%s", log)
	}
}
