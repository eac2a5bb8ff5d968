// Command demo runs the article's two-node cluster on one machine and shows
// it working: the VRRP election, HTTP and DNS through the VIP spread over
// the servers and both balancers, the master's IPVS table, a failover when
// lb1's lbnode is killed, and lb1's return.
//
//	demo [-lbnode PATH] [-preempt] [-v3] [-bgp] [-timeout D]
//
// With -v3 the two balancers speak VRRPv3 at 100 ms adverts instead of the
// article's VRRPv2 at 1 s, and the failover takes under half a second.
//
// With -bgp it runs the scale-out instead (package
// internal/testenv/scaleout): three lbnodes announce a VIP by BGP, with
// BFD, to an FRR router, which spreads the flows over them by ECMP; every
// node's IPVS uses the mh scheduler over the same real servers. It shows
// the nodes' BGP sessions, the router's ECMP route, new connections
// scheduled by all three nodes, keep-alive connections open through them,
// a node's power loss (its link cut, then its lbnode killed), the time
// until the router dropped its path, and how many keep-alive connections
// were kept, of those through the other nodes and of the dead node's.
//
// It needs root (and FRR with -bgp). Every host is a network namespace
// (client, lb1, lb2, web1..3, dns1..2, and switch for the bridges; with
// -bgp router, client, lb1..3, web1..3 and switch); nothing is attached to
// the root namespace. When the kernel has no IPVS, the demo runs itself
// inside a VM booting Debian's kernel (package internal/testenv/vm), with
// the same flags. Everything is cleaned up at the end, also on Ctrl-C. The
// exit code is non-zero if a step failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/cluster"
	"github.com/lvskit/lvskit/internal/testenv/scaleout"
	"github.com/lvskit/lvskit/internal/testenv/vm"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lbnode := fs.String("lbnode", "", "the lbnode program (default: lbnode next to this program)")
	preempt := fs.Bool("preempt", false, "let a returning lb1 take MASTER back (the article sets nopreempt)")
	v3 := fs.Bool("v3", false, "run the VRRP cluster with VRRPv3 at 100 ms adverts (failover under half a second) instead of the article's VRRPv2 at 1 s")
	bgp := fs.Bool("bgp", false, "run the scale-out by BGP and ECMP (three nodes, an FRR router) instead of the VRRP cluster")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound on the whole demo")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: demo [-lbnode PATH] [-preempt] [-v3] [-bgp] [-timeout D]")
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "demo: needs root (network namespaces, IPVS, nftables)")
		return 1
	}
	if *lbnode == "" {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
		*lbnode = filepath.Join(filepath.Dir(self), "lbnode")
	}
	abs, err := filepath.Abs(*lbnode)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	if _, err := os.Stat(abs); err != nil {
		fmt.Fprintf(stderr, "demo: -lbnode %s: %v (build it with: go build -o bin/ ./examples/lbnode)\n", abs, err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	modules := cluster.Modules
	if *bgp {
		modules = scaleout.Modules
	}
	if !vm.InGuest() && !vm.HostHasIPVS(modules) {
		fmt.Fprintln(stdout, "The kernel has no IPVS: running the demo in a VM that boots Debian's kernel (about 10-30 s to boot).")
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
		guestArgs := []string{"-lbnode", abs, "-timeout", timeout.String()}
		if *preempt {
			guestArgs = append(guestArgs, "-preempt")
		}
		if *v3 {
			guestArgs = append(guestArgs, "-v3")
		}
		if *bgp {
			guestArgs = append(guestArgs, "-bgp")
		}
		res, err := vm.Run(ctx, vm.Config{
			Program: self, Args: guestArgs, Dir: filepath.Dir(abs), Modules: modules,
			MemoryMB: 1536, Timeout: *timeout, Output: stdout,
		})
		if err != nil {
			fmt.Fprintln(stderr, "demo: the VM:", err)
			return 1
		}
		fmt.Fprintf(stdout, "(VM boot %v, total %v)\n", res.Boot.Round(100*time.Millisecond), res.Total.Round(100*time.Millisecond))
		return res.ExitCode
	}
	d := &demo{out: stdout, lbnode: abs, preempt: *preempt, bgp: *bgp, v3: *v3, inVM: vm.InGuest()}
	return d.run(ctx)
}
