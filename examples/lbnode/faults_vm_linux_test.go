package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// TestVMFaults runs the article's cluster with lbnode on both balancers
// under the client's steady load and injects three faults: a VRRP
// partition with every link up, SIGKILL of the MASTER's lbnode, and the
// MASTER's links cut; then a planned operation, a graceful stop of the
// BACKUP. It checks what must hold whatever the timing: the partition
// makes both nodes MASTER and, once healed, exactly one holds the VIP; a
// killed or cut-off MASTER's peer takes the VIP; each time the client's
// requests succeed again; and the graceful stop fails no new connection
// and no DNS query. The figures (failed requests,
// outages, split-brain time) are the benchmark's, internal/bench/faults.
func TestVMFaults(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ipvsadm", "nginx", "env", "nft")
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
		// -drain: as long as the other's checks take (step 4).
		n := &node{b: b, conf: filepath.Join(dir, b.Name+".yaml"), drain: "-1s"}
		// Inhibit: a real server found down is kept at weight 0, so that
		// what IPVS sent to it before finishes (step 4).
		src := cluster.NodeYAML(b, cluster.NodeOptions{Priority: 102 - i, Nopreempt: true, NginxPrefix: filepath.Join(dir, "nginx-"+b.Name), DelayLoop: 3, Inhibit: true})
		if err := os.WriteFile(n.conf, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	// nginx outlives a killed lbnode; stop it at the end by its pid file.
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
	lb1, lb2 := nodes[0], nodes[1]
	nodeOf := func(b *cluster.Balancer) *node {
		if b == lb1.b {
			return lb1
		}
		return lb2
	}
	startNode(t, lb1)
	netnstest.WaitFor(t, "lb1 holds the VIP", 60*time.Second, lb1.b.HasVIP)
	startNode(t, lb2)
	netnstest.WaitFor(t, "lb1's IPVS forwarding to lb2's nginx", 60*time.Second, func() bool {
		out, _ := lb1.b.NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return forwardsTo(string(out), "172.16.0.2") == 2
	})
	if lb2.b.HasVIP() {
		t.Fatal("lb2 holds the VIP too")
	}

	load, err := cluster.StartLoad(context.Background(), c, cluster.LoadOptions{For: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(load.Stop)
	// serving waits until fresh requests through the VIP succeed and the
	// load's latest request of each kind has succeeded.
	serving := func(when string) {
		t.Helper()
		netnstest.WaitFor(t, "the client served "+when, 60*time.Second, func() bool {
			if _, err := cluster.HTTPGet(c.Client, netip.AddrPortFrom(cluster.VIP, 80), 2*time.Second); err != nil {
				return false
			}
			if _, err := cluster.DNSQuery(c.Client, netip.AddrPortFrom(cluster.VIP, 53), "www.example.com.", 7, 2*time.Second); err != nil {
				return false
			}
			last := map[cluster.Kind]error{}
			ok := map[cluster.Kind]bool{}
			for _, r := range load.Results(time.Now().Add(-3*time.Second), time.Now()) {
				last[r.Kind] = r.Err
				ok[r.Kind] = true
			}
			for _, k := range []cluster.Kind{cluster.LoadHTTP, cluster.LoadDNS, cluster.LoadKeepAlive} {
				if !ok[k] || last[k] != nil {
					return false
				}
			}
			return true
		})
	}
	// oneMaster waits until exactly one balancer holds the VIP, and checks
	// that it still does a little later.
	oneMaster := func(when string) *cluster.Balancer {
		t.Helper()
		netnstest.WaitFor(t, "exactly one balancer holding the VIP "+when, 30*time.Second, func() bool { return c.Master() != nil })
		m := c.Master()
		time.Sleep(3 * time.Second)
		if got := c.Master(); got != m {
			t.Fatalf("%s: the VIP moved from %s: now lb1 %v, lb2 %v", when, m.Name, lb1.b.HasVIP(), lb2.b.HasVIP())
		}
		return m
	}
	serving("before the faults")

	// 1. VRRP partition, every link up: both become MASTER; healed, one
	// of them gives the VIP up.
	for _, b := range c.Balancers {
		if err := b.BlockVRRP(true); err != nil {
			t.Fatal(err)
		}
	}
	netnstest.WaitFor(t, "both balancers MASTER in the partition", 30*time.Second, func() bool { return lb1.b.HasVIP() && lb2.b.HasVIP() })
	time.Sleep(5 * time.Second)
	for _, b := range c.Balancers {
		if err := b.BlockVRRP(false); err != nil {
			t.Fatal(err)
		}
	}
	m := oneMaster("after the partition healed")
	t.Logf("after the partition %s holds the VIP", m.Name)
	serving("after the partition healed")

	// 2. SIGKILL of the MASTER's lbnode: the peer takes over; restarted,
	// the killed node stays BACKUP (nopreempt) and gives up the address
	// it was killed with.
	killed := nodeOf(m)
	other := c.Other(m)
	if err := cluster.KillGroup(killed.proc); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, other.Name+" holding the VIP after "+m.Name+"'s lbnode was killed", 30*time.Second, other.HasVIP)
	serving("with " + m.Name + "'s lbnode killed")
	startNode(t, killed)
	if got := oneMaster("after the killed lbnode restarted"); got != other {
		t.Errorf("after the restart %s holds the VIP, want %s (nopreempt)", got.Name, other.Name)
	}
	serving("after the killed lbnode restarted")

	// 3. The MASTER's links cut: the peer takes over; restored, exactly
	// one holds the VIP.
	m = c.Master()
	other = c.Other(m)
	if err := c.SetLinks(m, false); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, other.Name+" holding the VIP with "+m.Name+" cut off", 30*time.Second, other.HasVIP)
	serving("with " + m.Name + " cut off")
	if err := c.SetLinks(m, true); err != nil {
		t.Fatal(err)
	}
	oneMaster("after the links came back")
	serving("after the links came back")

	// 4. A graceful stop of the BACKUP (a planned operation): it drains
	// (refuses the MASTER's health checks while it answers what the
	// MASTER forwards to its nginx) before it stops nginx, so no new
	// connection and no DNS query fails. The MASTER keeps the drained
	// nginx at weight 0 (inhibit_on_failure): a connection it sent there
	// just before, its handshake or response still under way, finishes
	// (a removed destination's packets would be dropped, or with
	// expire_nodest_conn its entry flushed and the next packet reset).
	// Keep-alive connections on the stopped nginx break when it stops, as
	// with keepalived.
	m = c.Master()
	b := nodeOf(c.Other(m))
	netnstest.WaitFor(t, m.Name+"'s IPVS forwarding to "+b.b.Name+"'s nginx", 60*time.Second, func() bool {
		out, _ := m.NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return forwardsTo(string(out), b.b.SVC.String()) == 2
	})
	serving("before " + b.b.Name + "'s graceful stop")
	// The client's view of the stop (handshakes, resets, ARP), printed
	// around a failed request.
	type capture struct {
		name string
		p    interface {
			Output() string
			Stop(time.Duration)
		}
	}
	var captures []capture
	for _, h := range []struct {
		name string
		ns   interface {
			Start(string, ...string) (*topology.Proc, error)
		}
		ifname string
	}{{"client", c.Client, "eth0"}, {m.Name, m.NS, "any"}, {b.b.Name, b.b.NS, "any"}} {
		p, err := h.ns.Start("tcpdump", "-i", h.ifname, "-l", "-n", "-e", "-tttt", "-c", "100000",
			"tcp[tcpflags] & (tcp-syn|tcp-rst) != 0 or arp or icmp")
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop(time.Second)
		captures = append(captures, capture{h.name, p})
	}
	from := time.Now()
	if err := b.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, b.b.Name+"'s lbnode exiting after its drain", 60*time.Second, b.proc.Exited)
	if !strings.Contains(b.proc.Output(), "draining") {
		t.Errorf("%s's lbnode did not drain; output:\n%s", b.b.Name, b.proc.Output())
	}
	time.Sleep(3 * time.Second)
	var failed, keepAlive, total int
	for _, r := range load.Results(from, time.Now()) {
		total++
		switch {
		case r.Err == nil:
		case r.Kind == cluster.LoadKeepAlive:
			keepAlive++
		default:
			failed++
			t.Errorf("%v request at %v failed during %s's graceful stop: %v", r.Kind, r.Start.Sub(from).Round(time.Millisecond), b.b.Name, r.Err)
			if failed == 1 {
				for _, cp := range captures {
					t.Logf("%s's packets around it:\n%s", cp.name, packetsAround(cp.p.Output(), r.Start, r.End))
				}
				for _, x := range c.Balancers {
					out, _ := x.NS.Command("ip", "-br", "link").CombinedOutput()
					t.Logf("%s's links:\n%s", x.Name, out)
				}
				// A port the client reuses while the master's IPVS still
				// holds an entry of it to a removed real server.
				out, _ := m.NS.Command("ipvsadm", "-Lnc").CombinedOutput()
				for _, port := range unanswered(captures[0].p.Output(), r.Start, r.End) {
					for line := range strings.Lines(string(out)) {
						if strings.Contains(line, ":"+port+" ") {
							t.Logf("%s's IPVS entry of unanswered client port %s: %s", m.Name, port, strings.TrimSpace(line))
						}
					}
				}
			}
		}
	}
	t.Logf("graceful stop of %s: %d requests over %v, %d new-connection/DNS failures, %d keep-alive failures",
		b.b.Name, total, time.Since(from).Round(time.Second), failed, keepAlive)
	if n := nodeOf(m); n.proc.Exited() {
		t.Errorf("lbnode on %s exited: %v", n.b.Name, n.proc.ExitErr())
	}
	if err := b.proc.ExitErr(); err != nil {
		t.Errorf("lbnode on %s exited with %v at its graceful stop", b.b.Name, err)
	}
}

// packetsAround returns the lines of tcpdump -tttt output from 100 ms
// before start to 100 ms after end.
func packetsAround(out string, start, end time.Time) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if len(line) < 26 {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", line[:26], time.Local)
		if err != nil || at.Before(start.Add(-100*time.Millisecond)) || at.After(end.Add(100*time.Millisecond)) {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// unanswered returns the client ports of the SYNs to port 80 between start
// and end that no SYN-ACK answered, from tcpdump -tttt -n output.
func unanswered(out string, start, end time.Time) []string {
	sent, answered := map[string]bool{}, map[string]bool{}
	for line := range strings.Lines(packetsAround(out, start, end)) {
		f := strings.Fields(line)
		for i := 0; i+3 < len(f); i++ {
			src, dst := f[i], strings.TrimSuffix(f[i+2], ":")
			if f[i+1] != ">" {
				continue
			}
			switch {
			case strings.HasSuffix(dst, ".80") && strings.Contains(line, "Flags [S],"):
				sent[src[strings.LastIndex(src, ".")+1:]] = true
			case strings.HasSuffix(src, ".80") && strings.Contains(line, "Flags [S.]"):
				answered[dst[strings.LastIndex(dst, ".")+1:]] = true
			}
		}
	}
	var ports []string
	for p := range sent {
		if !answered[p] {
			ports = append(ports, p)
		}
	}
	return ports
}

// forwardsTo counts the real servers at addr with a weight above 0 in
// ipvsadm -Ln output.
func forwardsTo(out, addr string) int {
	n := 0
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "->" && strings.HasPrefix(f[1], addr+":") && f[3] != "0" {
			n++
		}
	}
	return n
}
