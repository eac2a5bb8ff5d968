package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/scaleout"
	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// demo is one run of the cluster demo.
type demo struct {
	out     io.Writer
	lbnode  string
	preempt bool
	bgp     bool
	inVM    bool
	// v3 runs the instance as VRRPv3 at v3Interval adverts.
	v3 bool

	c     *cluster.Cluster
	so    *scaleout.Cluster // with -bgp
	dir   string
	nodes map[string]*topology.Proc
	steps []step
}

type step struct {
	name string
	ok   bool
	note string
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

func (d *demo) record(name string, err error, note string) bool {
	s := step{name: name, ok: err == nil, note: note}
	if err != nil {
		s.note = err.Error()
		d.say("  FAILED: %v", err)
	}
	d.steps = append(d.steps, s)
	return err == nil
}

func (d *demo) run(ctx context.Context) int {
	start := time.Now()
	defer d.cleanup()
	d.nodes = map[string]*topology.Proc{}
	if d.bgp {
		d.scaleOut(ctx)
		return d.summary(start)
	}

	d.say("== 1. The article's topology: switch (bridges lan, svc), client, lb1, lb2, web1-3, dns1-2")
	var err error
	if d.c, err = cluster.BuildNamed(); err != nil {
		d.record("topology", err, "")
		return d.summary(start)
	}
	d.dir, err = os.MkdirTemp("", "lvskit-demo-")
	if err != nil {
		d.record("topology", err, "")
		return d.summary(start)
	}
	d.say("  web servers 192.168.0.101-103 answer \"Hello from server-N !\"; DNS servers 192.168.0.201-202 answer A queries")
	d.record("topology", nil, "8 namespaces, 2 bridges")
	if d.inVM {
		// Global and only settable from the initial namespace: the VM's.
		if err := os.WriteFile("/proc/sys/net/nf_conntrack_max", []byte("4194304"), 0); err != nil {
			d.say("  (net.nf_conntrack_max not set: %v)", err)
		}
	}

	d.say("\n== 2. lbnode on lb1 (priority 102), then lb2 (101): the election")
	if !d.record("election", d.election(ctx), "lb1 MASTER, lb2 BACKUP") {
		return d.summary(start)
	}

	d.say("\n== 3. 10 HTTP requests through the VIP (the article's nc loop)")
	note, err := d.httpRound(ctx, 10, true)
	d.record("http", err, note)
	d.say("\n== 4. 10 DNS queries through the VIP")
	note, err = d.dnsRound(ctx, 10)
	d.record("dns", err, note)

	d.say("\n== 5. The master's IPVS table (ip netns exec lb1 ipvsadm -Ln)")
	note, err = d.ipvsTable(ctx)
	d.record("ipvs", err, note)

	d.say("\n== 6. lb1's lbnode is killed (SIGKILL): the VIP moves to lb2")
	note, err = d.failover(ctx)
	d.record("failover", err, note)

	d.say("\n== 7. lb1 comes back")
	note, err = d.comeBack(ctx)
	d.record("return", err, note)
	return d.summary(start)
}

func (d *demo) startNode(name string, prio int) error {
	b := d.balancer(name)
	conf := filepath.Join(d.dir, name+".yaml")
	src := cluster.NodeYAML(b, cluster.NodeOptions{
		Priority: prio, Nopreempt: !d.preempt, NginxPrefix: filepath.Join(d.dir, "nginx-"+name), ConntrackMax: d.inVM,
		V3Interval: d.advertInt(),
	})
	if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
		return err
	}
	p, err := b.NS.Start(d.lbnode, "-f", conf, "-metrics", b.SVC.String()+":9100")
	if err != nil {
		return err
	}
	d.nodes[name] = p
	return nil
}

// v3Interval is the advert interval of -v3: ten adverts a second, so
// that a BACKUP takes over within half a second even in the emulated VM.
const v3Interval = 100 * time.Millisecond

// advertInt is the VRRPv3 interval for cluster.NodeOptions: v3Interval
// with -v3, else 0 (the article's VRRPv2, 1 s).
func (d *demo) advertInt() time.Duration {
	if d.v3 {
		return v3Interval
	}
	return 0
}

// masterDown is lb2's Master_Down_Interval at priority 101: 3 adverts and
// the skew time (256-101)/256 of one.
func (d *demo) masterDown() (time.Duration, string) {
	adv, what := time.Second, "1 s"
	if d.v3 {
		adv, what = v3Interval, v3Interval.String()
	}
	md := 3*adv + (256-101)*adv/256
	return md, fmt.Sprintf("3 x %s + (256-101)/256 x %s = %v", what, what, md.Round(time.Millisecond))
}

func (d *demo) balancer(name string) *cluster.Balancer {
	for _, b := range d.c.Balancers {
		if b.Name == name {
			return b
		}
	}
	panic("no balancer " + name)
}

func (d *demo) election(ctx context.Context) error {
	if err := d.startNode("lb1", 102); err != nil {
		return err
	}
	took, err := topology.WaitFor(ctx, "lb1 holding the VIP", 60*time.Second, func() bool { return d.balancer("lb1").HasVIP() })
	if err != nil {
		return fmt.Errorf("%w\nlbnode on lb1:\n%s", err, d.nodes["lb1"].Output())
	}
	d.say("  lb1: MASTER after %v (3 x advert_int + skew with no other router), VIP 192.168.0.100 on lb1 eth0", took.Round(time.Millisecond))
	if err := d.startNode("lb2", 101); err != nil {
		return err
	}
	if _, err := topology.WaitFor(ctx, "lb2 BACKUP", 60*time.Second, func() bool {
		return strings.Contains(d.nodes["lb2"].Output(), "to=BACKUP") && strings.Contains(d.nodes["lb2"].Output(), "node up")
	}); err != nil {
		return fmt.Errorf("%w\nlbnode on lb2:\n%s", err, d.nodes["lb2"].Output())
	}
	if d.balancer("lb2").HasVIP() {
		return errors.New("lb2 holds the VIP as well")
	}
	d.say("  lb2: BACKUP, its NAT switch accepts what lb1's IPVS forwards to it")
	// lb2's nginx was down when lb1 started, so lb1's health checks took it
	// out of IPVS; the next delay loop (6 s) puts it back.
	took, err = topology.WaitFor(ctx, "lb1's health checks adding lb2's nginx", 30*time.Second, func() bool {
		out, _ := d.balancer("lb1").NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return strings.Count(string(out), "-> 172.16.0.2:") == 2
	})
	if err != nil {
		return fmt.Errorf("%w\nlbnode on lb1:\n%s", err, d.nodes["lb1"].Output())
	}
	d.say("  lb1's health checks found lb2's nginx up and added it to IPVS after %v", took.Round(time.Millisecond))
	return nil
}

// httpRound sends n requests through the VIP; with all set, each of the
// three web servers must answer at least once.
func (d *demo) httpRound(ctx context.Context, n int, all bool) (string, error) {
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		body, err := cluster.HTTPGet(d.c.Client, netip.AddrPortFrom(cluster.VIP, 80), 5*time.Second)
		if err != nil {
			return "", fmt.Errorf("request %d: %v", i+1, err)
		}
		d.say("  %s", body)
		seen[body]++
	}
	note := fmt.Sprintf("%d/%d answered: server-1 %d, server-2 %d, server-3 %d", n, n,
		seen["Hello from server-1 !"], seen["Hello from server-2 !"], seen["Hello from server-3 !"])
	if all && len(seen) < 3 {
		return note, fmt.Errorf("only %d of 3 web servers answered: %s", len(seen), note)
	}
	return note, nil
}

func (d *demo) dnsRound(ctx context.Context, n int) (string, error) {
	by := map[netip.Addr]int{}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		a, err := cluster.DNSQuery(d.c.Client, netip.AddrPortFrom(cluster.VIP, 53), "www.example.com.", uint16(i+1), 3*time.Second)
		if err != nil {
			return "", fmt.Errorf("query %d: %v", i+1, err)
		}
		by[a]++
		d.say("  www.example.com. A %s (answered by dns%d)", a, int(a.As4()[3])-200)
	}
	note := fmt.Sprintf("%d/%d answered: dns1 %d, dns2 %d", n, n,
		by[netip.MustParseAddr("192.168.0.201")], by[netip.MustParseAddr("192.168.0.202")])
	if len(by) < 2 {
		return note, fmt.Errorf("only %d of 2 DNS servers answered: %s", len(by), note)
	}
	return note, nil
}

// realServer matches a destination line of ipvsadm -Ln: address,
// forwarding, weight, active and inactive connections.
var realServer = regexp.MustCompile(`(?m)^  -> (172\.16\.0\.[12]:(?:80|53))\s+\S+\s+\d+\s+(\d+)\s+(\d+)`)

func (d *demo) ipvsTable(ctx context.Context) (string, error) {
	lb1 := d.balancer("lb1")
	// The kernel folds its per-CPU counters into what ipvsadm shows every
	// two seconds.
	if _, err := topology.WaitFor(ctx, "IPVS counters", 10*time.Second, func() bool {
		out, _ := lb1.NS.Command("ipvsadm", "-Ln", "--stats").CombinedOutput()
		return strings.Count(string(out), "-> 172.16.0.") == 4 && !regexp.MustCompile(`-> 172\.16\.0\.\d+:\d+\s+0 `).Match(out)
	}); err != nil {
		return "", err
	}
	out, err := lb1.NS.Command("ipvsadm", "-Ln").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ipvsadm -Ln: %v: %s", err, out)
	}
	d.say("%s", indent(string(out)))
	stats, err := lb1.NS.Command("ipvsadm", "-Ln", "--stats").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ipvsadm -Ln --stats: %v: %s", err, stats)
	}
	d.say("  ipvsadm -Ln --stats:\n%s", indent(string(stats)))
	got := map[string]int{}
	for _, m := range realServer.FindAllStringSubmatch(string(out), -1) {
		act, _ := strconv.Atoi(m[2])
		inact, _ := strconv.Atoi(m[3])
		got[m[1]] = act + inact
	}
	var parts []string
	for _, rs := range []string{"172.16.0.1:80", "172.16.0.2:80", "172.16.0.1:53", "172.16.0.2:53"} {
		if got[rs] == 0 {
			return "", fmt.Errorf("real server %s (a balancer's nginx) has no connections", rs)
		}
		parts = append(parts, fmt.Sprintf("%s %d", rs, got[rs]))
	}
	d.say("  both balancers' nginx received traffic from the master's IPVS")
	return "connections: " + strings.Join(parts, ", "), nil
}

func (d *demo) failover(ctx context.Context) (string, error) {
	type res struct {
		at time.Time
		ok bool
	}
	results := make(chan res, 2000)
	stop := make(chan struct{})
	go func() {
		defer close(results)
		for i := 0; i < 1200; i++ { // bounded: 1,200 requests at most
			select {
			case <-stop:
				return
			default:
			}
			_, err := cluster.HTTPGet(d.c.Client, netip.AddrPortFrom(cluster.VIP, 80), 500*time.Millisecond)
			results <- res{time.Now(), err == nil}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(time.Second)
	if err := d.nodes["lb1"].Signal(syscall.SIGKILL); err != nil {
		close(stop)
		return "", err
	}
	took, err := topology.WaitFor(ctx, "lb2 holding the VIP", 20*time.Second, func() bool { return d.balancer("lb2").HasVIP() })
	if err != nil {
		close(stop)
		for range results {
		}
		return "", err
	}
	time.Sleep(3 * time.Second)
	close(stop)
	var n, failed int
	var firstFail, lastFail time.Time
	for r := range results {
		n++
		if !r.ok {
			failed++
			if firstFail.IsZero() {
				firstFail = r.at
			}
			lastFail = r.at
		}
	}
	outage := time.Duration(0)
	if failed > 0 {
		outage = lastFail.Sub(firstFail) + 550*time.Millisecond
	}
	note := fmt.Sprintf("VIP on lb2 %v after the kill; %d of %d requests failed (outage about %v)", took.Round(time.Millisecond), failed, n, outage.Round(10*time.Millisecond))
	d.say("  %s", note)
	md, how := d.masterDown()
	d.say("  (lb2's Master_Down_Interval is %s after lb1's last advert)", how)
	if limit := md + time.Second; outage > limit {
		return note, fmt.Errorf("%s: longer than Master_Down_Interval + 1 s", note)
	}
	if _, err := cluster.HTTPGet(d.c.Client, netip.AddrPortFrom(cluster.VIP, 80), 5*time.Second); err != nil {
		return note, fmt.Errorf("after failover: %v", err)
	}
	return note, nil
}

func (d *demo) comeBack(ctx context.Context) (string, error) {
	if err := d.startNode("lb1", 102); err != nil {
		return "", err
	}
	if _, err := topology.WaitFor(ctx, "lb1's lbnode up", 60*time.Second, func() bool { return strings.Contains(d.nodes["lb1"].Output(), "node up") }); err != nil {
		return "", err
	}
	var note string
	if d.preempt {
		took, err := topology.WaitFor(ctx, "lb1 preempting", 30*time.Second, func() bool { return d.balancer("lb1").HasVIP() && !d.balancer("lb2").HasVIP() })
		if err != nil {
			return "", err
		}
		note = fmt.Sprintf("lb1 took MASTER back after %v (preempt)", took.Round(time.Millisecond))
	} else {
		if _, err := topology.WaitFor(ctx, "lb1 dropping its stale VIP", 30*time.Second, func() bool { return !d.balancer("lb1").HasVIP() }); err != nil {
			return "", err
		}
		time.Sleep(4 * time.Second)
		if d.balancer("lb1").HasVIP() || !d.balancer("lb2").HasVIP() {
			return "", errors.New("with nopreempt lb2 should stay MASTER")
		}
		note = "lb1 BACKUP, lb2 stays MASTER (nopreempt, as in the article)"
	}
	d.say("  %s", note)
	if _, err := d.httpRound(ctx, 5, false); err != nil {
		return note, err
	}
	return note, nil
}

func (d *demo) summary(start time.Time) int {
	d.say("\n== Summary (%v)", time.Since(start).Round(100*time.Millisecond))
	code := 0
	for _, s := range d.steps {
		mark := "ok  "
		if !s.ok {
			mark = "FAIL"
			code = 1
		}
		d.say("  %s %-9s %s", mark, s.name, firstLine(s.note))
	}
	if len(d.steps) == 0 {
		code = 1
	}
	return code
}

func (d *demo) cleanup() {
	names := make([]string, 0, len(d.nodes))
	for n := range d.nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	// Together: each node drains (refuses the other's health checks) for
	// as long as those checks take before it stops its nginx.
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() { d.nodes[n].Stop(30 * time.Second) })
	}
	wg.Wait()
	if d.dir != "" {
		for _, n := range []string{"lb1", "lb2"} {
			if b, err := os.ReadFile(filepath.Join(d.dir, "nginx-"+n, "nginx.pid")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGQUIT)
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
		os.RemoveAll(d.dir)
	}
	if d.so != nil {
		if err := d.so.Close(); err != nil {
			d.say("cleanup: %v", err)
		}
	}
	if d.c != nil {
		if err := d.c.Close(); err != nil {
			d.say("cleanup: %v", err)
		}
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
