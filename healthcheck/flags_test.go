package healthcheck

import (
	"flag"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/net/dns/dnsmessage"
)

// flagsChecker parses args (flags, then the kind and the target) on a new
// flag set with the check's flags and a program flag -q, and builds the
// checker.
func flagsChecker(t *testing.T, args ...string) (Checker, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := NewFlags(fs)
	fs.Bool("q", false, "the program's own flag")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 2 {
		t.Fatalf("args %q: want flags, a kind and a target", args)
	}
	return f.Checker(fs.Arg(0), fs.Arg(1))
}

func TestFlagsChecker(t *testing.T) {
	addr := netip.MustParseAddrPort("192.0.2.1:80")
	tests := []struct {
		args []string
		want Checker
	}{
		{[]string{"tcp", "192.0.2.1:80"}, &TCP{Addr: addr, Timeout: DefaultTimeout}},
		{[]string{"-q", "-timeout", "2s", "-send", `PING\r\n`, "-expect", "+PONG", "tcp", "192.0.2.1:80"},
			&TCP{Addr: addr, Timeout: 2 * time.Second, Send: []byte("PING\r\n"), Expect: []byte("+PONG")}},
		{[]string{"-source", "192.0.2.9", "-interface", "eth1", "-wait", "100ms", "-send", `\x00"`, "udp", "192.0.2.1:80"},
			&UDP{Addr: addr, Timeout: DefaultTimeout, Payload: []byte{0, '"'}, Wait: 100 * time.Millisecond,
				Bind: Bind{Source: netip.MustParseAddr("192.0.2.9"), Interface: "eth1"}}},
		{[]string{"dns", "192.0.2.1:80"}, &DNS{Addr: addr, Timeout: DefaultTimeout, Name: ".", Type: dnsmessage.TypeSOA,
			RCodes: []dnsmessage.RCode{dnsmessage.RCodeSuccess}}},
		{[]string{"-name", "www.lvskit.test", "-type", "aaaa", "-rcode", "NOERROR, NXDOMAIN", "dns", "[2001:db8::1]:53"},
			&DNS{Addr: netip.MustParseAddrPort("[2001:db8::1]:53"), Timeout: DefaultTimeout, Name: "www.lvskit.test", Type: dnsmessage.TypeAAAA,
				RCodes: []dnsmessage.RCode{dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError}}},
		{[]string{"http", "192.0.2.1:80"}, &HTTP{URL: "http://192.0.2.1:80/", Timeout: DefaultTimeout}},
		{[]string{"-status", "200,301-302", "-body", "^ok", "-host", "www", "http", "http://192.0.2.1/health"},
			&HTTP{URL: "http://192.0.2.1/health", Timeout: DefaultTimeout, Status: []StatusRange{{200, 200}, {301, 302}},
				Body: regexp.MustCompile("^ok"), Host: "www"}},
		{[]string{"-sni", "www.lvskit.test", "-insecure", "-digest", strings.Repeat("0", 32), "https", "192.0.2.1:443"},
			&HTTP{URL: "https://192.0.2.1:443/", Timeout: DefaultTimeout, ServerName: "www.lvskit.test", InsecureSkipVerify: true,
				Digest: strings.Repeat("0", 32)}},
	}
	regexps := cmp.Comparer(func(a, b *regexp.Regexp) bool {
		return (a == nil) == (b == nil) && (a == nil || a.String() == b.String())
	})
	for _, tt := range tests {
		got, err := flagsChecker(t, tt.args...)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, regexps, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestFlagsCheckerErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"icmp", "192.0.2.1:1"}, `kind "icmp": want tcp, udp, http, https or dns`},
		{[]string{"tcp", "192.0.2.1"}, `target "192.0.2.1": want IP:PORT`},
		{[]string{"dns", "192.0.2.1:0"}, `target "192.0.2.1:0": want IP:PORT`},
		{[]string{"-timeout", "0s", "tcp", "192.0.2.1:1"}, "-timeout 0s: want a positive duration"},
		{[]string{"-wait", "-1s", "udp", "192.0.2.1:1"}, "-wait -1s: want a positive duration"},
		{[]string{"-status", "200", "tcp", "192.0.2.1:1"}, "flag -status does not apply to tcp checks"},
		{[]string{"-insecure=false", "http", "192.0.2.1:1"}, "flag -insecure does not apply to http checks"},
		{[]string{"-send", "x", "dns", "192.0.2.1:53"}, "flag -send does not apply to dns checks"},
		{[]string{"-status", "2xx", "http", "192.0.2.1:80"}, `-status: healthcheck: status range "2xx"`},
		{[]string{"-body", "(", "http", "192.0.2.1:80"}, `-body "(": error parsing regexp`},
		{[]string{"-digest", "abc", "http", "192.0.2.1:80"}, `digest`},
		{[]string{"https", "http://192.0.2.1/"}, `target "http://192.0.2.1/": want IP:PORT or a https:// URL`},
		{[]string{"-source", "me", "udp", "192.0.2.1:53"}, `-source "me": want an IP address`},
		{[]string{"-expect", `\q`, "tcp", "192.0.2.1:1"}, `-expect "\\q": bad escape sequence`},
		{[]string{"-type", "WKS", "dns", "192.0.2.1:53"}, `-type: healthcheck: dns type "WKS"`},
		{[]string{"-rcode", "OK", "dns", "192.0.2.1:53"}, `-rcode: healthcheck: dns rcode "OK"`},
	}
	for _, tt := range tests {
		c, err := flagsChecker(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: checker %v, error %v; want an error containing %q", tt.args, c, err, tt.want)
		}
	}
}
