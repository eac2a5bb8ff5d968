// Command ipvsctl manages the kernel's IPVS table with package ipvs, in the
// text formats of ipvsadm:
//
//	ipvsctl [-netns NAME] list [-stats|-rate|-thresholds|-persistent-conn|-tun-info] [-exact] [-nosort]
//	ipvsctl [-netns NAME] list -timeout | -daemon
//	ipvsctl [-netns NAME] save                  # the lines of ipvsadm -Sn
//	ipvsctl [-netns NAME] restore < RULES        # what ipvsadm -R does with RULES
//	ipvsctl [-netns NAME] apply -f FILE [-dry-run] [-prune]
//	ipvsctl [-netns NAME] flush
//	ipvsctl [-netns NAME] timeout [TCP TCPFIN UDP]
//
// list prints exactly what ipvsadm -Ln prints for the same kernel state.
// restore parses every line first: a malformed line is reported with its
// number and offending token, and then nothing is applied. apply makes the
// services named in FILE (ipvsadm -S lines: -A and -a) match it with the
// fewest operations, prints them, and with -prune also deletes the services
// FILE does not name.
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

// dialFunc opens a client in the named network namespace ("" for the
// current one).
type dialFunc func(netns string) (*ipvs.Client, error)

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

// run is the whole program; it returns the exit code (0 ok, 1 failure,
// 2 usage).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, dial dialFunc) int {
	global := flag.NewFlagSet("ipvsctl", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	netns := global.String("netns", "", "work in the network namespace `NAME` (/run/netns/NAME)")
	if err := global.Parse(args); err != nil {
		return 2
	}
	if global.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := global.Arg(0), global.Args()[1:]
	var err error
	switch cmd {
	case "list":
		err = cmdList(rest, stdout, stderr, *netns, dial)
	case "save":
		err = cmdSave(rest, stdout, *netns, dial)
	case "restore":
		err = cmdRestore(rest, stdin, stderr, *netns, dial)
	case "apply":
		err = cmdApply(rest, stdout, stderr, *netns, dial)
	case "flush":
		err = withClient(*netns, dial, rest, func(c *ipvs.Client) error { return c.Flush() })
	case "timeout":
		err = cmdTimeout(rest, stdout, *netns, dial)
	default:
		fmt.Fprintf(stderr, "ipvsctl: unknown command %q\n%s", cmd, usage)
		return 2
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "ipvsctl %s: %v\n", cmd, err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "ipvsctl %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func withClient(netns string, dial dialFunc, extra []string, fn func(*ipvs.Client) error) error {
	if len(extra) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", extra[0])}
	}
	c, err := dial(netns)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

func subFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdList(args []string, stdout, stderr io.Writer, netns string, dial dialFunc) error {
	fs := subFlags("list", stderr)
	var f ipvs.ListFormat
	fs.BoolVar(&f.Stats, "stats", false, "counters")
	fs.BoolVar(&f.Rate, "rate", false, "rates")
	fs.BoolVar(&f.Thresholds, "thresholds", false, "thresholds")
	fs.BoolVar(&f.PersistentConn, "persistent-conn", false, "persistent connections")
	fs.BoolVar(&f.TunInfo, "tun-info", false, "tunnel information")
	fs.BoolVar(&f.Exact, "exact", false, "exact numbers")
	fs.BoolVar(&f.NoSort, "nosort", false, "the kernel's order")
	timeout := fs.Bool("timeout", false, "the connection timeouts")
	daemon := fs.Bool("daemon", false, "the sync daemons")
	fs.Bool("n", true, "numeric output (always)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if (*timeout || *daemon) && (f.Stats || f.Rate || f.Thresholds || f.PersistentConn) || *timeout && *daemon {
		return usageError{"options conflict in the list command"}
	}
	return withClient(netns, dial, fs.Args(), func(c *ipvs.Client) error {
		switch {
		case *timeout:
			t, err := c.Timeouts()
			if err != nil {
				return err
			}
			return ipvs.WriteTimeouts(stdout, t)
		case *daemon:
			ds, err := c.Daemons()
			if err != nil {
				return err
			}
			return ipvs.WriteDaemons(stdout, ds)
		}
		info, err := c.Info()
		if err != nil {
			return err
		}
		t, err := c.Table()
		if err != nil {
			return err
		}
		return ipvs.WriteList(stdout, info, t, f)
	})
}

func cmdSave(args []string, stdout io.Writer, netns string, dial dialFunc) error {
	if len(args) == 1 && args[0] == "-n" {
		args = nil
	}
	return withClient(netns, dial, args, func(c *ipvs.Client) error {
		t, err := c.Table()
		if err != nil {
			return err
		}
		return ipvs.WriteRules(stdout, t)
	})
}

func cmdRestore(args []string, stdin io.Reader, stderr io.Writer, netns string, dial dialFunc) error {
	rules, err := ipvs.ParseRuleLines(stdin)
	if err != nil {
		return fmt.Errorf("nothing applied: %w", err)
	}
	return withClient(netns, dial, args, func(c *ipvs.Client) error {
		ops := make([]ipvs.Op, len(rules))
		for i, r := range rules {
			ops[i] = r.Op
		}
		return reportFailures(c.Apply(ops), rules, stderr)
	})
}

// reportFailures prints each failed operation with the line it came from,
// as ipvsadm -R reports each failed line.
func reportFailures(err error, rules []ipvs.Rule, stderr io.Writer) error {
	if err == nil {
		return nil
	}
	var ae *ipvs.ApplyError
	var oe *ipvs.OpError
	var failed []*ipvs.OpError
	switch {
	case errors.As(err, &ae):
		failed = ae.Errors
	case errors.As(err, &oe):
		failed = []*ipvs.OpError{oe}
	default:
		return err
	}
	for _, f := range failed {
		if f.Index >= 0 && f.Index < len(rules) {
			fmt.Fprintf(stderr, "line %d: %v\n", rules[f.Index].Line, f)
		} else {
			fmt.Fprintln(stderr, f)
		}
	}
	return fmt.Errorf("%d of %d operations failed", len(failed), len(rules))
}

// loadDesired reads an apply file: -A and -a lines (ipvsadm -S format).
func loadDesired(path string) (*ipvs.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := ipvs.ParseRuleLines(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := &ipvs.Table{}
	index := map[ipvs.ServiceKey]int{}
	for _, r := range rules {
		switch r.Op.Kind {
		case ipvs.AddService:
			k := r.Op.Service.Key()
			if _, dup := index[k]; dup {
				return nil, fmt.Errorf("%s: line %d: service %v declared twice", path, r.Line, k)
			}
			index[k] = len(t.Services)
			t.Services = append(t.Services, ipvs.VirtualServer{Service: r.Op.Service})
		case ipvs.AddDestination:
			i, ok := index[r.Op.Service.Key()]
			if !ok {
				return nil, fmt.Errorf("%s: line %d: destination for service %v, which no earlier -A line declares", path, r.Line, r.Op.Service.Key())
			}
			t.Services[i].Destinations = append(t.Services[i].Destinations, r.Op.Destination)
		default:
			return nil, fmt.Errorf("%s: line %d: %q: an apply file holds only -A and -a lines", path, r.Line, r.Op.String())
		}
	}
	return t, nil
}

func cmdApply(args []string, stdout, stderr io.Writer, netns string, dial dialFunc) error {
	fs := subFlags("apply", stderr)
	file := fs.String("f", "", "the desired state, as ipvsadm -S lines (-A and -a)")
	dry := fs.Bool("dry-run", false, "print the plan, change nothing")
	prune := fs.Bool("prune", false, "also delete the services the file does not name")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *file == "" {
		return usageError{"-f FILE is required"}
	}
	desired, err := loadDesired(*file)
	if err != nil {
		return err
	}
	return withClient(netns, dial, fs.Args(), func(c *ipvs.Client) error {
		current, err := c.Table()
		if err != nil {
			return err
		}
		ops, err := ipvs.Plan(current, desired, &ipvs.PlanOptions{Prune: *prune})
		if err != nil {
			return err
		}
		for _, o := range ops {
			fmt.Fprintln(stdout, o)
		}
		if *dry {
			fmt.Fprintf(stdout, "# dry run: %d operations planned, none applied\n", len(ops))
			return nil
		}
		if err := c.Apply(ops); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# %d operations applied\n", len(ops))
		return nil
	})
}

func cmdTimeout(args []string, stdout io.Writer, netns string, dial dialFunc) error {
	switch len(args) {
	case 0:
		return withClient(netns, dial, nil, func(c *ipvs.Client) error {
			t, err := c.Timeouts()
			if err != nil {
				return err
			}
			return ipvs.WriteTimeouts(stdout, t)
		})
	case 3:
		op, err := ipvs.ParseRule(append([]string{"--set"}, args...))
		if err != nil {
			return usageError{err.Error()}
		}
		return withClient(netns, dial, nil, func(c *ipvs.Client) error { return c.SetTimeouts(op.Timeouts) })
	}
	return usageError{"timeout takes no argument (show) or three: TCP TCPFIN UDP (seconds, 0 = unchanged)"}
}
