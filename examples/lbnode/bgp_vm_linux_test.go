package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/frr"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/scaleout"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// The topology is package scaleout's: an FRR router (eBGP with each node,
// BFD 300 ms x 3, ECMP over the nodes that announce the VIP, flows hashed
// on their ports), three lbnodes (this test binary standing in for
// lbnode), three direct-routing real servers and a client behind the
// router.

func nsRun(t *testing.T, ns *topology.NS, name string, args ...string) string {
	t.Helper()
	out, err := ns.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s %s: %v: %s", ns.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildScaleOut builds the topology and starts the nodes; the test's
// cleanup stops and removes everything, and logs the router's and the
// nodes' output if the test failed.
func buildScaleOut(t *testing.T, algo string, sloppy bool) *scaleout.Cluster {
	t.Helper()
	return buildScaleOutConfig(t, scaleout.Config{Algo: algo, Sloppy: sloppy})
}

func buildScaleOutConfig(t *testing.T, cfg scaleout.Config) *scaleout.Cluster {
	t.Helper()
	netnstest.RequirePrivileged(t)
	cfg.LBNode = []string{"env", "LVSKIT_LBNODE_MAIN=1", os.Args[0]}
	s, err := scaleout.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.StopNodes()
		if t.Failed() {
			t.Logf("router:\n%s", s.Router.Output())
			for _, n := range s.Nodes {
				t.Logf("lbnode on %s:\n%s", n.Name, n.Proc.Output())
			}
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// waitPaths waits (at most 2 minutes) until the router's next hops are
// want and returns when it saw them.
func waitPaths(t *testing.T, s *scaleout.Cluster, what string, want ...string) time.Time {
	t.Helper()
	at, err := s.WaitPaths(context.Background(), 2*time.Minute, want...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return at
}

// waitStablePaths waits for next hops that last 3 s: a session just up
// may still flap, and new connections sent meanwhile would miss a node.
func waitStablePaths(t *testing.T, s *scaleout.Cluster, what string, want ...string) time.Time {
	t.Helper()
	at, err := s.WaitStablePaths(context.Background(), 2*time.Minute, 3*time.Second, want...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return at
}

func serviceConns(t *testing.T, s *scaleout.Cluster, n *scaleout.Node) int {
	t.Helper()
	c, err := s.ServiceConns(n)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startKeepAlive(t *testing.T, s *scaleout.Cluster, n int, limit time.Duration) *scaleout.KeepAlive {
	t.Helper()
	k, err := scaleout.StartKeepAlive(s.Client, scaleout.Service, n, limit)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// bgpLines are the bgp lines of an lbnode's log from its stop on, time and
// message only.
func bgpLines(log string) string {
	var out []string
	stopping := false
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "msg=stopping") {
			stopping = true
		}
		if !stopping || !strings.Contains(line, "bgp") {
			continue
		}
		if i := strings.Index(line, "time="); i >= 0 && len(line) > i+29 {
			line = line[i+16:i+28] + " " + line[strings.Index(line, "msg="):]
		}
		out = append(out, line)
	}
	return strings.Join(out, " | ")
}

// TestVMScaleOutBGP runs three lbnodes that announce the VIP by BGP to an
// FRR router, once with the mh scheduler and sloppy_tcp (consistent
// forwarding), once with rr and no sloppy_tcp (plain ECMP, the baseline),
// and prints the figures: the router's convergence after a node's power
// loss and the long-lived connections that survive it. With mh it checks
// that at least 95 % of the connections not served by the dead node keep
// working; that a node whose real servers all fail (for it) withdraws and
// comes back; and that a graceful stop loses no connection that another
// node serves.
func TestVMScaleOutBGP(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ip", "ipvsadm", "vtysh", "sysctl", "nft", "env")
	if why := frr.Available(); why != "" {
		netnstest.Unavailable(t, why)
	}
	for _, m := range []struct {
		name   string
		algo   string
		sloppy bool
	}{{"maglev", "mh", true}, {"plain-ecmp", "rr", false}} {
		t.Run(m.name, func(t *testing.T) { scaleOutRun(t, m.name, m.algo, m.sloppy) })
	}
}

func scaleOutRun(t *testing.T, mode, algo string, sloppy bool) {
	s := buildScaleOut(t, algo, sloppy)
	up := waitStablePaths(t, s, "three ECMP paths", "lb1", "lb2", "lb3").Sub(s.Started)
	t.Logf("%s: three ECMP paths %v after the nodes started; router: %s", mode, up.Round(time.Millisecond), s.Router.Route(scaleout.VIP))

	// New connections are answered through every node.
	for i := range 60 {
		if _, err := cluster.HTTPGet(s.Client, scaleout.Service, 5*time.Second); err != nil {
			t.Fatalf("new connection %d: %v", i, err)
		}
	}
	// ipvsadm --stats shows what the kernel's rate estimator last summed
	// up, every 2 s: read until the nodes' counts add up to 60.
	var per []string
	var counts []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		per, counts = nil, nil
		sum := 0
		for _, n := range s.Nodes {
			c := serviceConns(t, s, n)
			per = append(per, fmt.Sprintf("%s %d", n.Name, c))
			counts = append(counts, c)
			sum += c
		}
		if sum >= 60 || time.Now().After(deadline) {
			break
		}
	}
	for i, n := range s.Nodes {
		if counts[i] == 0 {
			t.Errorf("%s scheduled none of 60 new connections: the router does not spread them (%s)", n.Name, strings.Join(per, ", "))
		}
	}
	t.Logf("%s: 60 new connections scheduled by %s", mode, strings.Join(per, ", "))

	// Power loss of lb3 under 45 long-lived connections.
	watch := s.WatchPaths()
	ka := startKeepAlive(t, s, 45, 2*time.Minute)
	defer ka.Stop()
	time.Sleep(2 * time.Second)
	byNode := s.ConnsByNode()
	dead := s.Nodes[2]
	cut, err := s.PowerLoss(dead)
	if err != nil {
		t.Fatal(err)
	}
	conv := waitPaths(t, s, "lb3's path dropped", "lb1", "lb2").Sub(cut)
	t.Logf("%s: power loss of lb3: the router dropped its path %v after the link cut (BFD 300 ms x 3); router: %s",
		mode, conv.Round(time.Millisecond), s.Router.Route(scaleout.VIP))
	time.Sleep(5 * time.Second)
	ka.Stop()
	if out, err := s.Router.VTY("show bfd peers brief"); err == nil {
		t.Logf("%s: router's BFD sessions after the power loss:\n%s", mode, out)
	}
	t.Logf("%s: router's last reset of lb3's session: %s", mode, s.LastReset(dead))
	t.Logf("%s: the router's paths around the power loss (time from the link cut): %s; connections failed before the cut: %d",
		mode, watch.Stop(cut), ka.FailedBefore(cut))
	others := ka.Survival(byNode, func(n string) bool { return n != dead.Name })
	ofDead := ka.Survival(byNode, func(n string) bool { return n == dead.Name })
	t.Logf("%s: long-lived connections kept: %s of those through lb1/lb2, %s of those through lb3; %d requests answered; %d connections not found in any node's table",
		mode, others, ofDead, ka.Requests(), len(ka.Ports())-others.Total-ofDead.Total)
	if algo != "mh" {
		return
	}
	if others.Total == 0 || others.Kept*100 < others.Total*95 {
		t.Errorf("%s: kept %s of the connections not served by the dead node, want at least 95 %%", mode, others)
	}

	// lb1's real servers fail for lb1 (its checks are dropped): it
	// withdraws; they recover: it announces again.
	lb1 := s.Nodes[0]
	nsRun(t, lb1.NS, "nft", "add table inet lvskit_test; add chain inet lvskit_test out { type filter hook output priority 0 ; } ; add rule inet lvskit_test out ip saddr 10.0.0.11 tcp dport 80 drop")
	failAt := time.Now()
	w := waitPaths(t, s, "lb1 withdrawn", "lb2").Sub(failAt)
	t.Logf("%s: lb1's real servers failing for it: withdrawn from the router after %v", mode, w.Round(time.Millisecond))
	nsRun(t, lb1.NS, "nft", "delete table inet lvskit_test")
	backAt := time.Now()
	w = waitPaths(t, s, "lb1 back", "lb1", "lb2").Sub(backAt)
	t.Logf("%s: lb1's real servers back: announced again after %v", mode, w.Round(time.Millisecond))

	// Graceful stop of lb1 under new long-lived connections.
	ka = startKeepAlive(t, s, 30, 2*time.Minute)
	defer ka.Stop()
	time.Sleep(2 * time.Second)
	byNode = s.ConnsByNode()
	stopAt := time.Now()
	if err := lb1.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	w = waitPaths(t, s, "lb1 withdrawn at its graceful stop", "lb2").Sub(stopAt)
	if err := lb1.Proc.Wait(60 * time.Second); err != nil {
		t.Errorf("lb1's graceful stop: %v\n%s", err, lb1.Proc.Output())
	}
	t.Logf("%s: graceful stop of lb1: withdrawn after %v, process gone after %v (SIGTERM at %s); lb1's log: %s; router's last reset: %s",
		mode, w.Round(time.Millisecond), time.Since(stopAt).Round(time.Millisecond), stopAt.UTC().Format("15:04:05.000"), bgpLines(lb1.Proc.Output()), s.LastReset(lb1))
	time.Sleep(3 * time.Second)
	ka.Stop()
	onLB2 := ka.Survival(byNode, func(n string) bool { return n == "lb2" })
	onLB1 := ka.Survival(byNode, func(n string) bool { return n == "lb1" })
	t.Logf("%s: graceful stop: kept %s of the connections through lb2, %s of those through lb1", mode, onLB2, onLB1)
	if onLB2.Kept != onLB2.Total {
		t.Errorf("graceful stop of lb1 broke %d of the %d connections that lb2 serves", onLB2.Total-onLB2.Kept, onLB2.Total)
	}
}

// served is one request on a connection of its own: the client's source
// port and the web server that answered.
type served struct {
	port   int
	server string
}

var helloRe = regexp.MustCompile(`Hello from (\S+) !`)

// getServed makes n requests from the client to the VIP, each on a new
// connection, and returns who answered each.
func getServed(t *testing.T, s *scaleout.Cluster, n int) []served {
	t.Helper()
	var out []served
	for i := range n {
		var c net.Conn
		if err := s.Client.Do(func() (err error) {
			c, err = net.DialTimeout("tcp4", scaleout.Service.String(), 5*time.Second)
			return err
		}); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")
		body, err := io.ReadAll(c)
		port := c.LocalAddr().(*net.TCPAddr).Port
		c.Close()
		m := helloRe.FindSubmatch(body)
		if err != nil || m == nil {
			t.Fatalf("connection %d (port %d): %v, answer %q", i, port, err, body)
		}
		out = append(out, served{port, string(m[1])})
	}
	return out
}

// scheduling counts, for the connections of got, those whose entry node
// forwarded them to another node's web server and those that more than
// one node scheduled, and lists who answered and who scheduled.
func scheduling(got []served, entries map[int][]string) (forwarded, twice, none int, answered, scheduled map[string]int) {
	answered, scheduled = map[string]int{}, map[string]int{}
	for _, g := range got {
		answered[g.server]++
		e := entries[g.port]
		for _, n := range e {
			scheduled[n]++
		}
		switch {
		case len(e) == 0:
			none++
		case len(e) > 1:
			twice++
		case e[0] != g.server:
			forwarded++
		}
	}
	return forwarded, twice, none, answered, scheduled
}

func macOf(t *testing.T, ns *topology.NS) string {
	t.Helper()
	l, err := nsLink(ns, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// nsLink is the link-layer address of ifname in ns.
func nsLink(ns *topology.NS, ifname string) (string, error) {
	out, err := ns.Command("ip", "-br", "link", "show", ifname).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: ip link show %s: %v: %s", ns.Name, ifname, err, out)
	}
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return "", fmt.Errorf("%s: ip -br link show %s: %q", ns.Name, ifname, out)
	}
	return f[2], nil
}

// TestVMScaleOutColocated runs the three nodes as each other's real
// servers (each lbN's web server behind every node's IPVS, as in the
// two-node design) and proves the loop prevention of the bgp section's
// mark: lbnode marks what the router sends to VIP:80 (its link-layer
// address, learned from the neighbor table) for the fwmark service, so a
// connection that one node forwards to another node's web server is
// answered there without being scheduled again: every connection has an
// IPVS entry on exactly one node. As the counter-proof, the nodes' own
// addresses are then added to every node's set by hand, and the
// connections forwarded between nodes are scheduled twice.
func TestVMScaleOutColocated(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ip", "ipvsadm", "vtysh", "sysctl", "nft", "env")
	if why := frr.Available(); why != "" {
		netnstest.Unavailable(t, why)
	}
	s := buildScaleOutConfig(t, scaleout.Config{Colocated: true})
	up := waitStablePaths(t, s, "three ECMP paths", "lb1", "lb2", "lb3").Sub(s.Started)
	t.Logf("colocated: three ECMP paths %v after the nodes started; router: %s", up.Round(time.Millisecond), s.Router.Route(scaleout.VIP))

	rmac := macOf(t, s.Router.NS)
	for _, n := range s.Nodes {
		netnstest.WaitFor(t, n.Name+"'s marking set holding the router's address "+rmac, 30*time.Second, func() bool {
			out, _ := n.NS.Command("nft", "list", "set", "inet", "lvskit_mark", "sources").CombinedOutput()
			return strings.Contains(string(out), rmac)
		})
	}
	t.Logf("colocated: lb1's marking table:\n%s", nsRun(t, s.Nodes[0].NS, "nft", "list", "table", "inet", "lvskit_mark"))

	got := getServed(t, s, 60)
	forwarded, twice, none, answered, scheduled := scheduling(got, s.EntriesByPort())
	t.Logf("colocated, marked by the router's address: 60 connections answered by %v, scheduled by %v; %d forwarded to another node's web server, %d scheduled by two nodes, %d by none; client: %s",
		answered, scheduled, forwarded, twice, none, s.ClientRetrans())
	if twice > 0 || none > 0 {
		t.Errorf("%d connections were scheduled by more than one node and %d by none; want each by exactly one", twice, none)
		for _, n := range s.Nodes {
			t.Logf("%s's connection entries:\n%s", n.Name, nsRun(t, n.NS, "ipvsadm", "-Lnc"))
		}
	}
	if forwarded == 0 {
		t.Errorf("no connection was forwarded to another node's web server: the test shows nothing")
	}
	for _, n := range s.Nodes {
		if answered[n.Name] == 0 || scheduled[n.Name] == 0 {
			t.Errorf("%s answered %d and scheduled %d of 60 connections; want some of each", n.Name, answered[n.Name], scheduled[n.Name])
		}
	}

	// Counter-proof: with the nodes' own addresses marked too, what a
	// node forwards is scheduled again where it arrives.
	var macs []string
	for _, n := range s.Nodes {
		macs = append(macs, macOf(t, n.NS))
	}
	for _, n := range s.Nodes {
		nsRun(t, n.NS, "nft", "add element inet lvskit_mark sources { "+strings.Join(macs, ", ")+" }")
	}
	got = getServed(t, s, 30)
	forwarded, twice, none, answered, scheduled = scheduling(got, s.EntriesByPort())
	t.Logf("colocated, the nodes' addresses marked too: 30 connections answered by %v, scheduled by %v; %d forwarded and scheduled once, %d scheduled by two nodes, %d by none; client: %s",
		answered, scheduled, forwarded, twice, none, s.ClientRetrans())
	if twice == 0 {
		t.Errorf("with every node's address marked, no connection was scheduled twice: the entries do not show re-scheduling")
	}

	// A graceful stop removes the marking table.
	lb1 := s.Nodes[0]
	if err := lb1.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := lb1.Proc.Wait(60 * time.Second); err != nil {
		t.Fatalf("lb1's graceful stop: %v", err)
	}
	if out := nsRun(t, lb1.NS, "nft", "list", "tables"); strings.Contains(out, "lvskit_mark") {
		t.Errorf("lb1 stopped and left its marking table:\n%s", out)
	}
}
