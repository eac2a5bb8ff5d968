package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/vm"
)

func main() {
	timeout := flag.Duration("timeout", 10*time.Minute, "bound on the whole run, boot included")
	mem := flag.Int("mem", 1024, "guest memory in MiB")
	modules := flag.String("modules", "", "comma-separated kernel modules to load before the program")
	dir := flag.String("dir", "", "working folder in the guest (default: the current folder)")
	env := flag.String("env", "", "comma-separated NAME=value pairs for the program")
	prepare := flag.Bool("prepare", false, "only fetch and unpack the kernel into the cache, then exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: vmrun [flags] -- PROGRAM [ARG...]\n       vmrun -prepare")
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *prepare {
		k, err := vm.Prepare(ctx, vm.CacheDir(), os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "vmrun:", err)
			os.Exit(125)
		}
		fmt.Printf("vmrun: kernel %s ready in %s\n", k.Version, k.Root)
		return
	}
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg := vm.Config{
		Program:  flag.Arg(0),
		Args:     flag.Args()[1:],
		Dir:      *dir,
		Timeout:  *timeout,
		MemoryMB: *mem,
	}
	if cfg.Dir == "" {
		cfg.Dir, _ = os.Getwd()
	}
	if *modules != "" {
		cfg.Modules = strings.Split(*modules, ",")
	}
	if *env != "" {
		cfg.Env = strings.Split(*env, ",")
	}
	res, err := vm.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		os.Exit(125)
	}
	fmt.Fprintf(os.Stderr, "vmrun: exit %d, boot %v, total %v\n", res.ExitCode, res.Boot.Round(time.Millisecond), res.Total.Round(time.Millisecond))
	os.Exit(res.ExitCode)
}
