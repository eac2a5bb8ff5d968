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

// command is one parsed command line.
type command struct {
	name            string
	args            []string
	list            ipvs.ListFormat
	timeout, daemon bool // list -timeout, list -daemon
	file            string
	dry, prune      bool
	stdin           io.Reader
	stdout          io.Writer
}

// run is the whole program; it returns the exit code: 0 done, 1 failed,
// 2 usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, dial func(netns string) (*ipvs.Client, error)) int {
	fs := flag.NewFlagSet("ipvsctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	netns := fs.String("netns", "", "work in the network namespace `NAME` (/run/netns/NAME)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	x := &command{name: fs.Arg(0), stdin: stdin, stdout: stdout}
	sub := flag.NewFlagSet("ipvsctl "+x.name, flag.ContinueOnError)
	sub.SetOutput(stderr)
	switch x.name {
	case "list":
		sub.BoolVar(&x.list.Stats, "stats", false, "counters")
		sub.BoolVar(&x.list.Rate, "rate", false, "rates")
		sub.BoolVar(&x.list.Thresholds, "thresholds", false, "thresholds")
		sub.BoolVar(&x.list.PersistentConn, "persistent-conn", false, "persistent connections")
		sub.BoolVar(&x.list.TunInfo, "tun-info", false, "tunnel information")
		sub.BoolVar(&x.list.Exact, "exact", false, "exact numbers")
		sub.BoolVar(&x.list.NoSort, "nosort", false, "the kernel's order")
		sub.BoolVar(&x.timeout, "timeout", false, "the connection timeouts")
		sub.BoolVar(&x.daemon, "daemon", false, "the sync daemons")
		sub.Bool("n", true, "numeric output (always)")
	case "save":
		sub.Bool("n", true, "numeric output (always)")
	case "apply":
		sub.StringVar(&x.file, "f", "", "the desired state, as ipvsadm -S lines (-A and -a)")
		sub.BoolVar(&x.dry, "dry-run", false, "print the plan, change nothing")
		sub.BoolVar(&x.prune, "prune", false, "also delete the services the file does not name")
	case "restore", "flush", "timeout":
	default:
		fmt.Fprintf(stderr, "ipvsctl: unknown command %q\n%s", x.name, usage)
		return 2
	}
	if err := sub.Parse(fs.Args()[1:]); err != nil {
		return 2
	}
	x.args = sub.Args()
	err := x.run(func() (*ipvs.Client, error) { return dial(*netns) })
	if err == nil {
		return 0
	}
	if re := (*ipvs.RestoreError)(nil); errors.As(err, &re) {
		for _, le := range re.Errors {
			fmt.Fprintln(stderr, le)
		}
	}
	fmt.Fprintf(stderr, "ipvsctl %s: %v\n", x.name, err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// run checks the arguments of the command, and then runs it on a client.
func (x *command) run(dial func() (*ipvs.Client, error)) error {
	var desired *ipvs.Table
	var set *ipvs.Timeouts
	var err error
	switch f := x.list; {
	case (x.timeout || x.daemon) && (f.Stats || f.Rate || f.Thresholds || f.PersistentConn) || x.timeout && x.daemon:
		return usageError{errors.New("options conflict in the list command")}
	case x.name == "apply" && x.file == "":
		return usageError{errors.New("-f FILE is required")}
	case x.name == "apply":
		if desired, err = readTable(x.file); err != nil {
			return err
		}
	case x.name == "timeout" && len(x.args) > 0:
		t, err := ipvs.ParseTimeouts(x.args)
		if err != nil {
			return usageError{err}
		}
		set, x.args = &t, nil
	}
	if len(x.args) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", x.args[0])}
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	switch {
	case set != nil:
		return c.SetTimeouts(*set)
	case x.name == "timeout", x.timeout:
		t, err := c.Timeouts()
		if err != nil {
			return err
		}
		return ipvs.WriteTimeouts(x.stdout, t)
	case x.daemon:
		ds, err := c.Daemons()
		if err != nil {
			return err
		}
		return ipvs.WriteDaemons(x.stdout, ds)
	case x.name == "list":
		return c.List(x.stdout, x.list)
	case x.name == "save":
		return c.Save(x.stdout)
	case x.name == "restore":
		return c.Restore(x.stdin)
	case x.name == "flush":
		return c.Flush()
	}
	opts := &ipvs.PlanOptions{Prune: x.prune}
	var ops []ipvs.Op
	if x.dry {
		ops, err = c.Plan(desired, opts)
	} else {
		ops, err = c.Reconcile(desired, opts)
	}
	if werr := ipvs.WriteOps(x.stdout, ops); err == nil {
		err = werr
	}
	switch {
	case err != nil:
		return err
	case x.dry:
		fmt.Fprintf(x.stdout, "# dry run: %d operations planned, none applied\n", len(ops))
	default:
		fmt.Fprintf(x.stdout, "# %d operations applied\n", len(ops))
	}
	return nil
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
