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
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	prio     = 100
	settle   = 1500 * time.Millisecond
	deadline = 30 * time.Second
)

// params are what one run measures: the VRRP version, interval and
// family, and the steady phase.
type params struct {
	version  int
	interval time.Duration
	ipv6     bool
	steady   time.Duration // steady phase after the trials; 0: none
	hog      bool          // a CPU hog per CPU during the steady phase
	rtPrio   int           // SCHED_RR priority of both implementations; 0: normal
}

func (p params) masterDown() time.Duration {
	if p.version == 3 {
		return vrrp.MasterDownIntervalV3(p.interval, prio)
	}
	return vrrp.MasterDownInterval(p.interval, prio)
}

func (p params) skew() time.Duration {
	if p.version == 3 {
		return vrrp.SkewTimeV3(p.interval, prio)
	}
	return vrrp.SkewTime(prio)
}

func (p params) vip() string {
	if p.ipv6 {
		return "fd00::100/64"
	}
	return "172.16.0.100/24"
}

func (p params) family() string {
	if p.ipv6 {
		return "ipv6"
	}
	return "ipv4"
}

// node is one VRRP speaker of a pair.
type node interface {
	start() error
	stop() error // graceful
	masters() int
	backups() int
	isMaster() bool
	transitions() string // the transition lines of its log, for errors
	close()
}

// procNode is a speaker running as its own process in its namespace, as
// in production: keepalived, or this program re-executed with -node (the
// lvskit speaker). Transitions are counted from its output.
type procNode struct {
	ns                  *topology.NS
	argv                []string
	master, back, fault string // output marks of the transitions
	p                   *topology.Proc
	base                [2]int // counts of earlier runs
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

// isMaster reports whether the last transition the node logged was to
// MASTER (not BACKUP or FAULT, as when its cable is cut).
func (k *procNode) isMaster() bool {
	if k.p == nil {
		return false
	}
	out := k.p.Output()
	return strings.LastIndex(out, k.master) > max(strings.LastIndex(out, k.back), strings.LastIndex(out, k.fault))
}

func (k *procNode) transitions() string {
	if k.p == nil {
		return "(not running)"
	}
	var out []string
	for line := range strings.Lines(k.p.Output()) {
		if strings.Contains(line, k.master) || strings.Contains(line, k.back) || strings.Contains(line, k.fault) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	if len(out) > 6 {
		out = out[len(out)-6:]
	}
	return strings.Join(out, "\n")
}

func (k *procNode) masters() int { return k.base[0] + k.count(k.master) }
func (k *procNode) backups() int { return k.base[1] + k.count(k.back) }
func (k *procNode) close()       { k.stop() }

const kaConf = `global_defs {
	router_id %s
	vrrp_version %d
%s}
vrrp_instance VI_1 {
	state BACKUP
	interface eth1
	virtual_router_id 1
	priority %d
	advert_int %g
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
	// late counts the abrupt trials whose master sent its last advert
	// after the order to cut, while ip(8) set the port down.
	late     int
	spurious int    // transitions during the steady phase
	failed   string // why the trials stopped early, if they did
}

// roles returns the MASTER and the BACKUP of the pair as their logs
// say, waiting for exactly one MASTER.
func roles(nodes []node) (m, b int, err error) {
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		switch {
		case nodes[0].isMaster() && !nodes[1].isMaster():
			return 0, 1, nil
		case nodes[1].isMaster() && !nodes[0].isMaster():
			return 1, 0, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, 0, fmt.Errorf("not exactly one MASTER for %v; last transitions:\nnode 1:\n%s\nnode 2:\n%s",
		deadline, nodes[0].transitions(), nodes[1].transitions())
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

func bench(ctx context.Context, impl string, trials int, p params, verbose bool) (*result, error) {
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
		// No duplicate address detection: link-local addresses usable at once.
		if out, err := h.Command("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("sysctl: %v: %s", err, out)
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
		if p.ipv6 {
			ll, err := linkLocal(nl, l)
			if err != nil {
				return nil, err
			}
			addrs[i] = ll // the source of IPv6 adverts
		}
	}
	dir, err := os.MkdirTemp("", "failover-"+impl)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pcap := filepath.Join(dir, "svc.pcap")
	dump, err := tp.Switch.Start("tcpdump", "-i", "svc", "-n", "-U", "--time-stamp-precision=nano", "-w", pcap, "ip proto 112 or ip6 proto 112 or arp or icmp6")
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
			nodes[i] = &procNode{ns: h, master: "to=MASTER", back: "to=BACKUP", fault: "to=FAULT",
				argv: []string{self, "-node", "-version", fmt.Sprint(p.version), "-advert-int", p.interval.String(), "-family", p.family(), "-rt-priority", fmt.Sprint(p.rtPrio)}}
		case "keepalived":
			d := filepath.Join(dir, fmt.Sprint(i))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
			rt := ""
			if p.rtPrio > 0 {
				// keepalived's default RLIMIT_RTTIME under vrrp_rt_priority
				// (10 ms of CPU without blocking) gets its VRRP child killed
				// and restarted on a loaded host; 1 s does not.
				rt = fmt.Sprintf("\tvrrp_rt_priority %d\n\tvrrp_rlimit_rttime 1000000\n", p.rtPrio)
			}
			conf := fmt.Sprintf(kaConf, fmt.Sprintf("n%d", i+1), p.version, rt, prio, p.interval.Seconds(), p.vip())
			if err := os.WriteFile(filepath.Join(d, "keepalived.conf"), []byte(conf), 0o644); err != nil {
				return nil, err
			}
			nodes[i] = &procNode{ns: h, master: "Entering MASTER STATE", back: "Entering BACKUP STATE", fault: "Entering FAULT STATE",
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
	var failed string
	m, b := 0, 1
	for i := range trials {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The roles as the nodes report them: at 10 ms adverts, a restart
		// may hand the master role over.
		if m, b, err = roles(nodes); err != nil {
			failed = fmt.Sprintf("stopped before trial %d: %v", i+1, err)
			break
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
		if m, b, err = roles(nodes); err != nil {
			// The cut trial counts; the graceful one is not run.
			failed = fmt.Sprintf("stopped in trial %d, after the cut: %v", i+1, err)
			break
		}

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
		if verbose {
			fmt.Fprintf(os.Stderr, "%s: trial %d done\n", impl, i+1)
		}
	}
	spurious := 0
	if p.steady > 0 && failed == "" {
		n, err := steadyPhase(ctx, hosts[0], nodes, p)
		if err != nil {
			return nil, err
		}
		spurious = n
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
	res, err := analyse(evs, done, addrs, macs, p, verbose)
	if err != nil {
		return nil, err
	}
	res.spurious, res.failed = spurious, failed
	return res, nil
}

// steadyPhase leaves the pair alone for p.steady, with a bounded busy
// loop per CPU running in ns when p.hog, and returns how many transitions
// the nodes made meanwhile (none is right).
func steadyPhase(ctx context.Context, ns *topology.NS, nodes []node, p params) (int, error) {
	before := 0
	for _, n := range nodes {
		before += n.masters() + n.backups()
	}
	var hogs []*exec.Cmd
	if p.hog {
		secs := fmt.Sprint(int(p.steady.Seconds()) + 1)
		for range runtime.NumCPU() {
			// Spins until the deadline, then exits by itself.
			c := ns.Command("sh", "-c", `end=$(($(date +%s)+`+secs+`)); while [ "$(date +%s)" -lt "$end" ]; do i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done; done`)
			if err := c.Start(); err != nil {
				return 0, fmt.Errorf("CPU hog: %w", err)
			}
			hogs = append(hogs, c)
		}
	}
	select {
	case <-time.After(p.steady):
	case <-ctx.Done():
	}
	for _, c := range hogs {
		c.Process.Kill()
		c.Wait()
	}
	after := 0
	for _, n := range nodes {
		after += n.masters() + n.backups()
	}
	return after - before, ctx.Err()
}

func analyse(evs []event, trials []trial, addrs []netip.Addr, macs []string, p params, verbose bool) (*result, error) {
	masterDown, skew := p.masterDown(), p.skew()
	res := &result{}
	for i, tr := range trials {
		from, to := addrs[tr.from], addrs[tr.to]
		var start, first, garp time.Time
		if tr.abrupt {
			// The reference is the old master's last advert on the
			// switch, which the backup heard too. It may come after
			// tr.at: the port goes down a few milliseconds later, after
			// ip(8) has run. Once it is down, the old master is not heard
			// until after the takeover, so its last advert before the new
			// master's first is the one.
			var took time.Time
			for _, e := range evs {
				if !e.garp && e.src == to && e.prio > 0 && e.at.After(tr.at) {
					took = e.at
					break
				}
			}
			for _, e := range evs {
				if !e.garp && e.src == from && e.at.Before(took) {
					start = e.at
				}
			}
			if start.After(tr.at) {
				res.late++
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
			if e.garp && e.mac == macs[tr.to] && !e.at.Before(first) {
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
	version := flag.Int("version", 2, "VRRP version, 2 or 3")
	interval := flag.Duration("advert-int", time.Second, "advertisement interval (centiseconds with -version 3)")
	family := flag.String("family", "ipv4", "ipv4, ipv6 (VRRPv3 only) or both")
	steady := flag.Duration("steady", 0, "steady phase after the trials, counting spurious transitions (0: none)")
	hog := flag.Bool("hog", false, "run a CPU hog per CPU beside the pair during the steady phase")
	rtPrio := flag.Int("rt-priority", 0, "run both implementations under SCHED_RR at this priority, 1-99 (keepalived's vrrp_rt_priority; 0: normal)")
	nodeMode := flag.Bool("node", false, "internal: run one lvskit speaker in the current namespace until SIGTERM")
	flag.Parse()
	if *nodeMode {
		os.Exit(runNode(*version, *interval, *family == "ipv6", *rtPrio))
	}
	var fams []bool
	switch *family {
	case "ipv4":
		fams = []bool{false}
	case "ipv6":
		fams = []bool{true}
	case "both":
		fams = []bool{false, true}
	default:
		fmt.Fprintf(os.Stderr, "failover: -family %q: want ipv4, ipv6 or both\n", *family)
		os.Exit(2)
	}
	if *rtPrio < 0 || *rtPrio > 99 {
		fmt.Fprintf(os.Stderr, "failover: -rt-priority %d: want 0-99\n", *rtPrio)
		os.Exit(2)
	}
	if *version != 2 && *version != 3 {
		fmt.Fprintf(os.Stderr, "failover: -version %d: want 2 or 3\n", *version)
		os.Exit(2)
	}
	if *version == 2 && *family != "ipv4" {
		fmt.Fprintln(os.Stderr, "failover: -family: IPv6 needs -version 3")
		os.Exit(2)
	}
	if _, err := (vrrp.Config{Interface: "eth1", VRID: 1, Version: uint8(*version), AdvertInterval: *interval,
		VIPs: []netip.Prefix{netip.MustParsePrefix("172.16.0.100/24")}}).Normalize(); err != nil {
		fmt.Fprintf(os.Stderr, "failover: -advert-int %v: %v\n", *interval, err)
		os.Exit(2)
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
	var runs []string
	base := params{version: *version, interval: *interval, steady: *steady, hog: *hog, rtPrio: *rtPrio}
	for _, v6 := range fams {
		p := base
		p.ipv6 = v6
		for _, im := range impls {
			start := time.Now()
			r, err := bench(ctx, im, *trials, p, *verbose)
			if err != nil {
				fmt.Fprintf(os.Stderr, "failover: %s %s: %v\n", im, p.family(), err)
				if errors.Is(err, context.Canceled) {
					os.Exit(1)
				}
				os.Exit(1)
			}
			name := im + "/" + p.family()
			results[name] = r
			runs = append(runs, name)
			fmt.Fprintf(os.Stderr, "%s: %d trials in %v\n", name, *trials, time.Since(start).Round(time.Second))
			if r.failed != "" {
				fmt.Fprintf(os.Stderr, "%s: %s\n", name, r.failed)
			}
		}
	}
	fmt.Printf("VRRP failover, %d trials per implementation, priority %d both, VRRPv%d, advert_int %v\n", *trials, prio, base.version, base.interval)
	sched := "normal scheduling"
	if base.rtPrio > 0 {
		sched = fmt.Sprintf("SCHED_RR %d (lvskit -rt-priority, keepalived vrrp_rt_priority)", base.rtPrio)
	}
	fmt.Printf("(Master_Down_Interval %v, Skew_Time %v; %s; keepalived: %s; %d CPUs)\n\n", base.masterDown(), base.skew(), sched, keepalivedVersion(), runtime.NumCPU())
	fmt.Printf("%-34s %-16s %10s %10s %10s\n", "measure", "impl", "min", "median", "max")
	rows := []struct {
		name string
		get  func(*result) []time.Duration
	}{
		{"abrupt: overshoot of MDI", func(r *result) []time.Duration { return r.abrupt }},
		{"graceful: overshoot of Skew_Time", func(r *result) []time.Duration { return r.graceful }},
		{"first advert -> first GARP", func(r *result) []time.Duration { return r.garp }},
	}
	for _, row := range rows {
		for _, im := range runs {
			fmt.Printf("%-34s %-16s %s\n", row.name, im, stats(row.get(results[im])))
		}
	}
	fmt.Printf("\nabrupt trials whose master advertised after the order to cut (the port goes down once ip(8) has run):\n")
	for _, im := range runs {
		fmt.Printf("  %-16s %d of %d\n", im, results[im].late, len(results[im].abrupt))
	}
	for _, im := range runs {
		if r := results[im]; r.failed != "" {
			fmt.Printf("\n%s: %s\n", im, strings.SplitN(r.failed, "; last transitions", 2)[0])
		}
	}
	if base.steady > 0 {
		hogged := "without"
		if base.hog {
			hogged = fmt.Sprintf("with %d busy loops", runtime.NumCPU())
		}
		fmt.Printf("\nspurious transitions in a %v steady phase %s:\n", base.steady, hogged)
		for _, im := range runs {
			if results[im].failed != "" {
				fmt.Printf("  %-16s (not run: the trials stopped)\n", im)
				continue
			}
			fmt.Printf("  %-16s %d\n", im, results[im].spurious)
		}
	}
}

// linkLocal returns l's IPv6 link-local address, waiting for it.
func linkLocal(nl *netlink.Handle, l netlink.Link) (netip.Addr, error) {
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		addrs, err := nl.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			return netip.Addr{}, err
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() && a.Flags&unix.IFA_F_TENTATIVE == 0 {
				return ip, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return netip.Addr{}, fmt.Errorf("no link-local address on %s", l.Attrs().Name)
}

// runNode is one lvskit speaker of a pair, run by "ip netns exec NS
// failover -node": the same configuration as keepalived's, transitions
// logged to stderr, priority 0 and exit on SIGTERM.
func runNode(version int, interval time.Duration, ipv6 bool, rtPrio int) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if rtPrio > 0 {
		if err := vrrp.SetRealtimePriority(rtPrio); err != nil {
			fmt.Fprintln(os.Stderr, "failover -node:", err)
			return 1
		}
	}
	p := params{version: version, interval: interval, ipv6: ipv6}
	cfg := vrrp.Config{Interface: "eth1", VRID: 1, Priority: prio, Version: uint8(version), AdvertInterval: interval,
		VIPs: []netip.Prefix{netip.MustParsePrefix(p.vip())}}
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
