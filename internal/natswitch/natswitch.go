// Package natswitch is the natswitch program (examples/natswitch): a
// drop-in for the article's nat-switch notify script. It lives here so that
// other programs, and tests that run their own binary as natswitch, can
// call it.
package natswitch

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/lvskit/lvskit/nat"
)

// action is what natswitch was asked to do.
type action int

const (
	actBackup action = iota
	actMaster
	actStatus
	actCleanup
)

type options struct {
	cfg     nat.Config
	act     action
	what    string // the positional arguments, for messages
	lock    string
	logFile string
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usage = `usage: natswitch -interface IF -vip IP[,IP] [flags] STATE
       natswitch -interface IF -vip IP[,IP] [flags] INSTANCE|GROUP NAME STATE [PRIORITY]
       natswitch -interface IF -vip IP[,IP] [flags] status|cleanup
STATE: MASTER, DELETED remove the rule; BACKUP, FAULT, STOP add it.
flags:
`

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("natswitch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	iface := fs.String("interface", "", "service interface the forwarded packets arrive on (required)")
	vips := fs.String("vip", "", "virtual IP address(es), comma-separated (required)")
	local := fs.String("local", "", "own address(es) on the interface to redirect to, at most one IPv4 and one IPv6 (default: found on the interface)")
	fs.StringVar(&o.cfg.Table, "table", nat.DefaultTable, "nftables table of natswitch (families ip and ip6)")
	fs.StringVar(&o.cfg.Chain, "chain", nat.DefaultChain, "nat chain at the prerouting hook inside the table")
	fs.StringVar(&o.lock, "lock", "/run/natswitch.lock", "lock file serializing concurrent runs; empty: none")
	fs.StringVar(&o.logFile, "log", "", "also append each outcome to this file (keepalived discards a notify program's output)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err.Error()}
	}
	if *iface == "" {
		return o, usagef("-interface is required")
	}
	o.cfg.Interface = *iface
	if *vips == "" {
		return o, usagef("-vip is required")
	}
	for _, s := range strings.Split(*vips, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return o, usagef("-vip %q: not an IP address", s)
		}
		o.cfg.VIPs = append(o.cfg.VIPs, a)
	}
	if *local != "" {
		for _, s := range strings.Split(*local, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return o, usagef("-local %q: not an IP address", s)
			}
			a = a.Unmap()
			field := &o.cfg.LocalIPv4
			if a.Is6() {
				field = &o.cfg.LocalIPv6
			}
			if field.IsValid() {
				return o, usagef("-local %q: more than one address of the same family", *local)
			}
			*field = a
		}
	}

	pos := fs.Args()
	o.what = strings.Join(pos, " ")
	var state string
	switch {
	case len(pos) == 1:
		state = pos[0]
	case (len(pos) == 3 || len(pos) == 4) && (strings.EqualFold(pos[0], "INSTANCE") || strings.EqualFold(pos[0], "GROUP")):
		state = pos[2]
	case len(pos) == 0:
		return o, usagef("missing STATE (MASTER, BACKUP, FAULT, STOP), status or cleanup")
	default:
		return o, usagef("arguments %q: want STATE, status, cleanup or INSTANCE|GROUP NAME STATE [PRIORITY]", o.what)
	}
	switch strings.ToUpper(state) {
	case "BACKUP", "FAULT", "STOP":
		// STOP: the daemon is exiting and no longer holds the VIP, but
		// this node's nginx may still be a real server of the MASTER,
		// which forwards the VIP's traffic to it; the rule keeps that
		// traffic answered.
		o.act = actBackup
	case "MASTER", "DELETED":
		o.act = actMaster
	case "STATUS":
		o.act = actStatus
	case "CLEANUP":
		o.act = actCleanup
	default:
		return o, usagef("state %q: want MASTER, BACKUP, FAULT, STOP, DELETED, status or cleanup", state)
	}
	if len(pos) != 1 && (o.act == actStatus || o.act == actCleanup) {
		return o, usagef("state %q: not a keepalived state", state)
	}
	return o, nil
}

// Run runs natswitch with args (without the program name) and returns its
// exit code: 0 done, 1 failed, 2 usage.
func Run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "natswitch: %v\n", err)
		return 2
	}
	logf := func(w io.Writer, format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(w, "natswitch: %s\n", msg)
		if o.logFile != "" {
			appendLog(o.logFile, msg)
		}
	}

	if o.lock != "" {
		unlock, err := lockFile(o.lock)
		if err != nil {
			fmt.Fprintf(stderr, "natswitch: warning: -lock %s: %v (running unserialized)\n", o.lock, err)
		} else {
			defer unlock()
		}
	}

	sw, err := nat.Open(&o.cfg)
	if err != nil {
		logf(stderr, "%s: %v", o.what, err)
		return 1
	}
	defer sw.Close()

	switch o.act {
	case actBackup:
		if err := sw.Backup(); err != nil {
			logf(stderr, "%s: %v", o.what, err)
			return 1
		}
		for _, r := range sw.Wanted() {
			logf(stdout, "%s: rule present: %s", o.what, r)
		}
	case actMaster:
		if err := sw.Master(); err != nil {
			logf(stderr, "%s: %v", o.what, err)
			return 1
		}
		for _, r := range sw.Wanted() {
			logf(stdout, "%s: rule absent: %s", o.what, r)
		}
	case actStatus:
		installed, err := sw.Installed()
		if err != nil {
			logf(stderr, "status: %v", err)
			return 1
		}
		printStatus(stdout, sw.Wanted(), installed)
	case actCleanup:
		if err := sw.Cleanup(); err != nil {
			logf(stderr, "cleanup: %v", err)
			return 1
		}
		logf(stdout, "cleanup: table %s deleted", o.cfg.Table)
	}
	return 0
}

// printStatus prints every rule found in natswitch's table, then the state
// the configured VIPs are in: BACKUP when all their rules are present, MASTER
// when none is, MIXED otherwise.
func printStatus(w io.Writer, wanted, installed []nat.Rule) {
	present := make(map[nat.Rule]bool)
	for _, r := range installed {
		fmt.Fprintln(w, r)
		present[r] = true
	}
	n := 0
	for _, r := range wanted {
		if present[r] {
			n++
		}
	}
	state := "MIXED"
	switch n {
	case len(wanted):
		state = "BACKUP"
	case 0:
		state = "MASTER"
	}
	fmt.Fprintf(w, "state: %s (%d of %d rules present)\n", state, n, len(wanted))
}

func appendLog(path, msg string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "natswitch: -log %s: %v\n", path, err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s natswitch[%d]: %s\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid(), msg)
}
