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
// targets. It prints one line per target: "KIND TARGET: up|down: REASON
// (LATENCY)".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
	"golang.org/x/net/dns/dnsmessage"
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

// options are the parsed flags.
type options struct {
	timeout   time.Duration
	source    string
	iface     string
	send      string
	expect    string
	wait      time.Duration
	status    string
	body      string
	digest    string
	host      string
	sni       string
	insecure  bool
	name      string
	qtype     string
	rcode     string
	quiet     bool
	setFields map[string]bool
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lvscheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "timeout of the whole check")
	fs.StringVar(&o.source, "source", "", "source `IP` of the check")
	fs.StringVar(&o.iface, "interface", "", "bind the check to interface `IF` (Linux)")
	fs.StringVar(&o.send, "send", "", "tcp, udp: bytes to send (Go escapes such as \\r\\n allowed)")
	fs.StringVar(&o.expect, "expect", "", "tcp, udp: the reply must start with these bytes (Go escapes allowed)")
	fs.DurationVar(&o.wait, "wait", 0, "udp without -expect: silence that counts as up (default: 9/10 of the timeout)")
	fs.StringVar(&o.status, "status", "", "http(s): accepted status `CODES`, e.g. 200-299,301 (default 200-299)")
	fs.StringVar(&o.body, "body", "", "http(s): `REGEXP` the body must match")
	fs.StringVar(&o.digest, "digest", "", "http(s): MD5 (32 hex digits) or SHA-256 (64) of the body")
	fs.StringVar(&o.host, "host", "", "http(s): Host header (virtual host)")
	fs.StringVar(&o.sni, "sni", "", "https: TLS server name (default: -host, else the URL host)")
	fs.BoolVar(&o.insecure, "insecure", false, "https: do not verify the certificate")
	fs.StringVar(&o.name, "name", ".", "dns: name to query")
	fs.StringVar(&o.qtype, "type", "SOA", "dns: query type")
	fs.StringVar(&o.rcode, "rcode", "NOERROR", "dns: accepted response codes, comma-separated")
	fs.BoolVar(&o.quiet, "q", false, "print nothing, only set the exit status")
	return fs
}

// parseArgs splits args into flags (anywhere), the kind and the targets.
func parseArgs(args []string, o *options, stderr io.Writer) (kind string, targets []string, err error) {
	fs := newFlagSet(o, stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	o.setFields = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.setFields[f.Name] = true })
	if len(pos) < 2 {
		fs.Usage()
		return "", nil, errors.New("want a kind and at least one target")
	}
	return pos[0], pos[1:], nil
}

// allowed lists the flags each kind accepts besides the common ones.
var allowed = map[string][]string{
	"tcp":   {"send", "expect"},
	"udp":   {"send", "expect", "wait"},
	"http":  {"status", "body", "digest", "host"},
	"https": {"status", "body", "digest", "host", "sni", "insecure"},
	"dns":   {"name", "type", "rcode"},
}

var common = map[string]bool{"timeout": true, "source": true, "interface": true, "q": true}

// buildChecker turns the kind, one target and the options into a checker.
func buildChecker(kind, target string, o *options) (healthcheck.Checker, error) {
	kinds, ok := allowed[kind]
	if !ok {
		return nil, fmt.Errorf("kind %q: want tcp, udp, http, https or dns", kind)
	}
	for f := range o.setFields {
		if !common[f] && !contains(kinds, f) {
			return nil, fmt.Errorf("flag -%s does not apply to %s checks", f, kind)
		}
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("-timeout %v: want a positive duration", o.timeout)
	}
	var bind healthcheck.Bind
	if o.source != "" {
		ip, err := netip.ParseAddr(o.source)
		if err != nil {
			return nil, fmt.Errorf("-source %q: want an IP address", o.source)
		}
		bind.Source = ip
	}
	bind.Interface = o.iface
	send, err := unescape("send", o.send)
	if err != nil {
		return nil, err
	}
	expect, err := unescape("expect", o.expect)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "tcp", "udp", "dns":
		addr, err := netip.ParseAddrPort(target)
		if err != nil || addr.Port() == 0 {
			return nil, fmt.Errorf("target %q: want IP:PORT", target)
		}
		switch kind {
		case "tcp":
			return &healthcheck.TCP{Addr: addr, Timeout: o.timeout, Send: send, Expect: expect, Bind: bind}, nil
		case "udp":
			if o.wait < 0 {
				return nil, fmt.Errorf("-wait %v: want a positive duration", o.wait)
			}
			return &healthcheck.UDP{Addr: addr, Timeout: o.timeout, Payload: send, Expect: expect, Wait: o.wait, Bind: bind}, nil
		}
		typ, err := healthcheck.ParseType(o.qtype)
		if err != nil {
			return nil, fmt.Errorf("-type: %w", err)
		}
		var rcodes []dnsmessage.RCode
		for _, s := range strings.Split(o.rcode, ",") {
			rc, err := healthcheck.ParseRCode(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("-rcode: %w", err)
			}
			rcodes = append(rcodes, rc)
		}
		return &healthcheck.DNS{Addr: addr, Timeout: o.timeout, Name: o.name, Type: typ, RCodes: rcodes, Bind: bind}, nil
	}
	// http, https
	url := target
	if _, err := netip.ParseAddrPort(target); err == nil {
		url = kind + "://" + target + "/"
	} else if !strings.HasPrefix(target, kind+"://") {
		return nil, fmt.Errorf("target %q: want IP:PORT or a %s:// URL", target, kind)
	}
	h := &healthcheck.HTTP{URL: url, Timeout: o.timeout, Digest: o.digest, Host: o.host, ServerName: o.sni,
		InsecureSkipVerify: o.insecure, Bind: bind}
	if o.status != "" {
		if h.Status, err = healthcheck.ParseStatusRanges(o.status); err != nil {
			return nil, fmt.Errorf("-status: %w", err)
		}
	}
	if o.body != "" {
		if h.Body, err = regexp.Compile(o.body); err != nil {
			return nil, fmt.Errorf("-body %q: %w", o.body, err)
		}
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func unescape(flagName, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`)
	if err != nil {
		return nil, fmt.Errorf("-%s %q: bad escape sequence", flagName, s)
	}
	return []byte(u), nil
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	kind, targets, err := parseArgs(args, &o, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintln(stderr, "lvscheck:", err)
		return 2
	}
	checkers := make([]healthcheck.Checker, len(targets))
	for i, t := range targets {
		if checkers[i], err = buildChecker(kind, t, &o); err != nil {
			fmt.Fprintln(stderr, "lvscheck:", err)
			return 2
		}
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
		if !o.quiet {
			fmt.Fprintf(stdout, "%s %s: %v (%v)\n", kind, targets[i], out.res, out.dur.Round(time.Microsecond))
		}
	}
	return code
}
