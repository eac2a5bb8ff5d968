package config

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkerConf is a file with one real server holding body (a checker
// block); the block starts at line 5.
func checkerConf(body string) string {
	return "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  virtualhost vs.example\n  real_server 10.0.1.1 80 {\n" + body + "  }\n}\n"
}

func parseChecker(t *testing.T, body string) (Checker, []Warning) {
	t.Helper()
	c, err := parseKeepalived("k.conf", []byte(checkerConf(body)), mapFS{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	cks := c.VirtualServers[0].RealServers[0].Checkers
	if len(cks) != 1 {
		t.Fatalf("got %d checkers, want 1", len(cks))
	}
	return cks[0], c.Warnings
}

// The checker keywords keepalived 2.2.7 accepts are read into the
// checker, each as keepalived reads it.
func TestKeepalivedCheckerOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
		get  func(Checker) any
		want any
	}{
		{"fwmark", "TCP_CHECK {\n fwmark 4294967295\n}\n", func(c Checker) any { return c.FWMark }, uint32(4294967295)},
		{"fwmark in UDP_CHECK", "UDP_CHECK {\n fwmark 7\n}\n", func(c Checker) any { return c.FWMark }, uint32(7)},
		{"bind_port with bindto", "TCP_CHECK {\n bind_port 4000\n bindto 10.0.1.9\n}\n", func(c Checker) any { return c.BindPort }, uint16(4000)},
		{"http_protocol default", "HTTP_GET {\n url {\n path /\n }\n}\n", func(c Checker) any { return c.HTTPProtocol }, ""},
		{"http_protocol 1.1", "HTTP_GET {\n http_protocol 1.1\n url {\n path /\n }\n}\n", func(c Checker) any { return c.HTTPProtocol }, "1.1"},
		{"http_protocol 1.0c", "HTTP_GET {\n http_protocol 1.0c\n url {\n path /\n }\n}\n", func(c Checker) any { return c.HTTPProtocol }, "1.0C"},
		{"enable_sni", "SSL_GET {\n enable_sni\n url {\n path /\n }\n}\n", func(c Checker) any { return []any{c.EnableSNI, c.SNIHost} }, []any{true, "vs.example"}},
		{"enable_sni no", "SSL_GET {\n enable_sni no\n url {\n path /\n }\n}\n", func(c Checker) any { return c.EnableSNI }, false},
		{"sni from the checker", "SSL_GET {\n virtualhost ck.example\n enable_sni\n url {\n path /\n }\n}\n", func(c Checker) any { return c.SNIHost }, "ck.example"},
		{"fast_recovery", "HTTP_GET {\n fast_recovery yes\n url {\n path /\n }\n}\n", func(c Checker) any { return c.FastRecovery }, true},
		{"url virtualhost", "HTTP_GET {\n url {\n path /\n virtualhost u.example\n }\n}\n", func(c Checker) any { return c.URLs[0].VirtualHost }, "u.example"},
		{"udp defaults", "UDP_CHECK {\n}\n", func(c Checker) any { return []any{c.UDPPayload, c.UDPRequireReply, c.UDPMinReply, c.UDPMaxReply} }, []any{[]byte(nil), false, 0, 255}},
		{"udp payload", "UDP_CHECK {\n payload 01 0203 a\n}\n", func(c Checker) any { return c.UDPPayload }, []byte{1, 2, 3, 0xa}},
		{"udp require_reply", "UDP_CHECK {\n require_reply\n}\n", func(c Checker) any { return []any{c.UDPRequireReply, c.UDPReply} }, []any{true, []byte(nil)}},
		{"udp reply with wildcards", "UDP_CHECK {\n require_reply 4f x1 Xx\n min_reply_length 2\n max_reply_length 9\n}\n",
			func(c Checker) any { return []any{c.UDPReply, c.UDPReplyMask, c.UDPMinReply, c.UDPMaxReply} },
			[]any{[]byte{0x4f, 0x01, 0}, []byte{0, 0xf0, 0xff}, 2, 9}},
		{"misc user", "MISC_CHECK {\n misc_path /bin/true\n user nobody nogroup\n}\n", func(c Checker) any { return []any{c.MiscUser, c.MiscGroup, c.MiscUserPos.Line} }, []any{"nobody", "nogroup", 7}},
		{"regex", "HTTP_GET {\n url {\n path /\n regex \"ok [0-9]+$\"\n regex_options caseless\n regex_no_match\n regex_min_offset 2\n regex_max_offset 10\n }\n}\n",
			func(c Checker) any {
				u := c.URLs[0]
				return []any{u.Regex, u.RegexOptions, u.RegexNoMatch, u.RegexMinOffset, u.RegexMaxOffset, u.RegexBytes}
			},
			[]any{"ok [0-9]+$", []string{"caseless"}, true, 2, 11, true}},
		{"regex escapes", "HTTP_GET {\n url {\n path /\n regex \"\\\\d+\\.x\\x41\\t'q'\"\n }\n}\n", func(c Checker) any { return c.URLs[0].Regex }, "\\d+.xA\tq"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ck, _ := parseChecker(t, tt.body)
			if diff := cmp.Diff(tt.want, tt.get(ck)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// What keepalived 2.2.7 accepts and ignores (or reads otherwise) is
// warned about, naming the line.
func TestKeepalivedCheckerOptionWarnings(t *testing.T) {
	for _, tt := range []struct {
		name, body, want string
		check            func(Checker) bool
	}{
		{"bind_port without bindto", "TCP_CHECK {\n bind_port 4000\n}\n", "k.conf:6: bind_port: ignored without bindto", func(c Checker) bool { return c.BindPort == 0 }},
		{"fwmark in MISC_CHECK", "MISC_CHECK {\n misc_path /bin/true\n fwmark 1\n}\n", "k.conf:7: fwmark: ignored in MISC_CHECK, as keepalived 2.2.7 ignores this unknown keyword", func(c Checker) bool { return c.FWMark == 0 }},
		{"fwmark in PING_CHECK", "PING_CHECK {\n fwmark 1\n}\n", "k.conf:6: fwmark: accepted and ignored, as keepalived 2.2.7's PING_CHECK ignores it", func(Checker) bool { return true }},
		{"bindto in PING_CHECK", "PING_CHECK {\n bindto 10.9.9.9\n}\n", "k.conf:6: bindto: accepted and ignored, as keepalived 2.2.7's PING_CHECK ignores it", func(c Checker) bool { return !c.BindTo.IsValid() }},
		{"bind_if in PING_CHECK", "PING_CHECK {\n bind_if eth9\n}\n", "k.conf:6: bind_if: accepted and ignored, as keepalived 2.2.7's PING_CHECK ignores it", func(c Checker) bool { return c.BindIf == "" }},
		{"user in TCP_CHECK", "TCP_CHECK {\n user nobody\n}\n", "k.conf:6: user: ignored in TCP_CHECK", func(c Checker) bool { return c.MiscUser == "" }},
		{"regex options without regex", "HTTP_GET {\n url {\n path /\n regex_no_match\n }\n}\n", "k.conf:8: regex_no_match: regex parameters without a regex", func(c Checker) bool { return !c.URLs[0].RegexNoMatch }},
		{"regex offsets crossed", "HTTP_GET {\n url {\n path /\n regex x\n regex_min_offset 6\n regex_max_offset 5\n }\n}\n", "k.conf:6: url: regex_min_offset 6 is above regex_max_offset 5", func(c Checker) bool { return c.URLs[0].RegexMinOffset == 0 && c.URLs[0].RegexMaxOffset == 0 }},
		{"unknown regex option", "HTTP_GET {\n url {\n path /\n regex x\n regex_options caseless nonsense\n }\n}\n", `k.conf:9: regex_options: unknown regex option "nonsense" ignored`, func(c Checker) bool { return len(c.URLs[0].RegexOptions) == 1 }},
		{"regex_stack", "HTTP_GET {\n url {\n path /\n regex x\n regex_stack 100 2000\n }\n}\n", "k.conf:9: regex_stack: accepted and ignored", func(Checker) bool { return true }},
		{"udp lengths crossed", "UDP_CHECK {\n require_reply 00\n min_reply_length 9\n max_reply_length 3\n}\n", "k.conf:5: UDP_CHECK: min_reply_length 9 > max_reply_length 3: the check always fails", func(Checker) bool { return true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ck, warns := parseChecker(t, tt.body)
			found := false
			for _, w := range warns {
				found = found || strings.HasPrefix(w.String(), tt.want)
			}
			if !found {
				t.Errorf("warnings %v, want one starting %q", warns, tt.want)
			}
			if !tt.check(ck) {
				t.Errorf("checker %+v not as keepalived reads it", ck)
			}
		})
	}
}

// Bad values are errors naming file:line, the keyword and the value;
// patterns Go's regexp cannot run as PCRE2 does are refused, naming the
// pattern.
func TestKeepalivedCheckerOptionErrors(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"fwmark", "TCP_CHECK {\n fwmark -1\n}\n", `k.conf:6: fwmark: "-1" is not a firewall mark`},
		{"bind_port", "TCP_CHECK {\n bind_port 65536\n}\n", `k.conf:6: bind_port: "65536" is not a port`},
		{"http_protocol", "HTTP_GET {\n http_protocol 2\n url {\n path /\n }\n}\n", `k.conf:6: http_protocol: "2" is not 1.0, 1.0C or 1.1`},
		{"enable_sni", "SSL_GET {\n enable_sni maybe\n url {\n path /\n }\n}\n", `k.conf:6: enable_sni: "maybe" is not one of true`},
		{"payload", "UDP_CHECK {\n payload 0g\n}\n", `k.conf:6: payload: "0g": 'g' is not a hex digit`},
		{"payload wildcard", "UDP_CHECK {\n payload 0x\n}\n", `k.conf:6: payload: "0x": 'x' is not a hex digit`},
		{"require_reply", "UDP_CHECK {\n require_reply zz\n}\n", `k.conf:6: require_reply: "zz": 'z' is not a hex digit`},
		{"max_reply_length", "UDP_CHECK {\n max_reply_length 65536\n}\n", `k.conf:6: max_reply_length: "65536" is not a number 0-65535`},
		{"misc user words", "MISC_CHECK {\n misc_path /bin/true\n user a b c\n}\n", `k.conf:7: user: want USER [GROUP], got "a b c"`},
		{"regex words", "HTTP_GET {\n url {\n path /\n regex a b\n }\n}\n", "k.conf:8: regex: want one pattern"},
		{"lookahead", "HTTP_GET {\n url {\n path /\n regex \"a(?=b)\"\n }\n}\n", "k.conf:8: regex: regex \"a(?=b)\" cannot be run by Go's regexp as PCRE2 runs it: invalid or unsupported Perl syntax: `(?=`"},
		{"lookbehind", "HTTP_GET {\n url {\n path /\n regex \"(?<!x)y\"\n }\n}\n", "k.conf:8: regex: regex \"(?<!x)y\" cannot be run by Go's regexp as PCRE2 runs it: invalid named capture: `(?<!x)y`"},
		{"backreference", "HTTP_GET {\n url {\n path /\n regex \"(a)\\\\1\"\n }\n}\n", "k.conf:8: regex: regex \"(a)\\\\1\" cannot be run by Go's regexp as PCRE2 runs it: invalid escape sequence: `\\1`"},
		{"possessive", "HTTP_GET {\n url {\n path /\n regex \"a++\"\n }\n}\n", "k.conf:8: regex: regex \"a++\" cannot be run by Go's regexp as PCRE2 runs it: invalid nested repetition operator: `++`"},
		{"atomic group", "HTTP_GET {\n url {\n path /\n regex \"(?>a)\"\n }\n}\n", "k.conf:8: regex: regex \"(?>a)\" cannot be run by Go's regexp"},
		{"vertical space", "HTTP_GET {\n url {\n path /\n regex \"a\\\\v\"\n }\n}\n", "k.conf:8: regex: regex \"a\\\\v\": \\v (vertical white space in PCRE2) has no counterpart"},
		{"anchor after offset", "HTTP_GET {\n url {\n path /\n regex \"^ok\"\n regex_min_offset 3\n }\n}\n", "k.conf:8: regex: regex \"^ok\": anchors and word boundaries with regex_min_offset"},
		{"extended option", "HTTP_GET {\n url {\n path /\n regex \"a b\"\n regex_options extended\n }\n}\n", "k.conf:9: regex_options: regex option extended (blanks and comments in the pattern) has no counterpart in Go's regexp"},
		{"bad offset", "HTTP_GET {\n url {\n path /\n regex x\n regex_max_offset -2\n }\n}\n", `k.conf:9: regex_max_offset: "-2" is not an offset`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKeepalived("k.conf", []byte(checkerConf(tt.body)), mapFS{})
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("got %v, want errors", err)
			}
			if !strings.HasPrefix(es[0].Error(), tt.want) {
				t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), tt.want)
			}
		})
	}
}

// GoRegexp gives patterns that match what PCRE2 matches: $ also before a
// final newline (unless dollar_endonly), a byte per character without
// utf, and the options as flags.
func TestGoRegexp(t *testing.T) {
	for _, tt := range []struct {
		name    string
		pattern string
		opts    []string
		body    string
		want    bool
	}{
		{"dollar before final newline", "OK$", nil, "status OK\n", true},
		{"dollar not before other newlines", "OK$", nil, "OK\nmore\n", false},
		{"dollar_endonly", "OK$", []string{"dollar_endonly"}, "status OK\n", false},
		{"multiline", "^b$", []string{"multiline"}, "a\nb\nc", true},
		{"no multiline", "^b$", nil, "a\nb\nc", false},
		{"caseless", "hello", []string{"caseless"}, "HeLLo", true},
		{"dotall", "a.b", []string{"dotall"}, "a\nb", true},
		{"dot is a byte", "^a.b$", nil, "a\xc3\xa9b", false},
		{"two dots for two bytes", "^a..b$", nil, "a\xc3\xa9b", true},
		{"dot is a character with utf", "^a.b$", []string{"utf"}, "a\xc3\xa9b", true},
		{"non-ASCII literal", "caf\xc3\xa9", nil, "un caf\xc3\xa9", true},
		{"ungreedy", "<.+>", []string{"ungreedy"}, "<a><b>", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, bytes, err := GoRegexp(tt.pattern, tt.opts, false)
			if err != nil {
				t.Fatal(err)
			}
			body := tt.body
			if bytes {
				body = latin1(body)
			}
			if got := regexp.MustCompile(p).MatchString(body); got != tt.want {
				t.Errorf("%q (Go %q) on %q: match %v, want %v", tt.pattern, p, tt.body, got, tt.want)
			}
		})
	}
}

// A MISC_CHECK user is resolved as vrrp_script users are; an unknown one
// is an error naming its line.
func TestResolveMiscCheckUser(t *testing.T) {
	c := scriptConfig(Global{}, nil, Command{"/usr/bin/nc"})
	ck := &c.VirtualServers[0].RealServers[0].Checkers[0]
	ck.MiscUser, ck.MiscGroup, ck.MiscUserPos = "nobody", "adm", Pos{File: "k.conf", Line: 21}
	if err := resolveScripts(c, newFakeEnv()); err != nil {
		t.Fatal(err)
	}
	want := ScriptIdentity{User: "nobody", Group: "adm", UID: 65534, GID: 4}
	if diff := cmp.Diff(want, ck.MiscIdentity); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	ck.MiscUser = "nosuch"
	err := resolveScripts(c, newFakeEnv())
	if err == nil || !strings.Contains(err.Error(), `k.conf:21: virtual_server UDP 192.168.0.100:53: real_server 172.16.0.1:53: MISC_CHECK user: user "nosuch"`) {
		t.Errorf("got %v, want the user's line and name", err)
	}
}
