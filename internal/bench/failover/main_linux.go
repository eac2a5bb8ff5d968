package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/vrrp"
)

const (
	prio     = 100
	vipCIDR  = "172.16.0.100/24"
	settle   = 1500 * time.Millisecond
	deadline = 30 * time.Second
)

var (
	masterDown = vrrp.MasterDownInterval(time.Second, prio)
	skew       = vrrp.SkewTime(prio)
)

// node is one VRRP speaker of a pair.
type node interface {
	start() error
	stop() error // graceful
	masters() int
	backups() int
	close()
}

// procNode is a speaker running as its own process in its namespace, as
// in production: keepalived, or this program re-executed with -node (the
// lvskit speaker). Transitions are counted from its output.
type procNode struct {
	ns           *topology.NS
	argv         []string
	master, back string // output marks of the transitions
	p            *topology.Proc
	base         [2]int // counts of earlier runs
}

func (k *procNode) start() error {
	p, err := k.ns.Start(k.argv[0], k.argv[1:]...)
	if err != nil {
		return err
	}
	k.p = p
	return nil
}

func (k *procNode) count(s string) int {
	if k.p == nil {
		return 0
	}
	return strings.Count(k.p.Output(), s)
}

// stop sends SIGTERM: keepalived and lvskit both resign with priority 0.
func (k *procNode) stop() error {
	if k.p == nil {
		return nil
	}
	k.p.Stop(10 * time.Second)
	k.base[0] += k.count(k.master)
	k.base[1] += k.count(k.back)
	// keepalived's VRRP child, should it have outlived its parent.
	_ = k.p.KillChildren()
	k.p = nil
	return nil
}

func (k *procNode) masters() int { return k.base[0] + k.count(k.master) }
func (k *procNode) backups() int { return k.base[1] + k.count(k.back) }
func (k *procNode) close()       { k.stop() }

const kaConf = `global_defs {
	router_id %s
}
vrrp_instance VI_1 {
	state BACKUP
	interface eth1
	virtual_router_id 1
	priority %d
	advert_int 1
	virtual_ipaddress {
		%s
	}
}
`

// trial records one takeover: what was done to which node, when.
type trial struct {
	abrupt   bool
	from, to int
	at       time.Time // just before the cut or the stop
}

type result struct {
	abrupt, graceful, garp []time.Duration
}

func waitCount(what string, f func() int, above int) error {
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if f() > above {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v waiting for %s", deadline, what)
}

func bench(ctx context.Context, impl string, trials int, verbose bool) (*result, error) {
	tp, err := topology.New("")
	if err != nil {
		return nil, err
	}
	defer tp.Close()
	if err := tp.Bridge("svc"); err != nil {
		return nil, err
	}
	addrs := []netip.Addr{netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("172.16.0.2")}
	var hosts []*topology.NS
	var macs []string
	for i := range 2 {
		h, err := tp.Host(fmt.Sprintf("n%d", i+1))
		if err != nil {
			return nil, err
		}
		if err := tp.Connect(h, "eth1", "svc", addrs[i].String()+"/24"); err != nil {
			return nil, err
		}
		nl, err := h.Netlink()
		if err != nil {
			return nil, err
		}
		l, err := nl.LinkByName("eth1")
		if err != nil {
			return nil, err
		}
		macs = append(macs, fmt.Sprintf("%x", []byte(l.Attrs().HardwareAddr)))
		hosts = append(hosts, h)
	}
	dir, err := os.MkdirTemp("", "failover-"+impl)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pcap := filepath.Join(dir, "svc.pcap")
	dump, err := tp.Switch.Start("tcpdump", "-i", "svc", "-n", "-U", "--time-stamp-precision=nano", "-w", pcap, "proto 112 or arp")
	if err != nil {
		return nil, err
	}
	defer dump.Stop(5 * time.Second)
	wctx, cancel := context.WithTimeout(ctx, deadline)
	err = dump.WaitOutput(wctx, "listening on")
	cancel()
	if err != nil {
		return nil, fmt.Errorf("tcpdump: %w: %s", err, dump.Output())
	}

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	nodes := make([]node, 2)
	for i, h := range hosts {
		switch impl {
		case "lvskit":
			nodes[i] = &procNode{ns: h, argv: []string{self, "-node"}, master: "to=MASTER", back: "to=BACKUP"}
		case "keepalived":
			d := filepath.Join(dir, fmt.Sprint(i))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
			conf := fmt.Sprintf(kaConf, fmt.Sprintf("n%d", i+1), prio, vipCIDR)
			if err := os.WriteFile(filepath.Join(d, "keepalived.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			nodes[i] = &procNode{ns: h, master: "Entering MASTER STATE", back: "Entering BACKUP STATE",
				argv: []string{"keepalived", "-P", "-n", "-l", "-D", "-f", filepath.Join(d, "keepalived.conf"),
					"-p", filepath.Join(d, "keepalived.pid"), "-r", filepath.Join(d, "vrrp.pid")}}
		}
		defer nodes[i].close()
	}
	// Start the first node alone so that it becomes MASTER, then the other.
	if err := nodes[0].start(); err != nil {
		return nil, err
	}
	if err := waitCount("first master", nodes[0].masters, 0); err != nil {
		return nil, err
	}
	if err := nodes[1].start(); err != nil {
		return nil, err
	}
	if err := waitCount("second node BACKUP", nodes[1].backups, 0); err != nil {
		return nil, err
	}
	time.Sleep(settle)

	var done []trial
	m, b := 0, 1
	for i := range trials {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Abrupt: cut the master's cable.
		mb := nodes[b].masters()
		bm := nodes[m].backups()
		done = append(done, trial{abrupt: true, from: m, to: b, at: time.Now()})
		if err := tp.SetPort(hosts[m], "eth1", false); err != nil {
			return nil, err
		}
		if err := waitCount("takeover after the cut", nodes[b].masters, mb); err != nil {
			return nil, err
		}
		if err := tp.SetPort(hosts[m], "eth1", true); err != nil {
			return nil, err
		}
		if err := waitCount("old master BACKUP after the cut", nodes[m].backups, bm); err != nil {
			return nil, err
		}
		time.Sleep(settle)
		m, b = b, m

		// Graceful: stop the master, restart it as the backup.
		mb = nodes[b].masters()
		done = append(done, trial{abrupt: false, from: m, to: b, at: time.Now()})
		if err := nodes[m].stop(); err != nil {
			return nil, err
		}
		if err := waitCount("takeover after the stop", nodes[b].masters, mb); err != nil {
			return nil, err
		}
		bm = nodes[m].backups()
		if err := nodes[m].start(); err != nil {
			return nil, err
		}
		if err := waitCount("restarted node BACKUP", nodes[m].backups, bm); err != nil {
			return nil, err
		}
		time.Sleep(settle)
		m, b = b, m
		if verbose {
			fmt.Fprintf(os.Stderr, "%s: trial %d done\n", impl, i+1)
		}
	}
	time.Sleep(500 * time.Millisecond)
	dump.Signal(syscall.SIGINT)
	dump.Wait(10 * time.Second)
	raw, err := os.ReadFile(pcap)
	if err != nil {
		return nil, err
	}
	evs, err := parseCapture(raw)
	if err != nil {
		return nil, err
	}
	return analyse(evs, done, addrs, macs, verbose)
}

func analyse(evs []event, trials []trial, addrs []netip.Addr, macs []string, verbose bool) (*result, error) {
	res := &result{}
	for i, tr := range trials {
		from, to := addrs[tr.from], addrs[tr.to]
		var start, first, garp time.Time
		if tr.abrupt {
			for _, e := range evs {
				if !e.garp && e.src == from && e.at.Before(tr.at) {
					start = e.at
				}
			}
		} else {
			for _, e := range evs {
				if !e.garp && e.src == from && e.prio == 0 && !e.at.Before(tr.at) {
					start = e.at
					break
				}
			}
		}
		if start.IsZero() {
			return nil, fmt.Errorf("trial %d: no reference advert from %v captured", i+1, from)
		}
		for _, e := range evs {
			if !e.garp && e.src == to && e.prio > 0 && e.at.After(start) {
				first = e.at
				break
			}
		}
		if first.IsZero() {
			return nil, fmt.Errorf("trial %d: no advert from the new master %v captured", i+1, to)
		}
		for _, e := range evs {
			if e.garp && e.mac == macs[tr.to] && e.at.After(first.Add(-time.Second)) {
				garp = e.at
				break
			}
		}
		gap := first.Sub(start)
		if tr.abrupt {
			res.abrupt = append(res.abrupt, gap-masterDown)
		} else {
			res.graceful = append(res.graceful, gap-skew)
		}
		if !garp.IsZero() {
			res.garp = append(res.garp, garp.Sub(first))
		}
		if verbose {
			fmt.Fprintf(os.Stderr, "trial %d abrupt=%v %v->%v gap %v garp %v\n", i+1, tr.abrupt, from, to, gap, garp.Sub(first))
		}
	}
	return res, nil
}

func stats(ds []time.Duration) string {
	if len(ds) == 0 {
		return fmt.Sprintf("%10s %10s %10s", "-", "-", "-")
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("%10s %10s %10s", f(s[0]), f(med), f(s[len(s)-1]))
}

func keepalivedVersion() string {
	out, _ := exec.Command("keepalived", "--version").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

func main() {
	trials := flag.Int("trials", 10, "trials per implementation (each: one abrupt and one graceful takeover)")
	impl := flag.String("impl", "both", "lvskit, keepalived or both")
	verbose := flag.Bool("v", false, "print each trial")
	nodeMode := flag.Bool("node", false, "internal: run one lvskit speaker in the current namespace until SIGTERM")
	flag.Parse()
	if *nodeMode {
		os.Exit(runNode())
	}
	if *trials < 1 {
		fmt.Fprintln(os.Stderr, "failover: -trials must be at least 1")
		os.Exit(2)
	}
	var impls []string
	switch *impl {
	case "both":
		impls = []string{"lvskit", "keepalived"}
	case "lvskit", "keepalived":
		impls = []string{*impl}
	default:
		fmt.Fprintf(os.Stderr, "failover: -impl %q: want lvskit, keepalived or both\n", *impl)
		os.Exit(2)
	}
	for _, p := range append([]string{"ip", "tcpdump"}, impls...) {
		if p == "lvskit" {
			continue
		}
		if _, err := exec.LookPath(p); err != nil {
			fmt.Fprintf(os.Stderr, "failover: %s not found\n", p)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results := map[string]*result{}
	for _, im := range impls {
		start := time.Now()
		r, err := bench(ctx, im, *trials, *verbose)
		if err != nil {
			fmt.Fprintf(os.Stderr, "failover: %s: %v\n", im, err)
			if errors.Is(err, context.Canceled) {
				os.Exit(1)
			}
			os.Exit(1)
		}
		results[im] = r
		fmt.Fprintf(os.Stderr, "%s: %d trials in %v\n", im, *trials, time.Since(start).Round(time.Second))
	}
	fmt.Printf("VRRP failover, %d trials per implementation, priority %d both, advert_int 1s\n", *trials, prio)
	fmt.Printf("(Master_Down_Interval %v, Skew_Time %v; keepalived: %s; %d CPUs)\n\n", masterDown, skew, keepalivedVersion(), runtime.NumCPU())
	fmt.Printf("%-34s %-12s %10s %10s %10s\n", "measure", "impl", "min", "median", "max")
	rows := []struct {
		name string
		get  func(*result) []time.Duration
	}{
		{"abrupt: overshoot of MDI", func(r *result) []time.Duration { return r.abrupt }},
		{"graceful: overshoot of Skew_Time", func(r *result) []time.Duration { return r.graceful }},
		{"first advert -> first GARP", func(r *result) []time.Duration { return r.garp }},
	}
	for _, row := range rows {
		for _, im := range impls {
			fmt.Printf("%-34s %-12s %s\n", row.name, im, stats(row.get(results[im])))
		}
	}
}

// runNode is one lvskit speaker of a pair, run by "ip netns exec NS
// failover -node": the same configuration as keepalived's, transitions
// logged to stderr, priority 0 and exit on SIGTERM.
func runNode() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := vrrp.Config{Interface: "eth1", VRID: 1, Priority: prio, VIPs: []netip.Prefix{netip.MustParsePrefix(vipCIDR)}}
	r, err := vrrp.Open([]vrrp.Config{cfg}, &vrrp.Options{Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "failover -node:", err)
		return 1
	}
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "failover -node:", err)
		return 1
	}
	return 0
}
