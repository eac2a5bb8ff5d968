package healthcheck

import (
	"flag"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Flags are the options of a check named on a command line by a kind and a
// target, as lvscheck takes them. NewFlags defines them on a flag.FlagSet;
// once the set has parsed its arguments, Checker builds the check:
//
//	kind   target                     flags besides -timeout, -source, -interface
//	tcp    IP:PORT                    -send, -expect
//	udp    IP:PORT                    -send, -expect, -wait
//	http   IP:PORT or an http:// URL  -status, -body, -digest, -host
//	https  IP:PORT or an https:// URL -status, -body, -digest, -host, -sni, -insecure
//	dns    IP:PORT                    -name, -type, -rcode
//
// IP:PORT stands for the URL http://IP:PORT/ (https://IP:PORT/). -send and
// -expect take Go escapes such as \r\n. A flag given for a kind it does not
// apply to is an error. The errors of Checker name the flag or the
// argument at fault, for the user of the command line.
type Flags struct {
	fs *flag.FlagSet

	timeout, wait                                       time.Duration
	source, iface, send, expect                         string
	status, body, digest, host, sni, name, qtype, rcode string
	insecure                                            bool
}

// NewFlags defines the flags of a check on fs and returns them.
func NewFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.DurationVar(&f.timeout, "timeout", DefaultTimeout, "timeout of the whole check")
	fs.StringVar(&f.source, "source", "", "source `IP` of the check")
	fs.StringVar(&f.iface, "interface", "", "bind the check to interface `IF` (Linux)")
	fs.StringVar(&f.send, "send", "", "tcp, udp: bytes to send (Go escapes such as \\r\\n allowed)")
	fs.StringVar(&f.expect, "expect", "", "tcp, udp: the reply must start with these bytes (Go escapes allowed)")
	fs.DurationVar(&f.wait, "wait", 0, "udp without -expect: silence that counts as up (default: 9/10 of the timeout)")
	fs.StringVar(&f.status, "status", "", "http(s): accepted status `CODES`, e.g. 200-299,301 (default 200-299)")
	fs.StringVar(&f.body, "body", "", "http(s): `REGEXP` the body must match")
	fs.StringVar(&f.digest, "digest", "", "http(s): MD5 (32 hex digits) or SHA-256 (64) of the body")
	fs.StringVar(&f.host, "host", "", "http(s): Host header (virtual host)")
	fs.StringVar(&f.sni, "sni", "", "https: TLS server name (default: -host, else the URL host)")
	fs.BoolVar(&f.insecure, "insecure", false, "https: do not verify the certificate")
	fs.StringVar(&f.name, "name", ".", "dns: name to query")
	fs.StringVar(&f.qtype, "type", "SOA", "dns: query type")
	fs.StringVar(&f.rcode, "rcode", "NOERROR", "dns: accepted response codes, comma-separated")
	return f
}

// kindFlags lists the flags each kind takes besides the common ones.
var kindFlags = map[string][]string{
	"tcp":   {"send", "expect"},
	"udp":   {"send", "expect", "wait"},
	"http":  {"status", "body", "digest", "host"},
	"https": {"status", "body", "digest", "host", "sni", "insecure"},
	"dns":   {"name", "type", "rcode"},
}

// kindOnly reports whether name is one of the flags that apply to some
// kinds only; the set's other flags are the program's own.
func kindOnly(name string) bool {
	for _, names := range kindFlags {
		if slices.Contains(names, name) {
			return true
		}
	}
	return false
}

// Checker builds the check of kind (tcp, udp, http, https or dns) against
// target with the flags the set was given.
func (f *Flags) Checker(kind, target string) (Checker, error) {
	allowed, ok := kindFlags[kind]
	if !ok {
		return nil, fmt.Errorf("kind %q: want tcp, udp, http, https or dns", kind)
	}
	var bad string
	f.fs.Visit(func(fl *flag.Flag) {
		if bad == "" && kindOnly(fl.Name) && !slices.Contains(allowed, fl.Name) {
			bad = fl.Name
		}
	})
	if bad != "" {
		return nil, fmt.Errorf("flag -%s does not apply to %s checks", bad, kind)
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("-timeout %v: want a positive duration", f.timeout)
	}
	bind := Bind{Interface: f.iface}
	if f.source != "" {
		ip, err := netip.ParseAddr(f.source)
		if err != nil {
			return nil, fmt.Errorf("-source %q: want an IP address", f.source)
		}
		bind.Source = ip
	}
	if kind == "http" || kind == "https" {
		return f.http(kind, target, bind)
	}
	addr, err := netip.ParseAddrPort(target)
	if err != nil || addr.Port() == 0 {
		return nil, fmt.Errorf("target %q: want IP:PORT", target)
	}
	switch kind {
	case "tcp", "udp":
		send, err := unescape("send", f.send)
		if err != nil {
			return nil, err
		}
		expect, err := unescape("expect", f.expect)
		if err != nil {
			return nil, err
		}
		if kind == "tcp" {
			return &TCP{Addr: addr, Timeout: f.timeout, Send: send, Expect: expect, Bind: bind}, nil
		}
		if f.wait < 0 {
			return nil, fmt.Errorf("-wait %v: want a positive duration", f.wait)
		}
		return &UDP{Addr: addr, Timeout: f.timeout, Payload: send, Expect: expect, Wait: f.wait, Bind: bind}, nil
	}
	typ, err := ParseType(f.qtype)
	if err != nil {
		return nil, fmt.Errorf("-type: %w", err)
	}
	var rcodes []dnsmessage.RCode
	for s := range strings.SplitSeq(f.rcode, ",") {
		rc, err := ParseRCode(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("-rcode: %w", err)
		}
		rcodes = append(rcodes, rc)
	}
	return &DNS{Addr: addr, Timeout: f.timeout, Name: f.name, Type: typ, RCodes: rcodes, Bind: bind}, nil
}

// http builds an http or https check.
func (f *Flags) http(kind, target string, bind Bind) (Checker, error) {
	url := target
	if _, err := netip.ParseAddrPort(target); err == nil {
		url = kind + "://" + target + "/"
	} else if !strings.HasPrefix(target, kind+"://") {
		return nil, fmt.Errorf("target %q: want IP:PORT or a %s:// URL", target, kind)
	}
	h := &HTTP{URL: url, Timeout: f.timeout, Digest: f.digest, Host: f.host, ServerName: f.sni,
		InsecureSkipVerify: f.insecure, Bind: bind}
	var err error
	if f.status != "" {
		if h.Status, err = ParseStatusRanges(f.status); err != nil {
			return nil, fmt.Errorf("-status: %w", err)
		}
	}
	if f.body != "" {
		if h.Body, err = regexp.Compile(f.body); err != nil {
			return nil, fmt.Errorf("-body %q: %w", f.body, err)
		}
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// unescape reads the Go escapes of a -send or -expect value.
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
