//go:build linux

package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lvskit/lvskit/ipvs"
)

func main() {
	services := flag.Int("services", 1000, "virtual services")
	dests := flag.Int("dests", 10, "destinations per service")
	rounds := flag.Int("rounds", 5, "measured rounds")
	ipvsctl := flag.String("ipvsctl", "", "also time this ipvsctl binary (ipvsctl restore)")
	batchList := flag.String("batch", "0", "comma-separated requests per message for lvskit, one series each (0: the default)")
	flag.Parse()
	var batches []int
	for _, f := range strings.Split(*batchList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "ipvsrestore: -batch: %q is not a size\n", f)
			os.Exit(2)
		}
		batches = append(batches, n)
	}
	if err := bench(*services, *dests, *rounds, *ipvsctl, batches); err != nil {
		fmt.Fprintln(os.Stderr, "ipvsrestore:", err)
		os.Exit(1)
	}
}

// rules returns a cluster-like rules file: TCP services with wlc and
// direct-routing destinations of weight 1.
func rules(services, dests int) string {
	var b strings.Builder
	for i := range services {
		svc := fmt.Sprintf("-t 10.%d.%d.%d:80", i/62500, i/250%250, i%250+1)
		fmt.Fprintf(&b, "-A %s -s wlc\n", svc)
		for j := range dests {
			fmt.Fprintf(&b, "-a %s -r 172.%d.%d.%d:80 -g -w 1\n", svc, 16+j%16, i/250%250, i%250+1)
		}
	}
	return b.String()
}

var nsCount int

// newNS creates a named network namespace with lo up and a route for the
// destinations; the returned function removes it.
func newNS() (string, func(), error) {
	nsCount++
	name := fmt.Sprintf("lvsbench%d-%d", os.Getpid(), nsCount)
	for _, args := range [][]string{
		{"netns", "add", name},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "route", "add", "172.16.0.0/12", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			exec.Command("ip", "netns", "del", name).Run()
			return "", nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return name, func() { exec.Command("ip", "netns", "del", name).Run() }, nil
}

func runIn(ns string, stdin []byte, name string, args ...string) (time.Duration, []byte, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, nil, fmt.Errorf("%s %s in %s: %v: %s", name, strings.Join(args, " "), ns, err, errb.String())
	}
	return d, out.Bytes(), nil
}

func dial(ns string, batch int) (*ipvs.Client, error) {
	f, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ipvs.Dial(&ipvs.Config{NetNS: int(f.Fd()), BatchSize: batch})
}

// restoreLvskit does what ipvsctl restore does, in this process.
func restoreLvskit(ns string, text []byte, batch int) (time.Duration, error) {
	start := time.Now()
	c, err := dial(ns, batch)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Restore(bytes.NewReader(text)); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

type series struct {
	name string
	d    []time.Duration
}

func (s *series) add(d time.Duration) { s.d = append(s.d, d) }

func (s *series) stats() (lo, med, hi time.Duration) {
	d := slices.Clone(s.d)
	slices.Sort(d)
	if len(d) == 0 {
		return
	}
	return d[0], d[len(d)/2], d[len(d)-1]
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func sec(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func bench(services, dests, rounds int, ipvsctl string, batches []int) error {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		exec.Command("modprobe", "ip_vs", "ip_vs_wlc").Run()
	}
	text := []byte(rules(services, dests))
	lines := bytes.Count(text, []byte("\n"))
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("ipvsrestore: %d services x %d destinations (%d lines), %d rounds, kernel %s\n",
		services, dests, lines, rounds, strings.TrimSpace(string(kernel)))

	// Warm up: load the modules, fault in both programs.
	ns, del, err := newNS()
	if err != nil {
		return err
	}
	_, _, err = runIn(ns, text[:bytes.Index(text, []byte("\n-A"))+1], "ipvsadm", "-R")
	del()
	if err != nil {
		return err
	}
	nsExec := &series{name: "ip netns exec true (overhead)"}
	adm := &series{name: "ipvsadm -R"}
	var lvsAll []*series
	for _, b := range batches {
		name := "lvskit restore (in process)"
		if len(batches) > 1 || b != 0 {
			bs := b
			if bs == 0 {
				bs = ipvs.DefaultBatchSize
			}
			name = fmt.Sprintf("lvskit restore, batch %d", bs)
		}
		lvsAll = append(lvsAll, &series{name: name})
	}
	lvs := lvsAll[0]
	ctl := &series{name: "ipvsctl restore (binary)"}
	equal := true
	// IPVS keeps the services of every namespace in one hash table, so each
	// restore runs alone: the other namespace is removed (and given time to
	// be cleaned up) first.
	restoreOne := func(restore func(ns string) (time.Duration, error), keep bool) (time.Duration, []byte, string, func(), error) {
		ns, del, err := newNS()
		if err != nil {
			return 0, nil, "", nil, err
		}
		d, err := restore(ns)
		if err != nil {
			del()
			return 0, nil, "", nil, err
		}
		_, saved, err := runIn(ns, nil, "ipvsadm", "-Sn")
		if err != nil {
			del()
			return 0, nil, "", nil, err
		}
		if !keep {
			del()
			time.Sleep(3 * time.Second)
			return d, saved, "", nil, nil
		}
		return d, saved, ns, del, nil
	}
	admRestore := func(ns string) (time.Duration, error) {
		d, _, err := runIn(ns, text, "ipvsadm", "-R")
		return d, err
	}
	lvsRestores := map[*series]func(string) (time.Duration, error){}
	for i, b := range batches {
		lvsRestores[lvsAll[i]] = func(ns string) (time.Duration, error) { return restoreLvskit(ns, text, b) }
	}
	ctlRestore := func(ns string) (time.Duration, error) {
		d, _, err := runIn(ns, text, ipvsctl, "restore")
		return d, err
	}
	for r := range rounds {
		order := append([]*series{adm}, lvsAll...)
		if r%2 == 1 {
			order = append(slices.Clone(lvsAll), adm)
		}
		if ipvsctl != "" {
			order = append(order, ctl)
		}
		var saved [][]byte
		var keptNS string
		var keptDel func()
		for _, s := range order {
			fn := lvsRestores[s]
			switch s {
			case adm:
				fn = admRestore
			case ctl:
				fn = ctlRestore
			}
			keep := s == lvs && r == rounds-1
			d, sv, ns, del, err := restoreOne(fn, keep)
			if err != nil {
				if keptDel != nil {
					keptDel()
				}
				return err
			}
			if keep {
				keptNS, keptDel = ns, del
			}
			s.add(d)
			saved = append(saved, sv)
		}
		for _, sv := range saved {
			if !bytes.Equal(sv, saved[0]) || bytes.Count(sv, []byte("\n")) != lines {
				equal = false
			}
		}
		ns, del, err := newNS()
		if err != nil {
			return err
		}
		d, _, _ := runIn(ns, nil, "true")
		del()
		nsExec.add(d)
		fmt.Printf("round %d: ipvsadm -R %s", r+1, sec(adm.d[r]))
		for _, s := range lvsAll {
			fmt.Printf(", %s %s", s.name, sec(s.d[r]))
		}
		if ipvsctl != "" {
			fmt.Printf(", ipvsctl %s", sec(ctl.d[r]))
		}
		fmt.Println()
		if keptNS != "" {
			err := declarative(keptNS, text, rounds)
			keptDel()
			if err != nil {
				return err
			}
		}
	}
	fmt.Printf("\n%-34s %9s %9s %9s\n", "from empty", "min", "median", "max")
	all := append([]*series{adm}, lvsAll...)
	if ipvsctl != "" {
		all = append(all, ctl)
	}
	all = append(all, nsExec)
	for _, s := range all {
		lo, med, hi := s.stats()
		fmt.Printf("%-34s %9s %9s %9s\n", s.name, sec(lo), sec(med), sec(hi))
	}
	_, am, _ := adm.stats()
	for _, s := range lvsAll {
		_, lm, _ := s.stats()
		fmt.Printf("%s / ipvsadm -R (median): %.2f (goal: at most 0.50)\n", s.name, lm.Seconds()/am.Seconds())
		// Each round's pair ran back to back, so their ratio is steadier
		// than the ratio of medians when the machine is busy.
		ratios := make([]float64, len(s.d))
		for r := range s.d {
			ratios[r] = s.d[r].Seconds() / adm.d[r].Seconds()
		}
		fmt.Printf("%s / ipvsadm -R per round: %.2f, median %.2f\n", s.name, ratios, median(ratios))
	}
	fmt.Printf("ipvsadm -Sn identical after both, every round: %v\n", equal)
	return nil
}

// declarative times Reconcile on the restored table: the same state, then a
// one-weight change; and ipvsadm -e doing that change, for reference.
func declarative(ns string, text []byte, rounds int) error {
	desired, err := ipvs.ReadTable(bytes.NewReader(text))
	if err != nil {
		return err
	}
	c, err := dial(ns, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	same := &series{name: "reconcile, same state"}
	weight := &series{name: "reconcile, one weight changed"}
	admE := &series{name: "ipvsadm -e, one weight (reference)"}
	var sameOps, weightOps []int
	vs := &desired.Services[len(desired.Services)/2]
	for r := range rounds {
		start := time.Now()
		done, err := c.Reconcile(desired, nil)
		if err != nil {
			return err
		}
		same.add(time.Since(start))
		sameOps = append(sameOps, len(done))

		vs.Destinations[0].Weight = uint32(2 + r)
		start = time.Now()
		done, err = c.Reconcile(desired, nil)
		if err != nil {
			return err
		}
		weight.add(time.Since(start))
		weightOps = append(weightOps, len(done))

		d := vs.Destinations[0]
		e := ipvs.Op{Kind: ipvs.UpdateDestination, Service: vs.Service, Destination: d}
		e.Destination.Weight = uint32(100 + r)
		dt, _, err := runIn(ns, nil, "ipvsadm", strings.Fields(e.String())...)
		if err != nil {
			return err
		}
		admE.add(dt)
		vs.Destinations[0].Weight = e.Destination.Weight // the state is the desired one again
	}
	fmt.Printf("\n%-34s %9s %9s %9s  %s\n", "on the restored table", "min", "median", "max", "writes")
	for _, x := range []struct {
		s      *series
		writes string
	}{{same, fmt.Sprint(sameOps)}, {weight, fmt.Sprint(weightOps)}, {admE, "1 each"}} {
		lo, med, hi := x.s.stats()
		fmt.Printf("%-34s %9s %9s %9s  %s\n", x.s.name, sec(lo), sec(med), sec(hi), x.writes)
	}
	return nil
}
