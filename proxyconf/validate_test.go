package proxyconf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fieldErrors flattens a Validate error into its *FieldErrors, with Reason
// cut to its first words so that the table pins the field, the value and
// the kind of problem.
func fieldErrors(t *testing.T, err error) []FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []FieldError
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *FieldError", e)
		}
		if !errors.Is(e, ErrInvalid) {
			t.Errorf("errors.Is(%v, ErrInvalid) = false", e)
		}
		if !strings.Contains(e.Error(), fe.Field) || !strings.Contains(e.Error(), fe.Value) {
			t.Errorf("message %q does not name field %s and value %s", e.Error(), fe.Field, fe.Value)
		}
		out = append(out, *fe)
	}
	return out
}

func TestValidate(t *testing.T) {
	ap := netip.MustParseAddrPort
	ip := netip.MustParseAddr
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []FieldError // Reason holds a substring of the real reason
	}{
		{"article is valid", func(c *Config) {}, nil},
		{"empty config is valid", func(c *Config) { *c = Config{} }, nil},
		{"empty upstream", func(c *Config) { c.Sites[0].Upstreams[0].Servers = nil },
			[]FieldError{{"Sites[0].Upstreams[0].Servers", "[]", "empty upstream"}}},
		{"invalid upstream address", func(c *Config) { c.Streams[0].Upstreams[0].Servers[1].Address = netip.AddrPort{} },
			[]FieldError{{"Streams[0].Upstreams[0].Servers[1].Address", `"invalid AddrPort"`, "want an IP address and port"}}},
		{"upstream port 0", func(c *Config) { c.Sites[0].Upstreams[0].Servers[2].Address = ap("192.168.0.103:0") },
			[]FieldError{{"Sites[0].Upstreams[0].Servers[2].Address", "192.168.0.103:0", "port must be 1-65535"}}},
		{"upstream unspecified address", func(c *Config) { c.Sites[0].Upstreams[0].Servers[0].Address = ap("0.0.0.0:80") },
			[]FieldError{{"Sites[0].Upstreams[0].Servers[0].Address", "0.0.0.0:80", "unicast"}}},
		{"upstream address with zone", func(c *Config) { c.Sites[0].Upstreams[0].Servers[0].Address = ap("[fe80::1%eth0]:80") },
			[]FieldError{{"Sites[0].Upstreams[0].Servers[0].Address", "[fe80::1%eth0]:80", "zones"}}},
		{"duplicate upstream server", func(c *Config) { c.Sites[0].Upstreams[0].Servers[2].Address = ap("192.168.0.101:80") },
			[]FieldError{{"Sites[0].Upstreams[0].Servers[2].Address", "192.168.0.101:80", "duplicate server"}}},
		{"bad upstream name", func(c *Config) {
			c.Sites[0].Upstreams[0].Name = "web servers"
			c.Sites[0].Servers[0].Locations[0].Upstream = "web servers"
		}, []FieldError{
			{"Sites[0].Upstreams[0].Name", `"web servers"`, "want letters"},
			{"Sites[0].Servers[0].Locations[0].Upstream", `"web servers"`, "no http upstream"},
		}},
		{"duplicate http upstream across sites", func(c *Config) {
			c.Sites = append(c.Sites, Site{Name: "more", Upstreams: []Upstream{{Name: "web_servers", Servers: []UpstreamServer{{Address: ap("10.0.0.1:80")}}}}})
		}, []FieldError{{"Sites[1].Upstreams[0].Name", `"web_servers"`, "duplicate upstream name (also Sites[0].Upstreams[0])"}}},
		{"http and stream upstreams are separate name spaces", func(c *Config) {
			c.Streams[0].Upstreams[0].Name = "web_servers"
			c.Streams[0].Servers[0].Upstream = "web_servers"
		}, nil},
		{"stream refers to an http upstream", func(c *Config) { c.Streams[0].Servers[0].Upstream = "web_servers" },
			[]FieldError{{"Streams[0].Servers[0].Upstream", `"web_servers"`, "no stream upstream of that name"}}},
		{"missing upstream", func(c *Config) { c.Sites[0].Servers[0].Locations[0].Upstream = "" },
			[]FieldError{{"Sites[0].Servers[0].Locations[0].Upstream", `""`, "want the name of an http upstream"}}},
		{"duplicate site file", func(c *Config) {
			c.Sites = append(c.Sites, Site{Name: "web_servers"})
		}, []FieldError{{"Sites[1].Name", `"web_servers"`, "duplicate name (also Sites[0].Name)"}}},
		{"site and stream may share a file name", func(c *Config) { c.Streams[0].Name = "web_servers" }, nil},
		{"bad file name", func(c *Config) { c.Streams[0].Name = "../dns" },
			[]FieldError{{"Streams[0].Name", `"../dns"`, "not starting with '.'"}}},
		{"listen port 0", func(c *Config) { c.Sites[0].Servers[0].Listen[1].Port = 0 },
			[]FieldError{{"Sites[0].Servers[0].Listen[1].Port", "0", "port must be 1-65535"}}},
		{"multicast listen", func(c *Config) { c.Streams[0].Servers[0].Listen[0].Addr = ip("224.0.0.18") },
			[]FieldError{{"Streams[0].Servers[0].Listen[0].Addr", "224.0.0.18", "unicast"}}},
		{"no listen", func(c *Config) { c.Sites[0].Servers[0].Listen = nil },
			[]FieldError{{"Sites[0].Servers[0].Listen", "[]", "at least one listen"}}},
		{"duplicate listen in one server", func(c *Config) { c.Sites[0].Servers[0].Listen[1].Addr = ip("172.16.0.1") },
			[]FieldError{{"Sites[0].Servers[0].Listen[1]", "172.16.0.1:80", "duplicate listen"}}},
		{"duplicate default server", func(c *Config) {
			s := c.Sites[0].Servers[0]
			s.Listen = []Listen{{Addr: ip("192.168.0.100"), Port: 80, DefaultServer: true}}
			c.Sites[0].Servers = append(c.Sites[0].Servers, s)
		}, []FieldError{{"Sites[0].Servers[1].Listen[0].DefaultServer", "192.168.0.100:80", "duplicate default server (also Sites[0].Servers[0].Listen[1])"}}},
		{"virtual hosts share a listen", func(c *Config) {
			s := c.Sites[0].Servers[0]
			s.Listen = []Listen{{Addr: ip("192.168.0.100"), Port: 80}}
			s.ServerNames = []string{"www.example.org"}
			c.Sites[0].Servers = append(c.Sites[0].Servers, s)
		}, nil},
		{"duplicate reuseport", func(c *Config) {
			c.Sites[0].Servers[0].Listen[0].ReusePort = true
			s := c.Sites[0].Servers[0]
			s.Listen = []Listen{{Addr: ip("172.16.0.1"), Port: 80, ReusePort: true}}
			c.Sites[0].Servers = append(c.Sites[0].Servers, s)
		}, []FieldError{{"Sites[0].Servers[1].Listen[0].ReusePort", "172.16.0.1:80", "duplicate listen options"}}},
		{"udp in http", func(c *Config) { c.Sites[0].Servers[0].Listen[0].UDP = true },
			[]FieldError{{"Sites[0].Servers[0].Listen[0].UDP", "true", "TCP only"}}},
		{"default_server in stream", func(c *Config) { c.Streams[0].Servers[0].Listen[0].DefaultServer = true },
			[]FieldError{{"Streams[0].Servers[0].Listen[0].DefaultServer", "true", "no default server"}}},
		{"duplicate stream listen", func(c *Config) {
			c.Streams[0].Servers = append(c.Streams[0].Servers, StreamServer{
				Listen: []Listen{{Addr: ip("192.168.0.100"), Port: 53, UDP: true}}, Upstream: "dns_servers"})
		}, []FieldError{{"Streams[0].Servers[1].Listen[0]", "192.168.0.100:53/udp", "duplicate stream listen (also Streams[0].Servers[0].Listen[1])"}}},
		{"tcp and udp on the same port", func(c *Config) {
			c.Streams[0].Servers = append(c.Streams[0].Servers, StreamServer{
				Listen: []Listen{{Addr: ip("192.168.0.100"), Port: 53}}, Upstream: "dns_servers"})
		}, nil},
		{"stream tcp listen on an http socket", func(c *Config) {
			c.Streams[0].Servers[0].Listen[0] = Listen{Addr: ip("172.16.0.1"), Port: 80}
		}, []FieldError{{"Streams[0].Servers[0].Listen[0]", "172.16.0.1:80", "also an http listen (Sites[0].Servers[0].Listen[0])"}}},
		{"proxy_responses without udp", func(c *Config) {
			c.Streams[0].Servers[0].Listen[0].UDP = false
			c.Streams[0].Servers[0].Listen[1].UDP = false
			c.Streams[0].Servers[0].Responses = new(1)
		}, []FieldError{{"Streams[0].Servers[0].Responses", "1", "needs a UDP listener"}}},
		{"negative proxy_responses", func(c *Config) { c.Streams[0].Servers[0].Responses = new(-1) },
			[]FieldError{{"Streams[0].Servers[0].Responses", "-1", "negative"}}},
		{"sub-millisecond timeout", func(c *Config) { c.Streams[0].Servers[0].Timeout = 1500 * time.Microsecond },
			[]FieldError{{"Streams[0].Servers[0].Timeout", "1.5ms", "whole milliseconds"}}},
		{"negative timeout", func(c *Config) { c.Sites[0].Servers[0].Locations[0].ReadTimeout = -time.Second },
			[]FieldError{{"Sites[0].Servers[0].Locations[0].ReadTimeout", "-1s", "negative"}}},
		{"fail_timeout in milliseconds", func(c *Config) { c.Sites[0].Upstreams[0].Servers[0].FailTimeout = 1500 * time.Millisecond },
			[]FieldError{{"Sites[0].Upstreams[0].Servers[0].FailTimeout", "1.5s", "whole seconds"}}},
		{"negative weight and max_fails", func(c *Config) {
			c.Sites[0].Upstreams[0].Servers[0].Weight = -1
			c.Sites[0].Upstreams[0].Servers[0].MaxFails = new(-2)
		}, []FieldError{
			{"Sites[0].Upstreams[0].Servers[0].Weight", "-1", "negative"},
			{"Sites[0].Upstreams[0].Servers[0].MaxFails", "-2", "negative"},
		}},
		{"backup with ip_hash", func(c *Config) {
			c.Sites[0].Upstreams[0].Method = IPHash
			c.Sites[0].Upstreams[0].Servers[2].Backup = true
		}, []FieldError{{"Sites[0].Upstreams[0].Servers[2].Backup", "true", "does not support backup"}}},
		{"ip_hash in stream", func(c *Config) { c.Streams[0].Upstreams[0].Method = IPHash },
			[]FieldError{{"Streams[0].Upstreams[0].Method", `"ip_hash"`, "http upstreams only"}}},
		{"unknown method", func(c *Config) { c.Sites[0].Upstreams[0].Method = "fastest" },
			[]FieldError{{"Sites[0].Upstreams[0].Method", `"fastest"`, "want"}}},
		{"keepalive in stream", func(c *Config) { c.Streams[0].Upstreams[0].Keepalive = 4 },
			[]FieldError{{"Streams[0].Upstreams[0].Keepalive", "4", "http upstreams only"}}},
		{"only backup servers", func(c *Config) {
			for i := range c.Streams[0].Upstreams[0].Servers {
				c.Streams[0].Upstreams[0].Servers[i].Backup = true
			}
		}, []FieldError{{"Streams[0].Upstreams[0].Servers", "(2 servers)", "neither backup nor down"}}},
		{"no location", func(c *Config) { c.Sites[0].Servers[0].Locations = nil },
			[]FieldError{{"Sites[0].Servers[0].Locations", "[]", "at least one location"}}},
		{"duplicate location", func(c *Config) {
			l := c.Sites[0].Servers[0].Locations[0]
			l.Match = PreferPrefix
			c.Sites[0].Servers[0].Locations = append(c.Sites[0].Servers[0].Locations, l)
		}, []FieldError{{"Sites[0].Servers[0].Locations[1].Path", `"/"`, "duplicate location (also Locations[0])"}}},
		{"prefix location without slash", func(c *Config) { c.Sites[0].Servers[0].Locations[0].Path = "api" },
			[]FieldError{{"Sites[0].Servers[0].Locations[0].Path", `"api"`, "starts with '/'"}}},
		{"bad location modifier", func(c *Config) { c.Sites[0].Servers[0].Locations[0].Match = "@" },
			[]FieldError{{"Sites[0].Servers[0].Locations[0].Match", `"@"`, "want"}}},
		{"bad header name and value", func(c *Config) {
			c.Sites[0].Servers[0].Locations[0].Headers = []Header{{Name: "X Bad", Value: "ok"}, {Name: "X-Good", Value: "a\r\nInjected: 1"}}
		}, []FieldError{
			{"Sites[0].Servers[0].Locations[0].Headers[0].Name", `"X Bad"`, "not an HTTP header name"},
			{"Sites[0].Servers[0].Locations[0].Headers[1].Value", `"a\r\nInjected: 1"`, "control characters"},
		}},
		{"bad redirect and http version", func(c *Config) {
			c.Sites[0].Servers[0].Locations[0].Redirect = "on"
			c.Sites[0].Servers[0].Locations[0].HTTPVersion = "2"
		}, []FieldError{
			{"Sites[0].Servers[0].Locations[0].Redirect", `"on"`, "want"},
			{"Sites[0].Servers[0].Locations[0].HTTPVersion", `"2"`, "want"},
		}},
		{"error log level without error log", func(c *Config) {
			c.Global.ErrorLog = ""
			c.Global.ErrorLogLevel = "info"
		}, []FieldError{{"Global.ErrorLogLevel", `"info"`, "needs Global.ErrorLog"}}},
		{"bad server name", func(c *Config) { c.Sites[0].Servers[0].ServerNames = []string{"a;b"} },
			[]FieldError{{"Sites[0].Servers[0].ServerNames[0]", `"a;b"`, "not a server name"}}},
		{"bad globals", func(c *Config) {
			c.Global.WorkerProcesses = -1
			c.Global.WorkerConnections = -5
			c.Global.User = "a b c"
			c.Global.PIDFile = "x\ny"
			c.Global.Modules = []string{""}
			c.Global.ErrorLogLevel = "loud"
		}, []FieldError{
			{"Global.Modules[0]", `""`, "must not be empty"},
			{"Global.User", `"a b c"`, "want a user name"},
			{"Global.WorkerProcesses", "-1", "negative"},
			{"Global.WorkerConnections", "-5", "negative"},
			{"Global.ErrorLogLevel", `"loud"`, "want debug"},
			{"Global.PIDFile", `"x\ny"`, "control characters"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := articleNode("172.16.0.1")
			tc.mutate(c)
			got := fieldErrors(t, c.Validate())
			// A reason that contains the expected substring is shown as
			// that substring, so that the diff only shows real mismatches.
			for i := range got {
				if i < len(tc.want) && strings.Contains(got[i].Reason, tc.want[i].Reason) {
					got[i].Reason = tc.want[i].Reason
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodeConfigDefaults(t *testing.T) {
	c := NodeConfig(Node{
		ServiceIP:   netip.MustParseAddr("172.16.0.2"),
		VIP:         netip.MustParseAddr("192.168.0.100"),
		WebBackends: []netip.AddrPort{netip.MustParseAddrPort("192.168.0.101:8080")},
		WebPort:     8000,
	})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Streams) != 0 {
		t.Errorf("Streams = %v, want none without DNS backends", c.Streams)
	}
	want := []Listen{
		{Addr: netip.MustParseAddr("172.16.0.2"), Port: 8000, DefaultServer: true},
		{Addr: netip.MustParseAddr("192.168.0.100"), Port: 8000, DefaultServer: true},
	}
	if diff := cmp.Diff(want, c.Sites[0].Servers[0].Listen, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Listen (-want +got):\n%s", diff)
	}
	dns := NodeConfig(Node{
		ServiceIP:    netip.MustParseAddr("172.16.0.2"),
		VIP:          netip.MustParseAddr("192.168.0.100"),
		DNSBackends:  []netip.AddrPort{netip.MustParseAddrPort("192.168.0.201:5353")},
		DNSPort:      5300,
		DNSTimeout:   3 * time.Second,
		DNSResponses: new(1),
	})
	if len(dns.Sites) != 0 || len(dns.Streams) != 1 {
		t.Fatalf("DNS-only node: %d sites, %d streams; want 0 and 1", len(dns.Sites), len(dns.Streams))
	}
	s := dns.Streams[0].Servers[0]
	if s.Timeout != 3*time.Second || s.Responses == nil || *s.Responses != 1 || s.Listen[0].Port != 5300 || !s.Listen[0].UDP || !s.Listen[1].ReusePort {
		t.Errorf("DNS server %+v: want timeout 3s, responses 1, UDP reuseport listeners on port 5300", s)
	}
	if err := NodeConfig(Node{VIP: netip.MustParseAddr("192.168.0.100"), DNSBackends: []netip.AddrPort{{}}}).Validate(); err == nil {
		t.Error("Validate accepted an invalid DNS backend")
	}
}
