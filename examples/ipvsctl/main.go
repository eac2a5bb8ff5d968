// Command ipvsctl manages the kernel's IPVS table with package ipvs, in the
// text formats of ipvsadm (see usage below). list prints exactly what
// ipvsadm -Ln prints, save what ipvsadm -Sn prints; restore does what
// ipvsadm -R does with the lines on stdin, applying nothing when one is
// malformed; apply makes the services named in FILE (-A and -a lines) match
// it with the fewest operations and prints them; -prune also deletes the
// services FILE does not name. Exit codes: 0 done, 1 failed, 2 usage.
//
// It needs CAP_NET_ADMIN. -netns NAME works in the network namespace
// /run/netns/NAME (as `ip netns` names them).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lvskit/lvskit/ipvs"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, dialNetNS))
}

// dialNetNS opens a client in the named network namespace ("" for the
// current one).
func dialNetNS(netns string) (*ipvs.Client, error) {
	if netns == "" {
		return ipvs.Dial(nil)
	}
	f, err := os.Open("/run/netns/" + netns)
	if err != nil {
		return nil, fmt.Errorf("network namespace %q: %w", netns, err)
	}
	defer f.Close()
	return ipvs.Dial(&ipvs.Config{NetNS: int(f.Fd())})
}

const usage = `usage: ipvsctl [-netns NAME] COMMAND [ARGS]
commands:
  list [-stats|-rate|-thresholds|-persistent-conn|-tun-info] [-exact] [-nosort]
  list -timeout | -daemon
  save
  restore < RULES
  apply -f FILE [-dry-run] [-prune]
  flush
  timeout [TCP TCPFIN UDP]
`

// usageError is an error of the command line (exit code 2).
type usageError struct{ error }

// run is the whole program; it returns the exit code: 0 done, 1 failed,
// 2 usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, dial func(netns string) (*ipvs.Client, error)) int {
	fs := flag.NewFlagSet("ipvsctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	netns := fs.String("netns", "", "work in the network namespace `NAME` (/run/netns/NAME)")
	if fs.Parse(args) != nil || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	cmd := fs.Arg(0)
	sub := flag.NewFlagSet("ipvsctl "+cmd, flag.ContinueOnError)
	sub.SetOutput(stderr)
	var f ipvs.ListFormat
	var timeout, daemon, dry, prune bool
	var file string
	switch cmd {
	case "list":
		sub.BoolVar(&f.Stats, "stats", false, "counters")
		sub.BoolVar(&f.Rate, "rate", false, "rates")
		sub.BoolVar(&f.Thresholds, "thresholds", false, "thresholds")
		sub.BoolVar(&f.PersistentConn, "persistent-conn", false, "persistent connections")
		sub.BoolVar(&f.TunInfo, "tun-info", false, "tunnel information")
		sub.BoolVar(&f.Exact, "exact", false, "exact numbers")
		sub.BoolVar(&f.NoSort, "nosort", false, "the kernel's order")
		sub.BoolVar(&timeout, "timeout", false, "the connection timeouts")
		sub.BoolVar(&daemon, "daemon", false, "the sync daemons")
		sub.Bool("n", true, "numeric output (always)")
	case "save":
		sub.Bool("n", true, "numeric output (always)")
	case "apply":
		sub.StringVar(&file, "f", "", "the desired state, as ipvsadm -S lines (-A and -a)")
		sub.BoolVar(&dry, "dry-run", false, "print the plan, change nothing")
		sub.BoolVar(&prune, "prune", false, "also delete the services the file does not name")
	case "restore", "flush", "timeout":
	default:
		fmt.Fprintf(stderr, "ipvsctl: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if sub.Parse(fs.Args()[1:]) != nil {
		return 2
	}
	rest := sub.Args()
	var desired *ipvs.Table
	var set *ipvs.Timeouts
	err := func() error {
		var err error
		switch {
		case (timeout || daemon) && (f.Stats || f.Rate || f.Thresholds || f.PersistentConn) || timeout && daemon:
			return usageError{errors.New("options conflict in the list command")}
		case cmd == "apply" && file == "":
			return usageError{errors.New("-f FILE is required")}
		case cmd == "apply":
			if desired, err = readTable(file); err != nil {
				return err
			}
		case cmd == "timeout" && len(rest) > 0:
			t, err := ipvs.ParseTimeouts(rest)
			if err != nil {
				return usageError{err}
			}
			set, rest = &t, nil
		}
		if len(rest) > 0 {
			return usageError{fmt.Errorf("unexpected argument %q", rest[0])}
		}
		c, err := dial(*netns)
		if err != nil {
			return err
		}
		defer c.Close()
		switch {
		case cmd == "timeout" && set != nil:
			return c.SetTimeouts(*set)
		case cmd == "timeout", timeout:
			t, err := c.Timeouts()
			if err != nil {
				return err
			}
			return ipvs.WriteTimeouts(stdout, t)
		case daemon:
			ds, err := c.Daemons()
			if err != nil {
				return err
			}
			return ipvs.WriteDaemons(stdout, ds)
		case cmd == "list":
			return c.List(stdout, f)
		case cmd == "save":
			return c.Save(stdout)
		case cmd == "restore":
			return c.Restore(stdin)
		case cmd == "flush":
			return c.Flush()
		}
		opts := &ipvs.PlanOptions{Prune: prune}
		var ops []ipvs.Op
		if dry {
			ops, err = c.Plan(desired, opts)
		} else {
			ops, err = c.Reconcile(desired, opts)
		}
		if werr := ipvs.WriteOps(stdout, ops); err == nil {
			err = werr
		}
		switch {
		case err != nil:
			return err
		case dry:
			fmt.Fprintf(stdout, "# dry run: %d operations planned, none applied\n", len(ops))
		default:
			fmt.Fprintf(stdout, "# %d operations applied\n", len(ops))
		}
		return nil
	}()
	if err == nil {
		return 0
	}
	if re := (*ipvs.RestoreError)(nil); errors.As(err, &re) {
		for _, le := range re.Errors {
			fmt.Fprintln(stderr, le)
		}
	}
	fmt.Fprintf(stderr, "ipvsctl %s: %v\n", cmd, err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// readTable reads an apply file.
func readTable(path string) (*ipvs.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ipvs.ReadTable(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
