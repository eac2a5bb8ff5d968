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
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/vm"
)

// options are the benchmark's settings.
type options struct {
	idle, traffic, settle time.Duration
	httpRate, dnsRate     int
	lbnode, natswitch     string
	metrics               bool
	timeout               time.Duration
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("lbnode-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.idle, "idle", 60*time.Second, "length of the idle phase")
	fs.DurationVar(&o.traffic, "traffic", 60*time.Second, "length of the traffic phase")
	fs.DurationVar(&o.settle, "settle", 10*time.Second, "wait after the cluster is up, before measuring")
	fs.IntVar(&o.httpRate, "http-rate", 20, "HTTP requests per second through the VIP in the traffic phase (1-200)")
	fs.IntVar(&o.dnsRate, "dns-rate", 10, "DNS queries per second through the VIP in the traffic phase (0-200)")
	fs.StringVar(&o.lbnode, "lbnode", "", "the lbnode program (default: built from ./examples/lbnode)")
	fs.StringVar(&o.natswitch, "natswitch", "", "the natswitch program, keepalived's notify (default: built from ./examples/natswitch)")
	fs.BoolVar(&o.metrics, "metrics", false, "run lbnode with -metrics (keepalived runs without SNMP either way)")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound on the whole run (default: 3 x (settle+idle+traffic) + 10m)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := o.check(fs.NArg()); err != nil {
		fmt.Fprintln(stderr, "lbnode-bench:", err)
		return 2
	}
	if o.timeout == 0 {
		o.timeout = 3*(o.settle+o.idle+o.traffic) + 10*time.Minute
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "lbnode-bench: needs root (network namespaces, IPVS, nftables)")
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	if o.lbnode == "" || o.natswitch == "" {
		dir, err := cluster.BuildPrograms(ctx, stdout, "lvskit-bench-lbnode-", cluster.Program{Name: "lbnode", Path: &o.lbnode}, cluster.Program{Name: "natswitch", Path: &o.natswitch})
		if dir != "" {
			defer os.RemoveAll(dir)
		}
		if err != nil {
			fmt.Fprintln(stderr, "lbnode-bench:", err)
			return 1
		}
	}
	for _, p := range []*string{&o.lbnode, &o.natswitch} {
		abs, err := filepath.Abs(*p)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fmt.Fprintln(stderr, "lbnode-bench:", err)
			return 1
		}
		*p = abs
	}

	if !vm.InGuest() && !vm.HostHasIPVS(cluster.Modules) {
		fmt.Fprintln(stdout, "The kernel has no IPVS: running the benchmark in a VM that boots Debian's kernel.")
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "lbnode-bench:", err)
			return 1
		}
		guestArgs := []string{
			"-lbnode", o.lbnode, "-natswitch", o.natswitch,
			"-idle", o.idle.String(), "-traffic", o.traffic.String(), "-settle", o.settle.String(),
			"-http-rate", fmt.Sprint(o.httpRate), "-dns-rate", fmt.Sprint(o.dnsRate),
			"-timeout", o.timeout.String(), fmt.Sprintf("-metrics=%t", o.metrics),
		}
		res, err := vm.Run(ctx, vm.Config{
			Program: self, Args: guestArgs, Dir: "/", Modules: cluster.Modules,
			MemoryMB: 1536, Timeout: o.timeout, Output: stdout, CacheHostRoot: true,
		})
		if err != nil {
			fmt.Fprintln(stderr, "lbnode-bench: the VM:", err)
			return 1
		}
		fmt.Fprintf(stdout, "(VM boot %v, total %v)\n", res.Boot.Round(100*time.Millisecond), res.Total.Round(100*time.Millisecond))
		return res.ExitCode
	}
	return bench(ctx, &o, stdout)
}

func (o *options) check(nargs int) error {
	switch {
	case nargs > 0:
		return errors.New("no arguments expected; usage: lbnode-bench [-idle D] [-traffic D] [-settle D] [-http-rate N] [-dns-rate N] [-lbnode PATH] [-natswitch PATH] [-metrics]")
	case o.idle < time.Second:
		return fmt.Errorf("-idle %v: at least 1s", o.idle)
	case o.traffic < time.Second:
		return fmt.Errorf("-traffic %v: at least 1s", o.traffic)
	case o.settle < 0:
		return fmt.Errorf("-settle %v: negative", o.settle)
	case o.httpRate < 1 || o.httpRate > 200:
		return fmt.Errorf("-http-rate %d: want 1-200", o.httpRate)
	case o.dnsRate < 0 || o.dnsRate > 200:
		return fmt.Errorf("-dns-rate %d: want 0-200", o.dnsRate)
	case o.timeout < 0:
		return fmt.Errorf("-timeout %v: negative", o.timeout)
	}
	return nil
}
