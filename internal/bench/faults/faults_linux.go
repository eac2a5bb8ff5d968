package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/lvskit/lvskit/internal/testenv/vm"
)

// bed is one daemon's own copy of the article's cluster.
type bed struct {
	impl  string
	o     *options
	c     *cluster.Cluster
	dir   string
	confs [2]string // lb1, lb2
	procs [2]*topology.Proc
	nginx []*topology.Proc
	load  *cluster.Load
	watch *cluster.VIPWatch
	// old holds the daemons killed by a fault, stopped at cleanup too.
	old []*topology.Proc
	// added is the real server that the reload fault adds.
	added *cluster.WebServer
}

// window is one fault's span on one bed, and what the fault noted.
type window struct {
	from, to time.Time
	note     string
	err      error
}

// fault injects one fault into a bed and waits for it to settle.
type fault struct {
	name string
	run  func(ctx context.Context, bd *bed) (note string, err error)
}

func faultRun(ctx context.Context, o *options, out io.Writer) int {
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	if vm.InGuest() {
		stop, err := cluster.DiscardSyslog()
		if err != nil {
			say("FAILED: %v", err)
			return 1
		}
		defer stop()
		// lbnode applies the article's sysctls; this one is global and
		// can only be set from the initial namespace: the VM's.
		if err := os.WriteFile("/proc/sys/net/nf_conntrack_max", []byte("4194304"), 0); err != nil {
			say("  (net.nf_conntrack_max not set: %v)", err)
		}
	}
	article, err := os.ReadFile(o.kaconf)
	if err != nil {
		say("FAILED: %v", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "lvskit-faults-")
	if err != nil {
		say("FAILED: %v", err)
		return 1
	}
	defer os.RemoveAll(dir)

	var beds []*bed
	defer func() {
		for _, bd := range beds {
			bd.close()
		}
	}()
	say("== The article's cluster once per daemon (%s), each daemon on lb1 (priority 102) and lb2 (101) with the article's keepalived.conf", strings.Join(o.impls, ", "))
	for _, im := range o.impls {
		bd := &bed{impl: im, o: o, dir: filepath.Join(dir, im)}
		beds = append(beds, bd)
		if err := os.Mkdir(bd.dir, 0o755); err != nil {
			say("FAILED: %v", err)
			return 1
		}
		if bd.c, err = cluster.Build(); err != nil {
			say("FAILED: %s: %v", im, err)
			return 1
		}
		for i, b := range bd.c.Balancers {
			notify := fmt.Sprintf(`"%[1]s -interface eth1 -vip %[2]s -lock %[3]s/natswitch-%[4]s.lock -log %[3]s/natswitch-%[4]s.log"`, o.natswitch, cluster.VIP, bd.dir, b.Name)
			src, err := cluster.KeepalivedConf(string(article), 102-i, notify)
			if err == nil {
				bd.confs[i] = filepath.Join(bd.dir, b.Name+".conf")
				err = os.WriteFile(bd.confs[i], []byte(src), 0o644)
			}
			if err != nil {
				say("FAILED: %v", err)
				return 1
			}
		}
	}
	if err := each(beds, func(bd *bed) error { return bd.up(ctx) }); err != nil {
		say("FAILED: bringing the clusters up: %v", err)
		for _, bd := range beds {
			bd.dump(out)
		}
		return 1
	}
	say("  all up: lb1 MASTER, lb2 BACKUP, HTTP and DNS answered through the VIP")
	total := o.timeout
	for _, bd := range beds {
		bd.load, err = cluster.StartLoad(ctx, bd.c, cluster.LoadOptions{For: total})
		if err != nil {
			say("FAILED: %v", err)
			return 1
		}
		bd.watch = bd.c.WatchVIP(ctx, 100*time.Millisecond, total)
	}
	say("  client load on each: a new HTTP connection every 100ms, a DNS query every 200ms, 3 keep-alive connections with a request every 500ms")

	faults := map[string]fault{
		"partition": {"VRRP partition (links up), hold, heal", partition},
		"kill":      {"SIGKILL of the MASTER's daemon, restart", kill},
		"cut":       {"the MASTER's links cut, restored", cut},
		"stop":      {"graceful stop of the BACKUP's daemon, restart", stop},
		"reload":    {"SIGHUP: weight, added server, bad file", reload},
		"loss20":    {"20% loss on eth1 for 30s", netem("loss", "20%")},
		"loss50":    {"50% loss on eth1 for 30s", netem("loss", "50%")},
		"jitter":    {"100ms +-100ms delay on eth1 for 30s", netem("delay", "100ms", "100ms")},
		"server":    {"web server 1 stopped 15s", webDown},
		"nginx":     {"the MASTER's nginx stopped 15s", nginxDown},
		"drift":     {"IPVS cleared on the MASTER", drift},
	}
	type result struct {
		fault string
		wins  []window
	}
	var results []result
	// A quiet window first: what the load sees with no fault.
	base := result{fault: "none (baseline)"}
	from := time.Now()
	if err := sleep(ctx, o.settle); err != nil {
		say("FAILED: %v", err)
		return 1
	}
	for range beds {
		base.wins = append(base.wins, window{from: from, to: time.Now()})
	}
	results = append(results, base)
	for _, name := range o.faults {
		f := faults[name]
		say("\n== %s", f.name)
		res := result{fault: f.name, wins: make([]window, len(beds))}
		var wg sync.WaitGroup
		for i, bd := range beds {
			wg.Go(func() {
				w := &res.wins[i]
				w.from = time.Now()
				w.note, w.err = f.run(ctx, bd)
				w.to = time.Now()
			})
		}
		wg.Wait()
		for i, bd := range beds {
			if w := res.wins[i]; w.err != nil {
				say("  %s: %v", bd.impl, w.err)
			} else {
				say("  %s: %s", bd.impl, w.note)
			}
		}
		results = append(results, res)
		if ctx.Err() != nil {
			break
		}
	}
	for _, bd := range beds {
		bd.load.Stop()
		bd.watch.Stop()
	}

	say("\n== Results per fault (window: from the fault to the end of its settle pause)")
	say("   failed = requests that failed (HTTP new connection / DNS / keep-alive); outage = longest time from a failed request")
	say("   to the next success of its kind; transitions = times a node took or gave up the VIP (sampled every 100ms);")
	say("   split brain = time both held the VIP; broken = keep-alive connections that broke")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "fault\tdaemon\trequests\tfailed (H/D/K)\tlongest outage\ttransitions\tsplit brain\tbroken\tnote")
	for _, res := range results {
		for i, bd := range beds {
			w := res.wins[i]
			s := cluster.Summarize(bd.load.Results(w.from, w.to), w.to)
			v := bd.watch.Stats(w.from, w.to)
			note := w.note
			if w.err != nil {
				note = "ERROR: " + w.err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d (%d/%d/%d)\t%v\t%d\t%v\t%d\t%s\n", res.fault, bd.impl, s.Requests, s.Failed,
				s.FailedBy[cluster.LoadHTTP], s.FailedBy[cluster.LoadDNS], s.FailedBy[cluster.LoadKeepAlive],
				s.LongestOutage.Round(10*time.Millisecond), v.Transitions, v.SplitBrain.Round(100*time.Millisecond), s.Broken, note)
		}
	}
	tw.Flush()
	failed := false
	for _, res := range results {
		for _, w := range res.wins {
			failed = failed || w.err != nil
		}
	}
	if failed || o.verbose {
		for _, bd := range beds {
			bd.dump(out)
		}
	}
	if failed {
		return 1
	}
	return 0
}

// each runs fn on every bed at once and joins the errors.
func each(beds []*bed, fn func(*bed) error) error {
	errs := make([]error, len(beds))
	var wg sync.WaitGroup
	for i, bd := range beds {
		wg.Go(func() {
			if err := fn(bd); err != nil {
				errs[i] = fmt.Errorf("%s: %w", bd.impl, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// up sets the sysctls, starts nginx on both balancers, then the daemon on
// lb1, waits for it to be MASTER, then on lb2, and waits for lb1's IPVS to
// forward to both nodes' nginx.
func (bd *bed) up(ctx context.Context) error {
	for _, b := range bd.c.Balancers {
		if out, err := b.NS.Command("sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1", "net.ipv4.vs.drop_entry=1", "net.ipv4.vs.expire_nodest_conn=1").CombinedOutput(); err != nil {
			return fmt.Errorf("%s: sysctl: %v: %s", b.Name, err, out)
		}
		p, err := cluster.StartNginx(b, bd.dir)
		if err != nil {
			return err
		}
		bd.nginx = append(bd.nginx, p)
	}
	lb1, lb2 := bd.c.Balancers[0], bd.c.Balancers[1]
	if err := bd.start(0); err != nil {
		return err
	}
	if _, err := topology.WaitFor(ctx, "lb1 holding the VIP", 60*time.Second, func() bool { return lb1.HasVIP() || bd.procs[0].Exited() }); err != nil {
		return err
	}
	if bd.procs[0].Exited() {
		return fmt.Errorf("on lb1 it exited: %v", bd.procs[0].ExitErr())
	}
	if err := bd.start(1); err != nil {
		return err
	}
	if _, err := topology.WaitFor(ctx, "lb1's IPVS forwarding to lb2's nginx", 60*time.Second, func() bool {
		out, _ := lb1.NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return strings.Count(string(out), "-> 172.16.0.2:") == 2 || bd.procs[1].Exited()
	}); err != nil {
		return err
	}
	if bd.procs[1].Exited() {
		return fmt.Errorf("on lb2 it exited: %v", bd.procs[1].ExitErr())
	}
	if lb2.HasVIP() {
		return errors.New("lb2 holds the VIP too")
	}
	if _, err := cluster.HTTPGet(bd.c.Client, netip.AddrPortFrom(cluster.VIP, 80), 5*time.Second); err != nil {
		return fmt.Errorf("HTTP through the VIP: %w", err)
	}
	if _, err := cluster.DNSQuery(bd.c.Client, netip.AddrPortFrom(cluster.VIP, 53), "www.example.com.", 1, 3*time.Second); err != nil {
		return fmt.Errorf("DNS through the VIP: %w", err)
	}
	return nil
}

// start runs the daemon on balancer i.
func (bd *bed) start(i int) error {
	b := bd.c.Balancers[i]
	var p *topology.Proc
	var err error
	switch bd.impl {
	case "lbnode":
		p, err = b.NS.Start(bd.o.lbnode, "-f", bd.confs[i])
	case "keepalived":
		pid := func(kind string) string { return filepath.Join(bd.dir, "keepalived-"+b.Name+kind+".pid") }
		p, err = b.NS.Start("keepalived", "-n", "-l", "-D", "-f", bd.confs[i], "-p", pid(""), "-r", pid("-vrrp"), "-c", pid("-checkers"))
	}
	if err != nil {
		return err
	}
	bd.procs[i] = p
	return nil
}

func (bd *bed) index(b *cluster.Balancer) int {
	if bd.c.Balancers[0] == b {
		return 0
	}
	return 1
}

// dump prints the end of each daemon's output.
func (bd *bed) dump(out io.Writer) {
	for i, p := range bd.procs {
		if p != nil {
			n := 30
			if bd.o.verbose {
				n = 400
			}
			fmt.Fprintf(out, "-- %s on lb%d said:\n%s\n", bd.impl, i+1, tail(p.Output(), n))
		}
	}
}

// close stops the daemons (by PID, with the children they left), nginx,
// clears the balancers' IPVS tables and removes the namespaces.
func (bd *bed) close() {
	for _, p := range append(bd.old, bd.procs[:]...) {
		if p != nil {
			p.Stop(10 * time.Second)
			_ = p.KillChildren()
		}
	}
	for _, p := range bd.nginx {
		p.Stop(10 * time.Second)
	}
	if bd.c == nil {
		return
	}
	for _, b := range bd.c.Balancers {
		_ = b.NS.Command("ipvsadm", "-C").Run()
	}
	_ = bd.c.Close()
}

// holders names the balancers holding the VIP now.
func (bd *bed) holders() string {
	var hs []string
	for _, b := range bd.c.Balancers {
		if b.HasVIP() {
			hs = append(hs, b.Name)
		}
	}
	if len(hs) == 0 {
		return "nobody"
	}
	return strings.Join(hs, "+")
}

// clientNeigh describes the client's neighbour entry for the VIP: the
// balancer whose MAC address it holds, and its state.
func (bd *bed) clientNeigh() string {
	out, err := bd.c.Client.Command("ip", "neigh", "show", cluster.VIP.String()).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	fields := strings.Fields(string(out))
	s := strings.TrimSpace(string(out))
	for _, b := range bd.c.Balancers {
		l, err := b.NS.Command("cat", "/sys/class/net/eth0/address").Output()
		if err == nil && len(fields) > 4 && strings.EqualFold(fields[4], strings.TrimSpace(string(l))) {
			s = b.Name + "'s " + fields[len(fields)-1]
		}
	}
	if s == "" {
		s = "none"
	}
	// Where the VIP is configured, on any interface.
	for _, b := range bd.c.Balancers {
		out, _ := b.NS.Command("ip", "-4", "-o", "addr", "show", "to", cluster.VIP.String()+"/32").CombinedOutput()
		if f := strings.Fields(string(out)); len(f) > 1 {
			s += fmt.Sprintf(" (%s has it on %s)", b.Name, f[1])
		}
	}
	return s
}

// partition drops VRRP on both balancers until both hold the VIP, holds
// the split brain, heals it and notes who holds the VIP afterwards and how
// long the client kept failing.
func partition(ctx context.Context, bd *bed) (string, error) {
	for _, b := range bd.c.Balancers {
		if err := b.BlockVRRP(true); err != nil {
			return "", err
		}
	}
	both, err := topology.WaitFor(ctx, "both balancers holding the VIP", 30*time.Second, func() bool {
		return bd.c.Balancers[0].HasVIP() && bd.c.Balancers[1].HasVIP()
	})
	note := fmt.Sprintf("both MASTER after %v", both.Round(100*time.Millisecond))
	if err != nil {
		note = "never both MASTER: " + err.Error()
	}
	if err := sleep(ctx, bd.o.hold); err != nil {
		return note, err
	}
	heal := time.Now()
	for _, b := range bd.c.Balancers {
		if err := b.BlockVRRP(false); err != nil {
			return note, err
		}
	}
	if err := sleep(ctx, bd.o.settle); err != nil {
		return note, err
	}
	s := cluster.Summarize(bd.load.Results(heal, time.Now()), time.Now())
	failing := time.Duration(0)
	if !s.LastFailure.IsZero() {
		failing = s.LastFailure.Sub(heal)
	}
	return fmt.Sprintf("%s; after the heal %s holds the VIP, client failing for %v after the heal (%d failed)",
		note, bd.holders(), failing.Round(10*time.Millisecond), s.Failed), nil
}

// kill sends SIGKILL to the MASTER's daemon and its children at once,
// waits for the other node to take the VIP, and restarts the daemon.
func kill(ctx context.Context, bd *bed) (string, error) {
	m := bd.c.Master()
	if m == nil {
		return "", fmt.Errorf("no single MASTER (%s hold the VIP)", bd.holders())
	}
	i := bd.index(m)
	other := bd.c.Other(m)
	if err := cluster.KillGroup(bd.procs[i]); err != nil {
		return "", err
	}
	bd.old = append(bd.old, bd.procs[i])
	took, err := topology.WaitFor(ctx, other.Name+" holding the VIP", 30*time.Second, other.HasVIP)
	note := fmt.Sprintf("%s killed, %s took the VIP after %v", m.Name, other.Name, took.Round(100*time.Millisecond))
	if err != nil {
		note = fmt.Sprintf("%s killed, %s did not take the VIP: %v", m.Name, other.Name, err)
	}
	if err := sleep(ctx, 5*time.Second); err != nil {
		return note, err
	}
	if err := bd.start(i); err != nil {
		return note, err
	}
	if err := sleep(ctx, bd.o.settle); err != nil {
		return note, err
	}
	return fmt.Sprintf("%s; restarted 5s later; now %s holds the VIP", note, bd.holders()), nil
}

// stop stops the BACKUP's daemon gracefully (SIGTERM), as an operator does
// before an upgrade, waits 10 s and starts it again. A planned operation:
// the MASTER keeps the VIP and keeps forwarding to the BACKUP's nginx, so
// no request may fail.
func stop(ctx context.Context, bd *bed) (string, error) {
	m := bd.c.Master()
	if m == nil {
		return "", fmt.Errorf("no single MASTER (%s hold the VIP)", bd.holders())
	}
	b := bd.c.Other(m)
	i := bd.index(b)
	p := bd.procs[i]
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return "", err
	}
	if _, err := topology.WaitFor(ctx, b.Name+"'s daemon exiting", 15*time.Second, p.Exited); err != nil {
		return "", err
	}
	bd.old = append(bd.old, p)
	note := fmt.Sprintf("%s's daemon stopped (%s holds the VIP)", b.Name, bd.holders())
	if err := sleep(ctx, 10*time.Second); err != nil {
		return note, err
	}
	if err := bd.start(i); err != nil {
		return note, err
	}
	if err := sleep(ctx, bd.o.settle); err != nil {
		return note, err
	}
	return fmt.Sprintf("%s; restarted 10s later; now %s holds the VIP", note, bd.holders()), nil
}

// cut takes the MASTER's switch ports down, waits for the other node to
// take the VIP, and brings them back.
func cut(ctx context.Context, bd *bed) (string, error) {
	m := bd.c.Master()
	if m == nil {
		return "", fmt.Errorf("no single MASTER (%s hold the VIP)", bd.holders())
	}
	other := bd.c.Other(m)
	if err := bd.c.SetLinks(m, false); err != nil {
		return "", err
	}
	took, err := topology.WaitFor(ctx, other.Name+" holding the VIP", 30*time.Second, other.HasVIP)
	note := fmt.Sprintf("%s cut, %s took the VIP after %v", m.Name, other.Name, took.Round(100*time.Millisecond))
	if err != nil {
		note = fmt.Sprintf("%s cut, %s did not take the VIP: %v", m.Name, other.Name, err)
	}
	if err := sleep(ctx, bd.o.hold); err != nil {
		return note, err
	}
	if err := bd.c.SetLinks(m, true); err != nil {
		return note, err
	}
	if err := sleep(ctx, bd.o.settle); err != nil {
		return note, err
	}
	return fmt.Sprintf("%s; restored; now %s holds the VIP", note, bd.holders()), nil
}

// reload rewrites both nodes' files and sends SIGHUP, three times: a
// changed weight, an added real server (172.16.0.3, a direct-routing real
// server built for it that answers, as an operator adds a working one),
// and a file with an error, which must leave the running configuration in
// place; then the original file again. A planned operation: no request
// may fail.
func reload(ctx context.Context, bd *bed) (string, error) {
	if bd.added == nil {
		w, err := bd.c.AddRealServer()
		if err != nil {
			return "", err
		}
		bd.added = w
	}
	before := bd.added.Requests.Load()
	var orig [2][]byte
	for i, f := range bd.confs {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		orig[i] = b
	}
	weight := func(s string) string {
		return strings.Replace(s, "real_server 172.16.0.2 80 {\n        weight 1", "real_server 172.16.0.2 80 {\n        weight 2", 1)
	}
	added := func(s string) string {
		return strings.Replace(weight(s), "    real_server 172.16.0.2 80 {",
			"    real_server 172.16.0.3 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n    real_server 172.16.0.2 80 {", 1)
	}
	broken := func(s string) string { return added(s) + "\nvirtual_server 192.168.0.100 {\n" }
	steps := []struct {
		name string
		edit func(string) string
	}{
		{"weight", weight},
		{"added", added},
		{"bad file", broken},
		{"original", func(s string) string { return s }},
	}
	var notes []string
	for _, st := range steps {
		stepFrom := time.Now()
		for i := range bd.confs {
			if err := os.WriteFile(bd.confs[i], []byte(st.edit(string(orig[i]))), 0o644); err != nil {
				return "", err
			}
			if err := bd.procs[i].Signal(syscall.SIGHUP); err != nil {
				return strings.Join(notes, "; "), err
			}
		}
		if err := sleep(ctx, 8*time.Second); err != nil {
			return "", err
		}
		alive := !bd.procs[0].Exited() && !bd.procs[1].Exited()
		m := bd.c.Master()
		ipvs := ""
		if m != nil {
			out, _ := m.NS.Command("ipvsadm", "-Ln").CombinedOutput()
			ipvs = string(out)
		}
		failed := 0
		for _, r := range bd.load.Results(stepFrom, time.Now()) {
			if r.Err != nil {
				failed++
			}
		}
		n := fmt.Sprintf("%s: %d failed, daemons running %t, MASTER %s", st.name, failed, alive, bd.holders())
		if st.name == "added" {
			n += fmt.Sprintf(", 172.16.0.3 in IPVS %t, %d requests served by it", strings.Contains(ipvs, "172.16.0.3:80"), bd.added.Requests.Load()-before)
		}
		notes = append(notes, n)
		if !alive {
			return strings.Join(notes, "; "), errors.New("a daemon exited on reload")
		}
	}
	if err := sleep(ctx, bd.o.settle); err != nil {
		return "", err
	}
	return strings.Join(notes, "; "), nil
}

// webDown stops web server 1, one of the servers behind every node's
// nginx, for 15 s and starts it again: the nginx layer must take the
// requests to the others meanwhile and use it again afterwards.
func webDown(ctx context.Context, bd *bed) (string, error) {
	w := bd.c.Web[0]
	if err := bd.c.WebDown(0); err != nil {
		return "", err
	}
	err := sleep(ctx, 15*time.Second)
	before := w.Requests.Load()
	if e := bd.c.WebUp(0); e != nil {
		return "", e
	}
	if err != nil {
		return "", err
	}
	if err := sleep(ctx, bd.o.settle); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s stopped 15s, then served %d requests in the %v after its return", w.Name, w.Requests.Load()-before, bd.o.settle), nil
}

// nginxDown stops the MASTER's nginx for 15 s: its health checks must take
// it out of IPVS (on both nodes) and put it back once it runs again.
func nginxDown(ctx context.Context, bd *bed) (string, error) {
	m := bd.c.Master()
	if m == nil {
		return "", fmt.Errorf("no single MASTER (%s hold the VIP)", bd.holders())
	}
	i := bd.index(m)
	bd.nginx[i].Stop(10 * time.Second)
	out := func() bool {
		o, _ := m.NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return !strings.Contains(string(o), "-> "+m.SVC.String()+":80")
	}
	took, err := topology.WaitFor(ctx, m.Name+"'s nginx out of its IPVS", 15*time.Second, out)
	note := fmt.Sprintf("%s's nginx stopped, out of IPVS after %v", m.Name, took.Round(100*time.Millisecond))
	if err != nil {
		note = fmt.Sprintf("%s's nginx stopped, still in IPVS after 15s", m.Name)
	}
	if err := sleep(ctx, 15*time.Second-took); err != nil {
		return note, err
	}
	p, err := cluster.StartNginx(m, bd.dir)
	if err != nil {
		return note, err
	}
	bd.nginx[i] = p
	back, err := topology.WaitFor(ctx, m.Name+"'s nginx back in its IPVS", 30*time.Second, func() bool { return !out() })
	if err != nil {
		note += "; not back in IPVS 30s after its restart"
	} else {
		note += fmt.Sprintf("; restarted, back in IPVS after %v", back.Round(100*time.Millisecond))
	}
	return note, sleep(ctx, bd.o.settle)
}

// drift clears the MASTER's IPVS table behind the daemon's back and notes
// whether the daemon puts the virtual servers back.
func drift(ctx context.Context, bd *bed) (string, error) {
	m := bd.c.Master()
	if m == nil {
		return "", fmt.Errorf("no single MASTER (%s hold the VIP)", bd.holders())
	}
	if out, err := m.NS.Command("ipvsadm", "-C").CombinedOutput(); err != nil {
		return "", fmt.Errorf("ipvsadm -C: %v: %s", err, out)
	}
	back, err := topology.WaitFor(ctx, "the virtual servers back on "+m.Name, 30*time.Second, func() bool {
		o, _ := m.NS.Command("ipvsadm", "-Ln").CombinedOutput()
		return strings.Count(string(o), "-> 172.16.0.") == 4
	})
	note := fmt.Sprintf("%s's IPVS cleared; back after %v", m.Name, back.Round(100*time.Millisecond))
	if err != nil {
		note = fmt.Sprintf("%s's IPVS cleared; not back after 30s (the VIP's traffic goes to %s's own nginx)", m.Name, m.Name)
	}
	return note, sleep(ctx, bd.o.settle)
}

// netem impairs both balancers' eth1 (VRRP, and the forwarding to the
// other node's nginx) with netem args for 30 s.
func netem(args ...string) func(context.Context, *bed) (string, error) {
	return func(ctx context.Context, bd *bed) (string, error) {
		for _, b := range bd.c.Balancers {
			if err := b.Netem(args...); err != nil {
				return "", err
			}
		}
		err := sleep(ctx, 30*time.Second)
		for _, b := range bd.c.Balancers {
			if e := b.Netem(); e != nil && err == nil {
				err = e
			}
		}
		if err != nil {
			return "", err
		}
		holders, neigh := bd.holders(), bd.clientNeigh()
		if err := sleep(ctx, bd.o.settle); err != nil {
			return "", err
		}
		return fmt.Sprintf("at the end %s held the VIP, the client's neighbour entry for it %s; after the settle %s holds it", holders, neigh, bd.holders()), nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
