package proxyconf

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the renderer")

// testGlobal keeps every file nginx writes under its prefix (-p), so that
// the golden configurations can be run by `nginx -t` anywhere.
func testGlobal(stream bool) Global {
	g := Global{
		PIDFile:   "nginx.pid",
		ErrorLog:  "error.log",
		AccessLog: "off",
		TempDir:   "tmp",
	}
	if stream {
		g.Modules = []string{DebianStreamModule}
	}
	return g
}

func articleNode(serviceIP string) *Config {
	c := NodeConfig(Node{
		ServiceIP: netip.MustParseAddr(serviceIP),
		VIP:       netip.MustParseAddr("192.168.0.100"),
		WebBackends: []netip.AddrPort{
			netip.MustParseAddrPort("192.168.0.101:80"),
			netip.MustParseAddrPort("192.168.0.102:80"),
			netip.MustParseAddrPort("192.168.0.103:80"),
		},
		DNSBackends: []netip.AddrPort{
			netip.MustParseAddrPort("192.168.0.201:53"),
			netip.MustParseAddrPort("192.168.0.202:53"),
		},
	})
	c.Global = testGlobal(true)
	return c
}

// goldenCases are the configurations with golden files: NAME.golden is the
// self-contained nginx.conf, NAME.split.golden the split layout.
func goldenCases() []struct {
	name string
	cfg  *Config
} {
	return []struct {
		name string
		cfg  *Config
	}{
		{"article_lb1", articleNode("172.16.0.1")},
		{"article_lb2", articleNode("172.16.0.2")},
		{"http_only", &Config{
			Global: testGlobal(false),
			Sites: []Site{{
				Name:      "app",
				Upstreams: []Upstream{{Name: "app", Servers: []UpstreamServer{{Address: netip.MustParseAddrPort("10.0.0.1:8080")}}}},
				Servers: []Server{{
					Listen:    []Listen{{Port: 8080}},
					Locations: []Location{{Path: "/", Upstream: "app"}},
				}},
			}},
		}},
		{"stream_only", &Config{
			Global: testGlobal(true),
			Streams: []Stream{{
				Name: "db",
				Upstreams: []Upstream{{Name: "galera", Method: LeastConn, Servers: []UpstreamServer{
					{Address: netip.MustParseAddrPort("10.0.1.1:3306"), MaxFails: new(2), FailTimeout: 5 * time.Second},
					{Address: netip.MustParseAddrPort("10.0.1.2:3306"), MaxFails: new(2), FailTimeout: 5 * time.Second},
					{Address: netip.MustParseAddrPort("10.0.1.3:3306"), Backup: true},
				}}},
				Servers: []StreamServer{{
					Listen:         []Listen{{Addr: netip.MustParseAddr("192.168.0.100"), Port: 3306}},
					Upstream:       "galera",
					ConnectTimeout: 1500 * time.Millisecond,
					Timeout:        time.Hour,
				}},
			}},
		}},
		{"everything", &Config{
			Global: Global{
				Modules:           []string{DebianStreamModule},
				User:              "nobody nogroup",
				WorkerProcesses:   2,
				WorkerConnections: 512,
				PIDFile:           "run/nginx.pid",
				ErrorLog:          "logs/error.log",
				ErrorLogLevel:     "notice",
				AccessLog:         "logs/access log.txt",
				TempDir:           "tmp",
			},
			Sites: []Site{
				{
					Name: "api",
					Upstreams: []Upstream{
						{Name: "api_v1", Method: IPHash, Keepalive: 16, Servers: []UpstreamServer{
							{Address: netip.MustParseAddrPort("10.0.0.1:8080"), Weight: 3},
							{Address: netip.MustParseAddrPort("[fd00::2]:8080"), MaxFails: new(0)},
							{Address: netip.MustParseAddrPort("10.0.0.3:8080"), Down: true},
						}},
						{Name: "static", Method: Random, Servers: []UpstreamServer{
							{Address: netip.MustParseAddrPort("10.0.0.9:80"), FailTimeout: 30 * time.Second},
						}},
					},
					Servers: []Server{{
						Listen: []Listen{
							{Addr: netip.MustParseAddr("192.168.0.100"), Port: 443, ReusePort: true},
							{Addr: netip.MustParseAddr("::1"), Port: 8443, DefaultServer: true},
						},
						ServerNames: []string{"api.example.org", "*.api.example.org"},
						Locations: []Location{
							{
								Path:        "/",
								Upstream:    "api_v1",
								HTTPS:       true,
								HTTPVersion: "1.1",
								Headers: []Header{
									{Name: "Connection", Value: ""},
									{Name: "X-Note", Value: `say "hi"; {ok} #1 \o/`},
								},
								ConnectTimeout: 2 * time.Second,
								SendTimeout:    30 * time.Second,
								ReadTimeout:    90500 * time.Millisecond,
								Redirect:       "off",
							},
							{Match: Exact, Path: "/health", Upstream: "static"},
							{Match: RegexpIgnoreCase, Path: `\.(png|jpe?g){1}$`, Upstream: "static"},
							{Match: PreferPrefix, Path: "/static/", Upstream: "static"},
						},
					}},
				},
				{
					Name: "second",
					Servers: []Server{{
						Listen:    []Listen{{Addr: netip.MustParseAddr("192.168.0.100"), Port: 443}},
						Locations: []Location{{Match: Regexp, Path: "^/v1/", Upstream: "api_v1"}},
					}},
				},
			},
			Streams: []Stream{
				{
					Name: "dns",
					Upstreams: []Upstream{{Name: "dns", Servers: []UpstreamServer{
						{Address: netip.MustParseAddrPort("192.168.0.201:53")},
						{Address: netip.MustParseAddrPort("192.168.0.202:53")},
					}}},
					Servers: []StreamServer{
						{
							Listen:    []Listen{{Addr: netip.MustParseAddr("192.168.0.100"), Port: 53, UDP: true, ReusePort: true}},
							Upstream:  "dns",
							Timeout:   3 * time.Second,
							Responses: new(1),
						},
						{
							Listen:   []Listen{{Addr: netip.MustParseAddr("192.168.0.100"), Port: 53}},
							Upstream: "dns",
						},
					},
				},
				{
					Name:      "ssh",
					Upstreams: []Upstream{{Name: "ssh", Servers: []UpstreamServer{{Address: netip.MustParseAddrPort("10.0.0.22:22")}}}},
					Servers:   []StreamServer{{Listen: []Listen{{Port: 2222}}, Upstream: "ssh"}},
				},
			},
		}},
	}
}

// joinFiles puts the files of the split layout into one golden file.
func joinFiles(files []File) []byte {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "==> %s <==\n", f.Path)
		b.Write(f.Data)
	}
	return b.Bytes()
}

// splitFiles is the inverse of joinFiles.
func splitFiles(t testing.TB, data []byte) []File {
	t.Helper()
	var files []File
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "==> "); ok {
			files = append(files, File{Path: strings.TrimSuffix(p, " <==\n")})
			continue
		}
		if len(files) == 0 {
			t.Fatalf("split golden file does not start with a file marker: %q", line)
		}
		files[len(files)-1].Data = append(files[len(files)-1].Data, line...)
	}
	return files
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			single, err := tc.cfg.RenderSingle()
			if err != nil {
				t.Fatalf("RenderSingle: %v", err)
			}
			checkGolden(t, tc.name+".golden", single)
			files, err := tc.cfg.Render()
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			checkGolden(t, tc.name+".split.golden", joinFiles(files))

			// Rendering again gives the same bytes.
			again, err := tc.cfg.RenderSingle()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(single, again) {
				t.Errorf("second RenderSingle differs:\n%s", cmp.Diff(string(single), string(again)))
			}
			files2, err := tc.cfg.Render()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(files, files2); diff != "" {
				t.Errorf("second Render differs (-first +second):\n%s", diff)
			}
		})
	}
}

// TestRenderSplitMatchesSingle checks that the split layout holds the same
// directives as the self-contained file: every non-comment line of each
// site and stream file appears, in order, in the single file.
func TestRenderSplitMatchesSingle(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			single, err := tc.cfg.RenderSingle()
			if err != nil {
				t.Fatal(err)
			}
			files, err := tc.cfg.Render()
			if err != nil {
				t.Fatal(err)
			}
			want := len(tc.cfg.Sites) + len(tc.cfg.Streams) + 1
			if len(files) != want {
				t.Fatalf("Render gave %d files, want %d", len(files), want)
			}
			for _, f := range files[1:] {
				var body []string
				for _, l := range strings.Split(string(f.Data), "\n") {
					if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
						body = append(body, l)
					}
				}
				if !containsInOrder(string(single), body) {
					t.Errorf("%s: lines not found in order in the single file:\n%s", f.Path, strings.Join(body, "\n"))
				}
			}
		})
	}
}

func containsInOrder(s string, lines []string) bool {
	for _, l := range lines {
		i := strings.Index(s, l)
		if i < 0 {
			return false
		}
		s = s[i+len(l):]
	}
	return true
}

func TestArg(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"$host", "$host"},
		{"/etc/nginx/x.conf", "/etc/nginx/x.conf"},
		{"", `""`},
		{"a b", `"a b"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"a;b", `"a;b"`},
		{"{", `"{"`},
		{"}", `"}"`},
		{"#x", `"#x"`},
		{"it's", `"it's"`},
		{"tab\there", "\"tab\there\""},
	}
	for _, tc := range tests {
		if got := arg(tc.in); got != tc.want {
			t.Errorf("arg(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Second, "1s"},
		{90 * time.Second, "90s"},
		{time.Hour, "3600s"},
		{1500 * time.Millisecond, "1500ms"},
		{time.Millisecond, "1ms"},
	}
	for _, tc := range tests {
		if got := duration(tc.in); got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRenderRefusesInvalid(t *testing.T) {
	c := articleNode("172.16.0.1")
	c.Sites[0].Servers[0].Locations[0].Upstream = "nope"
	if _, err := c.Render(); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Render: got %v, want an error naming \"nope\"", err)
	}
	if _, err := c.RenderSingle(); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("RenderSingle: got %v, want an error naming \"nope\"", err)
	}
}

// unquote reads one directive argument the way nginx's configuration reader
// does: a double-quoted string with \" \' \\ \t \r \n escapes, or a bare
// word ending at white space, ';', '{' or '}'. It reports whether the whole
// input was one argument.
func unquote(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	if s[0] != '"' {
		if strings.ContainsAny(s, " \t\r\n;{}\"'") || strings.HasPrefix(s, "#") {
			return "", false
		}
		return s, true
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i == len(s)-1
		case '\\':
			if i+1 == len(s) {
				return "", false
			}
			i++
			switch s[i] {
			case '"', '\'', '\\':
				b.WriteByte(s[i])
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// FuzzArg checks that nginx reads every rendered argument back as the
// original string, as one argument.
func FuzzArg(f *testing.F) {
	for _, s := range []string{"", "$host", "a b", `"`, `\`, `\"`, `\t`, "a;b", "{}", "#", "it's", "tab\there", `\.(png)$`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := unquote(arg(s))
		if !ok || got != s {
			t.Errorf("arg(%q) = %s, read back as %q (one argument: %v)", s, arg(s), got, ok)
		}
	})
}
