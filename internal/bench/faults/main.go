package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/vm"
)

// options are the program's settings.
type options struct {
	lbnode, natswitch, kaconf string
	impls, faults             []string
	settle, hold              time.Duration
	timeout                   time.Duration
	verbose                   bool
}

// allFaults are the faults the program knows, in the order they run.
var allFaults = []string{"partition", "kill", "cut", "stop", "reload", "loss20", "loss50", "jitter", "server", "nginx", "drift"}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	var impls, faults string
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&impls, "impl", "lbnode,keepalived", "the daemons to run, each on its own copy of the cluster")
	fs.StringVar(&faults, "faults", strings.Join(allFaults, ","), "the faults to inject, in this order")
	fs.DurationVar(&o.settle, "settle", 20*time.Second, "pause after each fault is over")
	fs.DurationVar(&o.hold, "hold", 10*time.Second, "how long a partition or a cut link lasts")
	fs.StringVar(&o.lbnode, "lbnode", "", "the lbnode program (default: built from ./examples/lbnode)")
	fs.StringVar(&o.natswitch, "natswitch", "", "the natswitch program, the notify program (default: built from ./examples/natswitch)")
	fs.StringVar(&o.kaconf, "kaconf", "internal/config/testdata/article-keepalived.conf", "the article's keepalived.conf")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "bound on the whole run")
	fs.BoolVar(&o.verbose, "v", false, "print the daemons' output at the end")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.impls = strings.Split(impls, ",")
	o.faults = strings.Split(faults, ",")
	if err := o.check(fs.NArg()); err != nil {
		fmt.Fprintln(stderr, "faults:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "faults: needs root (network namespaces, IPVS, nftables)")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	if !vm.InGuest() {
		dir, err := prepare(ctx, &o, stdout)
		if dir != "" {
			defer os.RemoveAll(dir)
		}
		if err != nil {
			fmt.Fprintln(stderr, "faults:", err)
			return 1
		}
	}
	if !vm.InGuest() && !vm.HostHasIPVS(cluster.Modules) {
		fmt.Fprintln(stdout, "The kernel has no IPVS: running the faults in a VM that boots Debian's kernel.")
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "faults:", err)
			return 1
		}
		guestArgs := []string{
			"-lbnode", o.lbnode, "-natswitch", o.natswitch, "-kaconf", o.kaconf,
			"-impl", strings.Join(o.impls, ","), "-faults", strings.Join(o.faults, ","),
			"-settle", o.settle.String(), "-hold", o.hold.String(), "-timeout", o.timeout.String(), fmt.Sprintf("-v=%t", o.verbose),
		}
		res, err := vm.Run(ctx, vm.Config{
			Program: self, Args: guestArgs, Dir: "/", Modules: append(append([]string{}, cluster.Modules...), "sch_netem"),
			MemoryMB: 1536, Timeout: o.timeout, Output: stdout, CacheHostRoot: true,
		})
		if err != nil {
			fmt.Fprintln(stderr, "faults: the VM:", err)
			return 1
		}
		fmt.Fprintf(stdout, "(VM boot %v, total %v)\n", res.Boot.Round(100*time.Millisecond), res.Total.Round(100*time.Millisecond))
		return res.ExitCode
	}
	return faultRun(ctx, &o, stdout)
}

func (o *options) check(nargs int) error {
	if nargs > 0 {
		return errors.New("no arguments expected; usage: faults [-impl lbnode,keepalived] [-faults partition,kill,cut,stop,reload,loss20,loss50,jitter,server,nginx,drift] [-settle D] [-hold D] [-lbnode PATH] [-natswitch PATH] [-kaconf FILE]")
	}
	for _, im := range o.impls {
		if im != "lbnode" && im != "keepalived" {
			return fmt.Errorf("-impl %q: want lbnode or keepalived", im)
		}
	}
	for _, f := range o.faults {
		known := false
		for _, k := range allFaults {
			known = known || f == k
		}
		if !known {
			return fmt.Errorf("-faults %q: want some of %s", f, strings.Join(allFaults, ","))
		}
	}
	switch {
	case o.settle < 5*time.Second:
		return fmt.Errorf("-settle %v: at least 5s", o.settle)
	case o.hold < time.Second:
		return fmt.Errorf("-hold %v: at least 1s", o.hold)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout %v: want more than 0", o.timeout)
	}
	return nil
}

// prepare builds the programs not given on the command line and copies the
// keepalived.conf into a new folder under /var/tmp (see
// cluster.BuildPrograms), and returns the folder.
func prepare(ctx context.Context, o *options, out io.Writer) (string, error) {
	dir, err := cluster.BuildPrograms(ctx, out, "lvskit-bench-faults-", cluster.Program{Name: "lbnode", Path: &o.lbnode}, cluster.Program{Name: "natswitch", Path: &o.natswitch})
	if err != nil {
		return dir, err
	}
	b, err := os.ReadFile(o.kaconf)
	if err != nil {
		return dir, fmt.Errorf("%w (run from the module, or pass -kaconf FILE)", err)
	}
	o.kaconf = filepath.Join(dir, "article-keepalived.conf")
	return dir, os.WriteFile(o.kaconf, b, 0o644)
}
