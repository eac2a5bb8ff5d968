package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/frr"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// The scale-out topology: one bridge "lan" (10.0.0.0/24) with the router
// (.1), three lbnodes (.11-.13) and three direct-routing real servers
// (.101-.103, the VIP on their loopback), and a bridge "edge" between the
// router (10.9.0.1) and the client (10.9.0.2). The router is FRR: eBGP
// with each node, BFD 300 ms x 3, ECMP over the nodes that announce the
// VIP, flows hashed on their ports.
var (
	soVIP    = netip.MustParsePrefix("192.168.100.1/32")
	soRouter = netip.MustParseAddr("10.0.0.1")
	soClient = netip.MustParseAddr("10.9.0.2")
)

type soNode struct {
	name string
	addr netip.Addr
	ns   *topology.NS
	h    *netnstest.NS
	conf string
	proc *topology.Proc
}

type scaleOut struct {
	tp     *netnstest.Topology
	router *frr.Router
	client *topology.NS
	nodes  []*soNode
	// started is when the first node was started.
	started time.Time
}

// soNodeYAML is an lbnode configuration: one virtual server on the VIP
// over the three real servers, in the same order on every node (a failed
// one stays in the kernel's list with weight 0: inhibit_on_failure), and
// the bgp section. With mh, sloppy_tcp lets a node schedule the
// mid-stream packets of a flow the router moved to it.
func soNodeYAML(n *soNode, algo string, sloppy bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  router_id: %s\nvirtual_servers:\n  - address: %s:80\n    protocol: TCP\n    lb_algo: %s\n    lb_kind: DR\n    delay_loop: 1\n    real_servers:\n",
		n.name, soVIP.Addr(), algo)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "      - address: 10.0.0.10%d:80\n        inhibit_on_failure: true\n        checkers:\n          - type: TCP_CHECK\n            connect_timeout: 1\n", i)
	}
	if sloppy {
		b.WriteString("sysctls:\n  net.ipv4.vs.sloppy_tcp: 1\n")
	}
	fmt.Fprintf(&b, "bgp:\n  asn: 65001\n  router_id: %s\n  withdraw_wait: 2\n  neighbors:\n    - address: %s\n      asn: 65000\n      hold_time: 3\n      bfd: true\n  announce:\n    - %s\n",
		n.addr, soRouter, soVIP)
	return b.String()
}

func sysctls(t *testing.T, ns *topology.NS, kvs ...string) {
	t.Helper()
	for _, kv := range kvs {
		if out, err := ns.Command("sysctl", "-qw", kv).CombinedOutput(); err != nil {
			t.Fatalf("%s: sysctl %s: %v: %s", ns.Name, kv, err, out)
		}
	}
}

func nsRun(t *testing.T, ns *topology.NS, name string, args ...string) string {
	t.Helper()
	out, err := ns.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s %s: %v: %s", ns.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func buildScaleOut(t *testing.T, algo string, sloppy bool) *scaleOut {
	t.Helper()
	s := &scaleOut{tp: netnstest.NewTopology(t)}
	s.tp.Bridge("lan")
	s.tp.Bridge("edge")
	r := s.tp.Host("router")
	s.tp.Connect(r, "eth0", "lan", "10.0.0.1/24")
	s.tp.Connect(r, "eth1", "edge", "10.9.0.1/24")
	c := s.tp.Host("client")
	s.tp.Connect(c, "eth0", "edge", soClient.String()+"/24")
	nsRun(t, c.NS, "ip", "route", "add", "default", "via", "10.9.0.1")
	s.client = c.NS
	for i := 1; i <= 3; i++ {
		h := s.tp.Host(fmt.Sprintf("web%d", i))
		sysctls(t, h.NS, "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2")
		s.tp.Connect(h, "eth0", "lan", fmt.Sprintf("10.0.0.10%d/24", i))
		nsRun(t, h.NS, "ip", "addr", "add", soVIP.String(), "dev", "lo")
		nsRun(t, h.NS, "ip", "route", "add", "default", "via", soRouter.String())
		w := &cluster.WebServer{Name: fmt.Sprintf("web%d", i)}
		var l net.Listener
		if err := h.Do(func() (err error) { l, err = net.Listen("tcp4", ":80"); return err }); err != nil {
			t.Fatal(err)
		}
		w.Serve(l)
		t.Cleanup(func() { w.Close() })
	}
	rt, err := frr.Start(context.Background(), r.NS, frr.Config{
		ASN: 65000, RouterID: soRouter, NeighborASN: 65001, BFD: true,
		Neighbors: []netip.Addr{netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12"), netip.MustParseAddr("10.0.0.13")},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.router = rt
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("router:\n%s", rt.Output())
		}
		rt.Close()
	})
	dir := t.TempDir()
	s.started = time.Now()
	for i := 1; i <= 3; i++ {
		h := s.tp.Host(fmt.Sprintf("lb%d", i))
		sysctls(t, h.NS, "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2")
		n := &soNode{name: fmt.Sprintf("lb%d", i), addr: netip.MustParseAddr(fmt.Sprintf("10.0.0.1%d", i)), ns: h.NS, h: h}
		s.tp.Connect(h, "eth0", "lan", n.addr.String()+"/24")
		n.conf = filepath.Join(dir, n.name+".yaml")
		if err := os.WriteFile(n.conf, []byte(soNodeYAML(n, algo, sloppy)), 0o644); err != nil {
			t.Fatal(err)
		}
		s.nodes = append(s.nodes, n)
		s.start(t, n)
	}
	return s
}

func (s *scaleOut) start(t *testing.T, n *soNode) {
	t.Helper()
	p, err := n.ns.Start("env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", n.conf)
	if err != nil {
		t.Fatal(err)
	}
	n.proc = p
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("lbnode on %s:\n%s", n.name, p.Output())
		}
	})
}

// paths returns the router's next hops for the VIP, as node names.
func (s *scaleOut) paths(t *testing.T) []string {
	t.Helper()
	hops, err := s.router.Paths(soVIP)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hops {
		for _, n := range s.nodes {
			if n.addr == h {
				names = append(names, n.name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// waitPaths waits (at most 2 minutes, polling every 20 ms) until the
// router's next hops are want and returns when it saw them.
func (s *scaleOut) waitPaths(t *testing.T, what string, want ...string) time.Time {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if slices.Equal(s.paths(t), want) {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: the router's paths are %v, want %v; route: %s", what, s.paths(t), want, s.router.Route(soVIP))
	return time.Time{}
}

var ipvsConnRe = regexp.MustCompile(`(?m)^TCP\s+\S+\s+(\S+)\s+` + regexp.QuoteMeta(soClient.String()) + `:(\d+)\s+`)

// connsByNode maps the client's source ports to the node whose IPVS has an
// established connection entry for them.
func (s *scaleOut) connsByNode(t *testing.T) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, n := range s.nodes {
		if n.proc.Exited() {
			continue
		}
		o, err := n.ns.Command("ipvsadm", "-Lnc").CombinedOutput()
		if err != nil {
			continue
		}
		for _, m := range ipvsConnRe.FindAllStringSubmatch(string(o), -1) {
			if m[1] != "ESTABLISHED" {
				continue
			}
			port, _ := strconv.Atoi(m[2])
			out[port] = n.name
		}
	}
	return out
}

// serviceConns is the number of connections a node's IPVS scheduled for
// the VIP's service.
func serviceConns(t *testing.T, n *soNode) int {
	t.Helper()
	o := nsRun(t, n.ns, "ipvsadm", "-Ln", "--stats", "-t", netip.AddrPortFrom(soVIP.Addr(), 80).String())
	for _, line := range strings.Split(o, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "TCP" {
			v, _ := strconv.Atoi(f[2])
			return v
		}
	}
	t.Fatalf("%s: no service in ipvsadm --stats:\n%s", n.name, o)
	return 0
}

// keepAlive is a set of long-lived HTTP/1.1 connections from the client
// to the VIP, each sending a request every second until stopped (at most
// for limit). The load is kept light: under the VM's software emulation a
// heavy one delays BFD packets past 900 ms and the router takes healthy
// nodes out.
type keepAlive struct {
	mu     sync.Mutex
	ports  []int
	failed map[int]error
	when   map[int]time.Time // of the failure
	reqs   int
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startKeepAlive(t *testing.T, ns *topology.NS, n int, limit time.Duration) *keepAlive {
	t.Helper()
	k := &keepAlive{failed: map[int]error{}, when: map[int]time.Time{}, stop: make(chan struct{})}
	for range n {
		var c net.Conn
		if err := ns.Do(func() (err error) {
			c, err = net.DialTimeout("tcp4", netip.AddrPortFrom(soVIP.Addr(), 80).String(), 5*time.Second)
			return err
		}); err != nil {
			k.Stop()
			t.Fatalf("client: connecting to the VIP: %v", err)
		}
		port := c.LocalAddr().(*net.TCPAddr).Port
		k.ports = append(k.ports, port)
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			defer c.Close()
			rd := bufio.NewReader(c)
			deadline := time.Now().Add(limit)
			for i := 0; time.Now().Before(deadline); i++ {
				select {
				case <-k.stop:
					return
				default:
				}
				if err := keepAliveGet(c, rd); err != nil {
					k.mu.Lock()
					k.failed[port] = err
					k.when[port] = time.Now()
					k.mu.Unlock()
					return
				}
				k.mu.Lock()
				k.reqs++
				k.mu.Unlock()
				select {
				case <-k.stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
	}
	return k
}

func keepAliveGet(c net.Conn, rd *bufio.Reader) error {
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: vip\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return err
}

func (k *keepAlive) Stop() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
	k.wg.Wait()
}

// lastReset is the router's word on why its session with n last went down.
func (s *scaleOut) lastReset(n *soNode) string {
	out, err := s.router.VTY("show bgp neighbors " + n.addr.String())
	if err != nil {
		return err.Error()
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Last reset") {
			return strings.TrimSpace(line)
		}
	}
	return "none"
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

// failedBefore counts the connections that failed before t.
func (k *keepAlive) failedBefore(t time.Time) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, w := range k.when {
		if w.Before(t) {
			n++
		}
	}
	return n
}

// pathWatch records every change of the router's next hops for the VIP.
type pathWatch struct {
	mu      sync.Mutex
	changes []pathChange
	stop    chan struct{}
	done    chan struct{}
}

type pathChange struct {
	at    time.Time
	paths []string
}

func (s *scaleOut) watchPaths(t *testing.T) *pathWatch {
	w := &pathWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var last []string
		for i := 0; i < 20000; i++ { // bounded: at most about half an hour of samples
			select {
			case <-w.stop:
				return
			default:
			}
			hops, err := s.router.Paths(soVIP)
			if err == nil {
				var names []string
				for _, h := range hops {
					for _, n := range s.nodes {
						if n.addr == h {
							names = append(names, n.name)
						}
					}
				}
				slices.Sort(names)
				if i == 0 || !slices.Equal(names, last) {
					w.mu.Lock()
					w.changes = append(w.changes, pathChange{time.Now(), names})
					w.mu.Unlock()
					last = names
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return w
}

// Stop ends the watch and returns its changes relative to t0.
func (w *pathWatch) Stop(t0 time.Time) string {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.changes {
		out = append(out, fmt.Sprintf("%+.2fs %v", c.at.Sub(t0).Seconds(), c.paths))
	}
	return strings.Join(out, ", ")
}

// survival counts, for the connections through each group of nodes, how
// many kept working.
type survival struct{ total, kept int }

func (v survival) String() string {
	if v.total == 0 {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d (%.0f %%)", v.kept, v.total, 100*float64(v.kept)/float64(v.total))
}

func (k *keepAlive) survival(byNode map[int]string, inGroup func(string) bool) survival {
	k.mu.Lock()
	defer k.mu.Unlock()
	var v survival
	for _, p := range k.ports {
		if n, ok := byNode[p]; ok && inGroup(n) {
			v.total++
			if k.failed[p] == nil {
				v.kept++
			}
		}
	}
	return v
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
	up := s.waitPaths(t, "three ECMP paths", "lb1", "lb2", "lb3").Sub(s.started)
	t.Logf("%s: three ECMP paths %v after the nodes started; router: %s", mode, up.Round(time.Millisecond), s.router.Route(soVIP))

	// New connections are answered through every node.
	for i := range 60 {
		if _, err := cluster.HTTPGet(s.client, netip.AddrPortFrom(soVIP.Addr(), 80), 5*time.Second); err != nil {
			t.Fatalf("new connection %d: %v", i, err)
		}
	}
	var per []string
	for _, n := range s.nodes {
		c := serviceConns(t, n)
		per = append(per, fmt.Sprintf("%s %d", n.name, c))
		if c == 0 {
			t.Errorf("%s scheduled none of 60 new connections: the router does not spread them", n.name)
		}
	}
	t.Logf("%s: 60 new connections scheduled by %s", mode, strings.Join(per, ", "))

	// Power loss of lb3 under 45 long-lived connections.
	watch := s.watchPaths(t)
	ka := startKeepAlive(t, s.client, 45, 2*time.Minute)
	defer ka.Stop()
	time.Sleep(2 * time.Second)
	byNode := s.connsByNode(t)
	dead := s.nodes[2]
	cut := time.Now()
	s.tp.SetPort(dead.h, "eth0", false)
	if err := dead.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	conv := s.waitPaths(t, "lb3's path dropped", "lb1", "lb2").Sub(cut)
	t.Logf("%s: power loss of lb3: the router dropped its path %v after the link cut (BFD 300 ms x 3); router: %s",
		mode, conv.Round(time.Millisecond), s.router.Route(soVIP))
	time.Sleep(5 * time.Second)
	ka.Stop()
	if out, err := s.router.VTY("show bfd peers brief"); err == nil {
		t.Logf("%s: router's BFD sessions after the power loss:\n%s", mode, out)
	}
	t.Logf("%s: router's last reset of lb3's session: %s", mode, s.lastReset(dead))
	t.Logf("%s: the router's paths around the power loss (time from the link cut): %s; connections failed before the cut: %d",
		mode, watch.Stop(cut), ka.failedBefore(cut))
	others := ka.survival(byNode, func(n string) bool { return n != dead.name })
	ofDead := ka.survival(byNode, func(n string) bool { return n == dead.name })
	t.Logf("%s: long-lived connections kept: %s of those through lb1/lb2, %s of those through lb3; %d requests answered; %d connections not found in any node's table",
		mode, others, ofDead, ka.reqs, len(ka.ports)-others.total-ofDead.total)
	if algo != "mh" {
		return
	}
	if others.total == 0 || others.kept*100 < others.total*95 {
		t.Errorf("%s: kept %s of the connections not served by the dead node, want at least 95 %%", mode, others)
	}

	// lb1's real servers fail for lb1 (its checks are dropped): it
	// withdraws; they recover: it announces again.
	lb1 := s.nodes[0]
	nsRun(t, lb1.ns, "nft", "add table inet lvskit_test; add chain inet lvskit_test out { type filter hook output priority 0 ; } ; add rule inet lvskit_test out ip saddr 10.0.0.11 tcp dport 80 drop")
	failAt := time.Now()
	w := s.waitPaths(t, "lb1 withdrawn", "lb2").Sub(failAt)
	t.Logf("%s: lb1's real servers failing for it: withdrawn from the router after %v", mode, w.Round(time.Millisecond))
	nsRun(t, lb1.ns, "nft", "delete table inet lvskit_test")
	backAt := time.Now()
	w = s.waitPaths(t, "lb1 back", "lb1", "lb2").Sub(backAt)
	t.Logf("%s: lb1's real servers back: announced again after %v", mode, w.Round(time.Millisecond))

	// Graceful stop of lb1 under new long-lived connections.
	ka = startKeepAlive(t, s.client, 30, 2*time.Minute)
	defer ka.Stop()
	time.Sleep(2 * time.Second)
	byNode = s.connsByNode(t)
	stopAt := time.Now()
	if err := lb1.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	w = s.waitPaths(t, "lb1 withdrawn at its graceful stop", "lb2").Sub(stopAt)
	if err := lb1.proc.Wait(60 * time.Second); err != nil {
		t.Errorf("lb1's graceful stop: %v\n%s", err, lb1.proc.Output())
	}
	t.Logf("%s: graceful stop of lb1: withdrawn after %v, process gone after %v (SIGTERM at %s); lb1's log: %s; router's last reset: %s",
		mode, w.Round(time.Millisecond), time.Since(stopAt).Round(time.Millisecond), stopAt.UTC().Format("15:04:05.000"), bgpLines(lb1.proc.Output()), s.lastReset(lb1))
	time.Sleep(3 * time.Second)
	ka.Stop()
	onLB2 := ka.survival(byNode, func(n string) bool { return n == "lb2" })
	onLB1 := ka.survival(byNode, func(n string) bool { return n == "lb1" })
	t.Logf("%s: graceful stop: kept %s of the connections through lb2, %s of those through lb1", mode, onLB2, onLB1)
	if onLB2.kept != onLB2.total {
		t.Errorf("graceful stop of lb1 broke %d of the %d connections that lb2 serves", onLB2.total-onLB2.kept, onLB2.total)
	}
}
