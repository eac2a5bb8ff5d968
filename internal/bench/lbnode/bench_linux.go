package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vm"
	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture the project builds for.
const clockTicks = 100

// lb2Dest starts the lines of lb1's IPVS table that forward to lb2's nginx;
// both services have one once the cluster is up.
const lb2Dest = "-> 172.16.0.2:"

// implementation is one of the daemons under comparison.
type implementation struct {
	name string
	// start runs the daemon on balancer b of bd with the given VRRP
	// priority.
	start func(bd *bed, b *cluster.Balancer, prio int) (*topology.Proc, error)
	// stop stops it and whatever it left (nginx included).
	stop func(bd *bed, b *cluster.Balancer, p *topology.Proc)
	// backupMark is printed by the daemon on becoming BACKUP.
	backupMark string
}

// bed is one implementation's own copy of the article's cluster, with a
// folder for its files (configurations, PID files, nginx prefixes). Each
// implementation runs on its bed, and all are measured at the same time:
// an emulated machine's speed drifts by a factor of two over minutes, which
// one-after-the-other phases would report as a difference between
// implementations.
type bed struct {
	im    implementation
	c     *cluster.Cluster
	dir   string
	nodes []*node // lb1, lb2
}

// row is one line of the result table.
type row struct {
	impl, role, phase string
	rssSteady         float64 // MiB; NaN: not applicable
	rssPeak           float64 // MiB
	pssSteady         float64 // MiB; NaN: not applicable
	cpu               float64 // seconds
	ownCPU            float64 // seconds, without reaped children
	switches          int64   // context switches of the daemon's own threads; -1: not measured
	procs             int     // most processes seen in the daemon's tree
	note              string
}

type runner struct {
	out  io.Writer
	o    *options
	inVM bool
	dir  string
	beds []*bed // lbnode's (YAML) first

	mu    sync.Mutex
	procs []*topology.Proc // every daemon started, stopped at cleanup
	rows  []row
	notes []string
}

func (r *runner) say(format string, a ...any) { fmt.Fprintf(r.out, format+"\n", a...) }

func bench(ctx context.Context, o *options, out io.Writer) int {
	r := &runner{out: out, o: o, inVM: vm.InGuest()}
	defer r.cleanup()
	if r.inVM {
		stop, err := cluster.DiscardSyslog()
		if err != nil {
			r.say("FAILED: %v", err)
			return 1
		}
		defer stop()
	}
	if err := r.run(ctx); err != nil {
		r.say("FAILED: %v", err)
		r.report()
		return 1
	}
	r.report()
	return 0
}

func (r *runner) run(ctx context.Context) error {
	var err error
	if r.dir, err = os.MkdirTemp("", "lvskit-bench-lbnode-"); err != nil {
		return err
	}
	impls := []implementation{r.lbnode(), r.lbnodeKAConf(), r.keepalived()}
	r.say("== The article's topology in namespaces, once per implementation: client, lb1, lb2, web1-3, dns1-2, switch")
	for i, im := range impls {
		bd := &bed{im: im, dir: filepath.Join(r.dir, fmt.Sprint("bed", i))}
		r.beds = append(r.beds, bd)
		if err := os.Mkdir(bd.dir, 0o755); err != nil {
			return err
		}
		if bd.c, err = cluster.Build(); err != nil {
			return fmt.Errorf("%s: %w", im.name, err)
		}
	}
	if r.inVM {
		// Global, and only settable from the initial namespace: the VM's.
		if err := os.WriteFile("/proc/sys/net/nf_conntrack_max", []byte("4194304"), 0); err != nil {
			r.say("  (net.nf_conntrack_max not set: %v)", err)
		}
	}
	r.say("  phases: settle %v, idle %v, traffic %v (%d HTTP requests/s and %d DNS queries/s through the VIP)",
		r.o.settle, r.o.idle, r.o.traffic, r.o.httpRate, r.o.dnsRate)
	return r.measure(ctx)
}

// lbnode runs examples/lbnode with the demo's YAML configuration; lbnode
// renders, starts and stops the node's nginx itself.
func (r *runner) lbnode() implementation {
	return implementation{
		name:       "lbnode",
		backupMark: "to=BACKUP",
		start: func(bd *bed, b *cluster.Balancer, prio int) (*topology.Proc, error) {
			conf := filepath.Join(bd.dir, b.Name+".yaml")
			src := cluster.NodeYAML(b, cluster.NodeOptions{
				Priority: prio, Nopreempt: true, NginxPrefix: nginxPrefix(bd, b), ConntrackMax: r.inVM,
			})
			if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
				return nil, err
			}
			args := []string{"-f", conf}
			if r.o.metrics {
				args = append(args, "-metrics", b.SVC.String()+":9100")
			}
			return b.NS.Start(r.o.lbnode, args...)
		},
		stop: func(bd *bed, b *cluster.Balancer, p *topology.Proc) {
			p.Stop(15 * time.Second)
			stopNginx(bd, b)
		},
	}
}

// lbnodeKAConf runs lbnode with the keepalived.conf keepalived gets: its
// MISC_CHECK forks nc as keepalived's does, natswitch is its notify program,
// and nginx runs on its own.
func (r *runner) lbnodeKAConf() implementation {
	return implementation{
		name:       lbnodeKA,
		backupMark: "to=BACKUP",
		start: func(bd *bed, b *cluster.Balancer, prio int) (*topology.Proc, error) {
			conf, err := r.prepareKA(bd, b, prio)
			if err != nil {
				return nil, err
			}
			return b.NS.Start(r.o.lbnode, "-f", conf)
		},
		stop: func(bd *bed, b *cluster.Balancer, p *topology.Proc) {
			p.Stop(15 * time.Second)
			stopNginx(bd, b)
		},
	}
}

// lbnodeKA names lbnode running the article's keepalived.conf.
const lbnodeKA = "lbnode ka.conf"

// prepareKA sets the article's sysctls in b's namespace, starts its nginx
// and writes its keepalived.conf.
func (r *runner) prepareKA(bd *bed, b *cluster.Balancer, prio int) (string, error) {
	if out, err := b.NS.Command("sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1", "net.ipv4.vs.drop_entry=1").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: sysctl: %v: %s", b.Name, err, out)
	}
	if err := r.startNginx(bd, b); err != nil {
		return "", err
	}
	conf := filepath.Join(bd.dir, "keepalived-"+b.Name+".conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, kaConf, b.Name, prio, r.o.natswitch, bd.dir), 0o644); err != nil {
		return "", err
	}
	return conf, nil
}

// kaConf is the article's keepalived.conf for one balancer, with its notify
// program natswitch. %[1]s: router id, %[2]d: priority, %[3]s: natswitch,
// %[4]s: its lock and log files' folder.
const kaConf = `global_defs {
    router_id %[1]s
}

vrrp_instance 192.168.0.100 {
    interface eth1
    track_interface {
        eth0
        eth1
    }
    virtual_router_id 1
    nopreempt
    priority %[2]d
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.168.0.100/24 dev eth0
    }
    notify "%[3]s -interface eth1 -vip 192.168.0.100 -lock %[4]s/natswitch-%[1]s.lock -log %[4]s/natswitch-%[1]s.log"
}

virtual_server 192.168.0.100 80 {
    lb_algo wlc
    lb_kind DR
    protocol TCP
    delay_loop 6

    real_server 172.16.0.1 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
        }
    }
    real_server 172.16.0.2 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
        }
    }
}

virtual_server 192.168.0.100 53 {
    lb_algo wlc
    lb_kind DR
    protocol UDP
    delay_loop 6

    real_server 172.16.0.1 53 {
        weight 1
        MISC_CHECK {
            connect_timeout 2
            misc_path "/bin/nc -zn -u 172.16.0.1 53"
        }
    }
    real_server 172.16.0.2 53 {
        weight 1
        MISC_CHECK {
            connect_timeout 2
            misc_path "/bin/nc -zn -u 172.16.0.2 53"
        }
    }
}
`

// keepalived runs keepalived with the article's keepalived.conf. nginx is
// started beforehand from the files lbnode rendered for the node, and the
// article's sysctls are set in the namespace.
func (r *runner) keepalived() implementation {
	return implementation{
		name:       "keepalived",
		backupMark: "Entering BACKUP STATE",
		start: func(bd *bed, b *cluster.Balancer, prio int) (*topology.Proc, error) {
			conf, err := r.prepareKA(bd, b, prio)
			if err != nil {
				return nil, err
			}
			return b.NS.Start("keepalived", "-n", "-l", "-f", conf,
				"-p", kaPIDFile(bd, b, ""), "-r", kaPIDFile(bd, b, "vrrp"), "-c", kaPIDFile(bd, b, "checkers"))
		},
		stop: func(bd *bed, b *cluster.Balancer, p *topology.Proc) {
			p.Stop(15 * time.Second)
			_ = p.KillChildren()
			stopNginx(bd, b)
		},
	}
}

func kaPIDFile(bd *bed, b *cluster.Balancer, kind string) string {
	if kind != "" {
		kind = "-" + kind
	}
	return filepath.Join(bd.dir, "keepalived-"+b.Name+kind+".pid")
}

func nginxPrefix(bd *bed, b *cluster.Balancer) string {
	return filepath.Join(bd.dir, "nginx-"+b.Name)
}

// startNginx starts the node's nginx with the configuration lbnode
// rendered for the same node on its own bed (the first), copied into this
// bed's prefix; nginx daemonizes.
func (r *runner) startNginx(bd *bed, b *cluster.Balancer) error {
	p := nginxPrefix(bd, b)
	if pid := readPID(filepath.Join(p, "nginx.pid")); pid > 0 && comm(pid) == "nginx" {
		return nil
	}
	if err := copyPrefix(nginxPrefix(r.beds[0], b), p); err != nil {
		return fmt.Errorf("%s: nginx configuration (rendered by lbnode's run): %w", b.Name, err)
	}
	conf := filepath.Join(p, "conf", "nginx.conf")
	out, err := b.NS.Command("nginx", "-p", p, "-c", conf, "-e", filepath.Join(p, "error.log")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: starting nginx: %v: %s", b.Name, err, out)
	}
	return nil
}

// copyPrefix copies the files of nginx prefix src (not its PID file and
// logs) to dst, with src's path replaced by dst's in them.
func copyPrefix(src, dst string) error {
	if _, err := os.Stat(filepath.Join(src, "conf", "nginx.conf")); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case !d.Type().IsRegular() || d.Name() == "nginx.pid" || strings.HasSuffix(d.Name(), ".log"):
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, bytes.ReplaceAll(b, []byte(src), []byte(dst)), 0o644)
	})
}

// stopNginx asks the node's nginx, if one runs, to quit and waits for it.
func stopNginx(bd *bed, b *cluster.Balancer) {
	pid := readPID(filepath.Join(nginxPrefix(bd, b), "nginx.pid"))
	if pid <= 0 || comm(pid) != "nginx" {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if comm(pid) != "nginx" {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func readPID(file string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0
	}
	return pid
}

// comm returns the command name of a live process, "" when there is none.
func comm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// node is a balancer running the daemon under measurement.
type node struct {
	bd      *bed
	b       *cluster.Balancer
	p       *topology.Proc
	role    string
	started time.Time
}

// measure brings every implementation up on its bed, one after the other,
// lets them settle, measures them all at once through both phases and
// stops them.
func (r *runner) measure(ctx context.Context) error {
	defer r.stopAll()
	for _, bd := range r.beds {
		if err := r.up(ctx, bd); err != nil {
			for _, n := range bd.nodes {
				if n.p != nil {
					r.say("-- %s on %s said:\n%s", bd.im.name, n.b.Name, tail(n.p.Output(), 40))
				}
			}
			return fmt.Errorf("%s: %w", bd.im.name, err)
		}
	}
	r.say("\n== All three up; settling for %v", r.o.settle)
	if err := sleep(ctx, r.o.settle); err != nil {
		return err
	}
	var nodes []*node
	for _, bd := range r.beds {
		lb1, lb2 := bd.nodes[0], bd.nodes[1]
		for _, n := range bd.nodes {
			n.role = "BACKUP"
			if n.b.HasVIP() {
				n.role = "MASTER"
			}
		}
		if lb1.role == lb2.role {
			return fmt.Errorf("%s: lb1 and lb2 are both %s", bd.im.name, lb1.role)
		}
		for _, n := range bd.nodes {
			out, err := n.b.NS.Command("nft", "list", "ruleset").CombinedOutput()
			dnat := err == nil && strings.Contains(string(out), "dnat to "+n.b.SVC.String())
			switch {
			case n.role == "BACKUP" && !dnat:
				r.note("%s: the BACKUP (%s) has no DNAT rule for the VIP: %v %s", bd.im.name, n.b.Name, err, out)
			case n.role == "BACKUP":
				r.say("  %s: %s (BACKUP) has its DNAT rule: ip daddr %s dnat to %s", bd.im.name, n.b.Name, cluster.VIP, n.b.SVC)
			case dnat:
				r.note("%s: the MASTER (%s) kept a DNAT rule for the VIP", bd.im.name, n.b.Name)
			}
		}
		nodes = append(nodes, bd.nodes...)
	}

	// Startup: high-water marks and CPU since each daemon started.
	snap := readProcs()
	for _, n := range nodes {
		pids := snap.tree(n.p.Pid())
		var hwm int64
		for _, pid := range memPids(pids) {
			hwm += snap.status(pid, "VmHWM")
		}
		r.addRow(row{impl: n.bd.im.name, role: n.role, phase: "startup", rssSteady: math.NaN(), pssSteady: math.NaN(),
			rssPeak: mib(hwm), cpu: snap.cpu(pids), ownCPU: snap.ownCPU(pids), switches: -1, procs: len(pids),
			note: fmt.Sprintf("%v since start", time.Since(n.started).Round(time.Second))})
	}

	r.say("  idle: %v, the three at once", r.o.idle)
	if err := r.phase(ctx, "idle", nodes, r.o.idle, nil); err != nil {
		return err
	}
	r.say("  traffic: %v, through each one's VIP at once", r.o.traffic)
	if err := r.phase(ctx, "traffic", nodes, r.o.traffic, r.traffic); err != nil {
		return err
	}
	r.say("  stopping")
	return nil
}

// up starts bd's implementation on lb1 (priority 102), waits for it to be
// MASTER, then on lb2 (101), and checks that the cluster serves.
func (r *runner) up(ctx context.Context, bd *bed) error {
	im := bd.im
	r.say("\n== %s on lb1 (priority 102) and lb2 (101)", im.name)
	lb1 := &node{bd: bd, b: bd.c.Balancers[0]}
	lb2 := &node{bd: bd, b: bd.c.Balancers[1]}
	start := func(n *node, prio int) error {
		n.started = time.Now()
		p, err := im.start(bd, n.b, prio)
		if err != nil {
			return err
		}
		n.p = p
		bd.nodes = append(bd.nodes, n)
		r.mu.Lock()
		r.procs = append(r.procs, p)
		r.mu.Unlock()
		return nil
	}
	if err := start(lb1, 102); err != nil {
		return err
	}
	took, err := topology.WaitFor(ctx, "lb1 holding the VIP", 60*time.Second, func() bool { return lb1.b.HasVIP() || lb1.p.Exited() })
	if err != nil {
		return err
	}
	if lb1.p.Exited() {
		return fmt.Errorf("on lb1 it exited: %v", lb1.p.ExitErr())
	}
	r.say("  lb1 MASTER after %v", took.Round(time.Millisecond))
	if err := start(lb2, 101); err != nil {
		return err
	}
	if _, err := topology.WaitFor(ctx, "lb2 BACKUP", 60*time.Second, func() bool {
		return strings.Contains(lb2.p.Output(), im.backupMark) || lb2.p.Exited()
	}); err != nil {
		return err
	}
	if lb2.p.Exited() {
		return fmt.Errorf("on lb2 it exited: %v", lb2.p.ExitErr())
	}
	r.say("  lb2 BACKUP")
	took, err = topology.WaitFor(ctx, "lb1's IPVS forwarding to lb2's nginx", 60*time.Second, func() bool {
		out, _ := lb1.b.NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return strings.Count(string(out), lb2Dest) == 2
	})
	if err != nil {
		return err
	}
	r.say("  lb1's IPVS has both balancers' nginx for both services after %v more", took.Round(time.Millisecond))
	if _, err := cluster.HTTPGet(bd.c.Client, netip.AddrPortFrom(cluster.VIP, 80), 5*time.Second); err != nil {
		return fmt.Errorf("HTTP through the VIP: %w", err)
	}
	if _, err := cluster.DNSQuery(bd.c.Client, netip.AddrPortFrom(cluster.VIP, 53), "www.example.com.", 1, 3*time.Second); err != nil {
		return fmt.Errorf("DNS through the VIP: %w", err)
	}
	r.say("  HTTP and DNS answered through the VIP")
	return nil
}

// stopAll stops every implementation still running, and clears the IPVS
// tables of its balancers.
func (r *runner) stopAll() {
	for _, bd := range r.beds {
		for _, n := range bd.nodes {
			if n.p != nil {
				bd.im.stop(bd, n.b, n.p)
			}
			_ = n.b.NS.Command("ipvsadm", "-C").Run()
		}
	}
}

func (r *runner) addRow(rw row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, rw)
}

func (r *runner) note(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, a...))
}

// phase measures the nodes for d, running load (if any) meanwhile; load
// describes its outcome on each bed.
func (r *runner) phase(ctx context.Context, phase string, nodes []*node, d time.Duration, load func(context.Context, time.Duration) map[*bed]string) error {
	type acc struct {
		cpu0     float64
		switches map[int]int64 // PID -> context switches at the start
		rss, pss []float64
		procs    int
		pssOK    bool
		detail   string
		start    *procs
	}
	accs := make([]*acc, len(nodes))
	snap := readProcs()
	for i, n := range nodes {
		pids := snap.tree(n.p.Pid())
		if len(pids) == 0 {
			return fmt.Errorf("%s on %s is gone: %v", n.bd.im.name, n.b.Name, n.p.ExitErr())
		}
		accs[i] = &acc{cpu0: snap.cpu(pids), pssOK: true, start: snap, switches: map[int]int64{}}
		for _, pid := range pids {
			accs[i].switches[pid] = threadSwitches(pid)
		}
		for _, pid := range pids {
			// Reset the high-water mark to the current RSS (Linux 4.0+).
			// A short-lived child (MISC_CHECK's nc) may be gone already.
			if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil && pid == n.p.Pid() {
				return fmt.Errorf("resetting VmHWM of %s on %s (pid %d): %w", n.bd.im.name, n.b.Name, pid, err)
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var loadNotes map[*bed]string
	var wg sync.WaitGroup
	if load != nil {
		wg.Go(func() { loadNotes = load(ctx, d) })
	}
	end := time.Now().Add(d)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-tick.C:
		}
		snap := readProcs()
		for i, n := range nodes {
			pids := snap.tree(n.p.Pid())
			var rss, pss int64
			var parts []string
			for _, pid := range memPids(pids) {
				v := snap.status(pid, "VmRSS")
				rss += v
				parts = append(parts, fmt.Sprintf("%s[%d] %.1f", snap.stats[pid].comm, pid, mib(v)))
				p, ok := smapsPss(pid)
				if !ok {
					accs[i].pssOK = false
				}
				pss += p
			}
			accs[i].rss = append(accs[i].rss, mib(rss))
			accs[i].pss = append(accs[i].pss, mib(pss))
			accs[i].procs = max(accs[i].procs, len(pids))
			if len(pids) > 0 {
				accs[i].detail = strings.Join(parts, ", ")
			}
		}
	}
	wg.Wait()
	snap = readProcs()
	for i, n := range nodes {
		impl := n.bd.im.name
		pids := snap.tree(n.p.Pid())
		if len(pids) == 0 {
			return fmt.Errorf("%s on %s ended during the %s phase: %v", impl, n.b.Name, phase, n.p.ExitErr())
		}
		var hwm int64
		for _, pid := range memPids(pids) {
			hwm += snap.status(pid, "VmHWM")
		}
		rw := row{impl: impl, role: n.role, phase: phase, rssSteady: median(accs[i].rss), rssPeak: mib(hwm),
			pssSteady: median(accs[i].pss), cpu: snap.cpu(pids) - accs[i].cpu0, procs: accs[i].procs}
		// Own CPU and context switches of the processes there at both ends
		// (the daemon's; a check's child that came and went is in cpu
		// only, through its parent's cutime).
		for _, pid := range pids {
			a, b := accs[i].start.stats[pid], snap.stats[pid]
			if sw0, ok := accs[i].switches[pid]; ok && a.comm == b.comm {
				rw.ownCPU += float64(b.self-a.self) / clockTicks
				rw.switches += threadSwitches(pid) - sw0
			}
		}
		if !accs[i].pssOK {
			rw.pssSteady = math.NaN()
		}
		if role := map[bool]string{true: "MASTER", false: "BACKUP"}[n.b.HasVIP()]; role != n.role {
			rw.note = "role changed to " + role
		}
		if n == n.bd.nodes[0] {
			rw.note = strings.TrimSpace(rw.note + " " + loadNotes[n.bd])
		}
		r.addRow(rw)
		if phase == "idle" {
			r.note("%s %s (%s), RSS MiB at the end of the idle phase: %s", impl, n.role, n.b.Name, accs[i].detail)
		}
		r.note("%s %s (%s), CPU s in the %s phase, own (of which system) + reaped children's: %s", impl, n.role, n.b.Name, phase, cpuDetail(accs[i].start, snap, pids))
	}
	return nil
}

// traffic runs trafficOn on every bed at once.
func (r *runner) traffic(ctx context.Context, d time.Duration) map[*bed]string {
	notes := make([]string, len(r.beds))
	var wg sync.WaitGroup
	for i, bd := range r.beds {
		wg.Go(func() { notes[i] = r.trafficOn(ctx, bd.c, d) })
	}
	wg.Wait()
	out := map[*bed]string{}
	for i, bd := range r.beds {
		out[bd] = notes[i]
	}
	return out
}

// trafficOn sends HTTP requests and DNS queries through c's VIP from its
// client namespace at the configured rates for d, at most rate x d of each
// and at most 16 in flight, and describes the outcome.
func (r *runner) trafficOn(ctx context.Context, c *cluster.Cluster, d time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var httpOK, httpFail, dnsOK, dnsFail, skipped atomic.Int64
	var id atomic.Uint32
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	loop := func(rate int, req func() error, ok, fail *atomic.Int64) {
		if rate == 0 {
			return
		}
		limit := int(float64(rate) * d.Seconds())
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := 0; i < limit; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				skipped.Add(1)
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				if req() == nil {
					ok.Add(1)
				} else {
					fail.Add(1)
				}
			})
		}
	}
	var loops sync.WaitGroup
	loops.Go(func() {
		loop(r.o.httpRate, func() error {
			body, err := cluster.HTTPGet(c.Client, netip.AddrPortFrom(cluster.VIP, 80), 3*time.Second)
			if err == nil && !strings.HasPrefix(body, "Hello from server-") {
				err = fmt.Errorf("unexpected answer %q", body)
			}
			return err
		}, &httpOK, &httpFail)
	})
	loops.Go(func() {
		loop(r.o.dnsRate, func() error {
			_, err := cluster.DNSQuery(c.Client, netip.AddrPortFrom(cluster.VIP, 53), "www.example.com.", uint16(id.Add(1)), 3*time.Second)
			return err
		}, &dnsOK, &dnsFail)
	})
	loops.Wait()
	wg.Wait()
	s := fmt.Sprintf("HTTP %d ok/%d failed, DNS %d ok/%d failed", httpOK.Load(), httpFail.Load(), dnsOK.Load(), dnsFail.Load())
	if n := skipped.Load(); n > 0 {
		s += fmt.Sprintf(", %d not sent (16 in flight)", n)
	}
	return s
}

// cpuDetail describes the CPU time each process of pids used between two
// readings of /proc: its own, and that of its children it waited for.
func cpuDetail(from, to *procs, pids []int) string {
	var parts []string
	for _, pid := range pids {
		a, b := from.stats[pid], to.stats[pid]
		if _, ok := from.stats[pid]; ok && a.comm != b.comm {
			a = procStat{} // a reused PID or an exec: count from zero
		}
		parts = append(parts, fmt.Sprintf("%s[%d] %.2f (system %.2f) + %.2f", b.comm, pid,
			float64(b.self-a.self)/clockTicks, float64(b.sys-a.sys)/clockTicks, float64(b.children-a.children)/clockTicks))
	}
	return strings.Join(parts, ", ")
}

// procs is one reading of /proc.
type procs struct {
	parents map[int]int
	stats   map[int]procStat
}

func readProcs() *procs {
	s := &procs{parents: map[int]int{}, stats: map[int]procStat{}}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		st, err := parseStat(string(b))
		if err != nil {
			continue
		}
		s.parents[pid] = st.ppid
		s.stats[pid] = st
	}
	return s
}

// tree returns the daemon's processes: root and its descendants, without
// nginx (the same for both implementations) and what nginx runs.
func (s *procs) tree(root int) []int {
	return tree(root, s.parents, func(pid int) bool { return s.stats[pid].comm == "nginx" })
}

// cpu returns the CPU seconds used by pids and their reaped children.
func (s *procs) cpu(pids []int) float64 {
	var t int64
	for _, pid := range pids {
		t += s.stats[pid].ticks()
	}
	return float64(t) / clockTicks
}

// ownCPU returns the CPU seconds used by pids themselves.
func (s *procs) ownCPU(pids []int) float64 {
	var t int64
	for _, pid := range pids {
		t += s.stats[pid].self
	}
	return float64(t) / clockTicks
}

// threadSwitches returns the context switches of pid's threads so far,
// voluntary and not: each is a wake or a preemption, which under emulation
// costs much of an idle daemon's CPU time, and unlike the CPU time it does
// not drift with the emulated machine's speed.
func threadSwitches(pid int) int64 {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue
		}
		n += switchCount(string(b))
	}
	return n
}

// status reads a kB field of /proc/PID/status now; 0 when absent.
func (s *procs) status(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	v, _ := kBField(string(b), field)
	return v
}

// memPids returns pids without those that share their address space with
// one before them (kcmp KCMP_VM). A child between vfork and exec (os/exec
// and syscall.ForkExec fork with CLONE_VM|CLONE_VFORK) runs in its
// parent's memory, and /proc shows it the parent's VmRSS and VmHWM:
// summing both would count that memory twice. keepalived's children,
// forked without CLONE_VM, have address spaces of their own and all stay.
func memPids(pids []int) []int {
	var out []int
	for _, pid := range pids {
		shared := false
		for _, q := range out {
			if r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(q), uintptr(pid), kcmpVM, 0, 0, 0); e == 0 && r == 0 {
				shared = true
				break
			}
		}
		if !shared {
			out = append(out, pid)
		}
	}
	return out
}

// kcmpVM is KCMP_VM: whether two processes share their address space.
const kcmpVM = 1

// smapsPss returns the proportional set size of pid in kB: 0 for a process
// gone meanwhile or a zombie, which have no memory; false if smaps_rollup
// cannot be read (kernels before 4.14).
func smapsPss(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH)
	}
	v, _ := kBField(string(b), "Pss")
	return v, true
}

func mib(kb int64) float64 { return float64(kb) / 1024 }

func (r *runner) report() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rows) == 0 {
		return
	}
	r.say("\n== Results (MiB = 2^20 bytes; CPU = user+system seconds, children included; own CPU = the daemon's processes only;")
	r.say("   switches = context switches of the daemon's threads, voluntary and not; nginx not counted)")
	tw := tabwriter.NewWriter(r.out, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "implementation\tnode\tphase\tRSS steady MiB\tRSS peak MiB\tPSS steady MiB\tCPU s\town CPU s\tswitches\tprocs\t")
	for _, rw := range r.rows {
		sw := "-"
		if rw.switches >= 0 {
			sw = fmt.Sprint(rw.switches)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%d\t%s\n", rw.impl, rw.role, rw.phase,
			num(rw.rssSteady), num(rw.rssPeak), num(rw.pssSteady), rw.cpu, rw.ownCPU, sw, rw.procs, rw.note)
	}
	tw.Flush()

	find := func(impl, role, phase string) (row, bool) {
		for _, rw := range r.rows {
			if rw.impl == impl && rw.role == role && rw.phase == phase {
				return rw, true
			}
		}
		return row{}, false
	}
	r.say("\n== Ratios lbnode / keepalived")
	tw = tabwriter.NewWriter(r.out, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "lbnode with\tnode\tphase\tRSS steady\tRSS peak\tPSS steady\tCPU\town CPU\tswitches\t")
	for _, impl := range []string{"lbnode", lbnodeKA} {
		for _, role := range []string{"MASTER", "BACKUP"} {
			for _, phase := range []string{"startup", "idle", "traffic"} {
				l, ok1 := find(impl, role, phase)
				k, ok2 := find("keepalived", role, phase)
				if !ok1 || !ok2 {
					continue
				}
				conf := "YAML"
				if impl == lbnodeKA {
					conf = "keepalived.conf"
				}
				sw := "-"
				if l.switches >= 0 && k.switches >= 0 {
					sw = ratio(float64(l.switches), float64(k.switches))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", conf, role, phase,
					ratio(l.rssSteady, k.rssSteady), ratio(l.rssPeak, k.rssPeak), ratio(l.pssSteady, k.pssSteady), ratio(l.cpu, k.cpu),
					ratio(l.ownCPU, k.ownCPU), sw)
			}
		}
	}
	tw.Flush()

	r.say("\n== Goals")
	for _, impl := range []string{"lbnode", lbnodeKA} {
		worst := 0.0
		for _, rw := range r.rows {
			if rw.impl == impl {
				worst = max(worst, rw.rssPeak, nanToZero(rw.rssSteady))
			}
		}
		if worst > 0 {
			r.say("  %s: RSS at most 30 MB (read as 30 MiB): highest peak %.1f MiB: %s", impl, worst, metStr(worst <= 30))
		}
		for _, role := range []string{"MASTER", "BACKUP"} {
			l, ok1 := find(impl, role, "idle")
			k, ok2 := find("keepalived", role, "idle")
			if ok1 && ok2 {
				r.say("  %s: idle CPU no higher than keepalived's, %s: %.2f s vs %.2f s: %s", impl, role, l.cpu, k.cpu, metStr(l.cpu <= k.cpu))
			}
		}
	}
	if len(r.notes) > 0 {
		r.say("\n== Processes")
		for _, n := range r.notes {
			r.say("  %s", n)
		}
	}
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) {
		return "-"
	}
	if b == 0 {
		if a == 0 {
			return "both 0"
		}
		return "inf"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func metStr(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cleanup stops every daemon this run started (by PID) with the children
// it left, and nginx, then removes the namespaces and the folder.
func (r *runner) cleanup() {
	r.mu.Lock()
	procs := r.procs
	r.mu.Unlock()
	for _, p := range procs {
		p.Stop(10 * time.Second)
		_ = p.KillChildren()
	}
	for _, bd := range r.beds {
		if bd.c == nil {
			continue
		}
		for _, b := range bd.c.Balancers {
			stopNginx(bd, b)
		}
		if err := bd.c.Close(); err != nil {
			r.say("cleanup: %v", err)
		}
	}
	if r.dir != "" {
		os.RemoveAll(r.dir)
	}
}
