// Command lvscheck runs one health check from the command line and exits 0
// when the target is healthy, 1 when it is not and 2 on a usage error, so it
// can stand in keepalived's MISC_CHECK misc_path (for example in place of
// "nc -zn -u IP 53"):
//
//	lvscheck [-timeout D] tcp|udp|http|https|dns TARGET [...]
//
// In keepalived.conf:
//
//	MISC_CHECK {
//	    misc_path "/usr/local/bin/lvscheck -timeout 2s udp 172.16.0.1:53"
//	}
//
// TARGET is IP:PORT, or a URL for http and https. With several targets,
// all must be healthy. Flags may come before or after the kind and the
// targets; they are those of healthcheck.Flags, which builds the checks,
// and -q. It prints one line per target: "KIND TARGET: up|down: REASON
// (LATENCY)".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `usage: lvscheck [flags] tcp|udp|http|https|dns TARGET [...]

TARGET is IP:PORT, or a URL for http and https (IP:PORT means http://IP:PORT/).
Exit status: 0 healthy, 1 unhealthy, 2 usage error.

flags:
`

// parseArgs parses the flags, which may come anywhere, and returns the
// kind, the checkers of the targets, and the -q flag.
func parseArgs(args []string, stderr io.Writer) (kind string, targets []string, checkers []healthcheck.Checker, quiet bool, err error) {
	fs := flag.NewFlagSet("lvscheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	check := healthcheck.NewFlags(fs)
	fs.BoolVar(&quiet, "q", false, "print nothing, only set the exit status")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", nil, nil, false, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < 2 {
		fs.Usage()
		return "", nil, nil, false, errors.New("want a kind and at least one target")
	}
	kind, targets = pos[0], pos[1:]
	checkers = make([]healthcheck.Checker, len(targets))
	for i, t := range targets {
		if checkers[i], err = check.Checker(kind, t); err != nil {
			return "", nil, nil, false, err
		}
	}
	return kind, targets, checkers, quiet, nil
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	kind, targets, checkers, quiet, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "lvscheck:", err)
		}
		return 2
	}
	// Several targets are checked at once; each keeps its own timeout.
	type outcome struct {
		res healthcheck.Result
		dur time.Duration
	}
	outs := make([]chan outcome, len(checkers))
	for i, c := range checkers {
		outs[i] = make(chan outcome, 1)
		go func() {
			start := time.Now()
			r := c.Check(ctx)
			outs[i] <- outcome{r, time.Since(start)}
		}()
	}
	code := 0
	for i, ch := range outs {
		out := <-ch
		if !out.res.Up {
			code = 1
		}
		if !quiet {
			fmt.Fprintf(stdout, "%s %s: %v (%v)\n", kind, targets[i], out.res, out.dur.Round(time.Microsecond))
		}
	}
	return code
}
