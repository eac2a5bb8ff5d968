package proxyconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// testNginx returns an Nginx whose prefix is a fresh directory holding the
// directories the golden configurations use (tmp, run, logs).
func testNginx(t *testing.T, ns *netnstest.NS) *Nginx {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"tmp", "run", "logs", "conf"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &Nginx{
		Prefix:     dir + "/",
		ConfigFile: filepath.Join(dir, "conf", MainFile),
		ErrorLog:   filepath.Join(dir, "logs", "startup.log"),
		NetNS:      ns.Name,
	}
}

// TestIntegrationGoldenConfigsPassNginxTest runs `nginx -t` on every golden
// file, self-contained and split, inside a namespace where nginx may bind
// the addresses the configurations name.
func TestIntegrationGoldenConfigsPassNginxTest(t *testing.T) {
	netnstest.RequirePrivileged(t, "nginx", "sysctl")
	ns := netnstest.New(t)
	ns.Run(t, "sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1", "net.ipv6.ip_nonlocal_bind=1")
	ctx := context.Background()

	// The golden files load Debian's dynamic stream module.
	if mod, err := (&Nginx{}).StreamModule(ctx); err != nil || mod != DebianStreamModule {
		t.Fatalf("StreamModule = %q, %v; want %s (Debian's nginx with libnginx-mod-stream)", mod, err, DebianStreamModule)
	}

	golden, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(golden) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, g := range golden {
		t.Run(filepath.Base(g), func(t *testing.T) {
			data, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			files := []File{{Path: MainFile, Data: data}}
			if strings.HasSuffix(g, ".split.golden") {
				files = splitFiles(t, data)
			}
			n := testNginx(t, ns)
			if _, err := WriteDir(filepath.Dir(n.ConfigFile), files); err != nil {
				t.Fatal(err)
			}
			if err := n.Test(ctx); err != nil {
				t.Errorf("nginx -t refused %s: %v", g, err)
			}
		})
	}

	// The same check refuses a configuration nginx cannot load, with
	// nginx's message.
	n := testNginx(t, ns)
	c := articleNode("172.16.0.1")
	c.Sites[0].Servers[0].Locations[0].Headers = append(c.Sites[0].Servers[0].Locations[0].Headers, Header{Name: "X-Bad", Value: "$no_such_variable"})
	files, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDir(filepath.Dir(n.ConfigFile), files); err != nil {
		t.Fatal(err)
	}
	err = n.Test(ctx)
	if want := `unknown "no_such_variable" variable`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("nginx -t on a bad configuration = %v, want an error containing %q", err, want)
	}
}

// request is what a web backend saw.
type request struct {
	backend, host, realIP, forwardedFor, generation, quoted string
}

// quotedValue is a header value that needs nginx's quoting and escaping.
const quotedValue = `say "hi"; {ok} #1 \o/ it's $host`

// webBackend serves HTTP inside ns on addr, answering with its name and
// reporting each request on seen.
type webBackend struct {
	name string
	srv  *http.Server
}

func startWeb(t *testing.T, ns *netnstest.NS, name, addr string, seen chan<- request) *webBackend {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatalf("%s: listen %s: %v", name, addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- request{name, r.Host, r.Header.Get("X-Real-IP"), r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Config-Generation"), r.Header.Get("X-Quoted")}:
		default:
		}
		fmt.Fprintf(w, "Hello from %s !", name)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &webBackend{name: name, srv: srv}
}

// startDNS answers every A question inside ns on addr with the address
// answer, until the returned connection is closed.
func startDNS(t *testing.T, ns *netnstest.NS, addr string, answer netip.Addr) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	if err := ns.Do(func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }); err != nil {
		t.Fatalf("dns %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}, dnsmessage.AResource{A: answer.As4()})
			msg, err := b.Finish()
			if err != nil {
				continue
			}
			pc.WriteTo(msg, from)
		}
	}()
	return pc
}

// dnsQuery sends one A query from a fresh socket in ns (so that nginx sees
// a new UDP session) and returns the answer's address.
func dnsQuery(ns *netnstest.NS, server string, id uint16, timeout time.Duration) (netip.Addr, error) {
	var c net.Conn
	if err := ns.Do(func() (err error) { c, err = net.Dial("udp", server); return err }); err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	_ = b.StartQuestions()
	_ = b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("web.lvskit.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	q, err := b.Finish()
	if err != nil {
		return netip.Addr{}, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(q); err != nil {
		return netip.Addr{}, err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return netip.Addr{}, err
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil {
		return netip.Addr{}, err
	}
	if m.ID != id || len(m.Answers) != 1 {
		return netip.Addr{}, fmt.Errorf("unexpected answer %+v", m)
	}
	a, ok := m.Answers[0].Body.(*dnsmessage.AResource)
	if !ok {
		return netip.Addr{}, fmt.Errorf("answer is %T, want A", m.Answers[0].Body)
	}
	return netip.AddrFrom4(a.A), nil
}

// dnsQueryRetry is dnsQuery with the retries a resolver makes. They matter
// when a DNS backend is down: nginx (1.22) does not pass a datagram that a
// backend refused (ICMP port unreachable) on to the next backend; it answers
// the client with an empty datagram, or nothing when the kernel rate-limits
// the ICMP errors, and the client's next attempt goes to the next backend
// of the round robin.
func dnsQueryRetry(ns *netnstest.NS, server string, id uint16) (netip.Addr, int, error) {
	var err error
	for attempt := 1; attempt <= 4; attempt++ {
		var a netip.Addr
		if a, err = dnsQuery(ns, server, id, 3*time.Second); err == nil {
			return a, attempt, nil
		}
	}
	return netip.Addr{}, 4, err
}

// httpClient dials from inside ns.
func httpClient(ns *netnstest.NS) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := ns.Do(func() (err error) {
					var d net.Dialer
					c, err = d.DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
}

func get(c *http.Client, url, forwardedFor string) (string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return "", err
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		return b.String(), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b.String(), nil
}

// drain returns what the backends reported so far.
func drain(seen <-chan request) []request {
	var out []request
	for {
		select {
		case r := <-seen:
			out = append(out, r)
		default:
			return out
		}
	}
}

// proxyConfig is the article's node configuration with everything nginx
// writes kept under n's prefix, and a generation header to tell
// configurations apart.
func proxyConfig(n *Nginx, generation int, webs []netip.AddrPort) *Config {
	c := NodeConfig(Node{
		ServiceIP:   netip.MustParseAddr("172.16.0.1"),
		VIP:         netip.MustParseAddr("192.168.0.100"),
		WebBackends: webs,
		DNSBackends: []netip.AddrPort{
			netip.MustParseAddrPort("192.168.0.201:53"),
			netip.MustParseAddrPort("192.168.0.202:53"),
		},
		DNSTimeout: 2 * time.Second,
	})
	c.Global = Global{
		Modules:         []string{DebianStreamModule},
		WorkerProcesses: 2,
		PIDFile:         "run/nginx.pid",
		ErrorLog:        "logs/error.log",
		ErrorLogLevel:   "notice",
		AccessLog:       "off",
		TempDir:         "tmp",
	}
	loc := &c.Sites[0].Servers[0].Locations[0]
	loc.Headers = append(loc.Headers,
		Header{Name: "X-Config-Generation", Value: strconv.Itoa(generation)},
		Header{Name: "X-Quoted", Value: quotedValue})
	return c
}

func mustRender(t *testing.T, c *Config) []File {
	t.Helper()
	files, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestIntegrationProxy runs nginx with the article's node configuration in a
// balancer namespace, with three web servers and two DNS servers in their
// own namespaces and a client on both networks.
func TestIntegrationProxy(t *testing.T) {
	netnstest.RequirePrivileged(t, "nginx")
	if _, err := os.Stat(DebianStreamModule); err != nil {
		netnstest.Unavailable(t, "nginx stream module: "+err.Error()+" (libnginx-mod-stream)")
	}
	ctx := context.Background()

	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	tp.Bridge("svc")
	lb := tp.Host("lb")
	tp.Connect(lb, "eth0", "lan", "192.168.0.11/24", "192.168.0.100/24")
	tp.Connect(lb, "eth1", "svc", "172.16.0.1/24")
	client := tp.Host("client")
	tp.Connect(client, "eth0", "lan", "192.168.0.254/24")
	tp.Connect(client, "eth1", "svc", "172.16.0.9/24")

	seen := make(chan request, 1000)
	var webs []*webBackend
	var webAddrs []netip.AddrPort
	for i := 1; i <= 3; i++ {
		h := tp.Host(fmt.Sprintf("web%d", i))
		ip := fmt.Sprintf("192.168.0.10%d", i)
		tp.Connect(h, "eth0", "lan", ip+"/24")
		webs = append(webs, startWeb(t, h, fmt.Sprintf("web%d", i), ip+":80", seen))
		webAddrs = append(webAddrs, netip.MustParseAddrPort(ip+":80"))
	}
	var dns []net.PacketConn
	for i := 1; i <= 2; i++ {
		h := tp.Host(fmt.Sprintf("dns%d", i))
		ip := fmt.Sprintf("192.168.0.20%d", i)
		tp.Connect(h, "eth0", "lan", ip+"/24")
		dns = append(dns, startDNS(t, h, ip+":53", netip.MustParseAddr(ip)))
	}

	n := testNginx(t, lb)
	changed, err := n.Install(ctx, mustRender(t, proxyConfig(n, 1, webAddrs)))
	if err != nil || !changed {
		t.Fatalf("Install = %v, %v", changed, err)
	}
	proc := lb.Start(t, "nginx", n.Args("-g", "daemon off;")...)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.Prefix, "logs", "error.log"))
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	hc := httpClient(client)
	waitFor(t, 20*time.Second, "nginx to serve the VIP", func() error {
		_, err := get(hc, "http://192.168.0.100/", "")
		return err
	})
	drain(seen)

	t.Run("http reaches all three with the headers", func(t *testing.T) {
		for _, tc := range []struct {
			url, host, realIP string
		}{
			{"http://192.168.0.100/", "192.168.0.100", "192.168.0.254"},
			{"http://172.16.0.1/", "172.16.0.1", "172.16.0.9"},
		} {
			counts := map[string]int{}
			for i := range 12 {
				xff := ""
				if i%2 == 1 {
					xff = "203.0.113.7"
				}
				body, err := get(hc, tc.url, xff)
				if err != nil {
					t.Fatalf("request %d to %s: %v", i, tc.url, err)
				}
				r := next(t, seen)
				counts[r.backend]++
				if want := "Hello from " + r.backend + " !"; body != want {
					t.Errorf("body %q, want %q", body, want)
				}
				wantXFF := tc.realIP
				if xff != "" {
					wantXFF = xff + ", " + tc.realIP
				}
				// nginx expands the variable in the quoted value.
				quoted := strings.ReplaceAll(quotedValue, "$host", tc.host)
				want := request{r.backend, tc.host, tc.realIP, wantXFF, "1", quoted}
				if r != want {
					t.Errorf("%s request %d: backend saw %+v, want %+v", tc.url, i, r, want)
				}
			}
			for _, w := range webs {
				if counts[w.name] == 0 {
					t.Errorf("%s: %s got no request (counts %v)", tc.url, w.name, counts)
				}
			}
			t.Logf("%s: requests per backend %v", tc.url, counts)
		}
	})

	t.Run("dns reaches both", func(t *testing.T) {
		for _, server := range []string{"192.168.0.100:53", "172.16.0.1:53"} {
			counts := map[netip.Addr]int{}
			for i := range 10 {
				a, attempts, err := dnsQueryRetry(client, server, uint16(100+i))
				if err != nil {
					t.Fatalf("query %d to %s: %v", i, server, err)
				}
				if attempts > 1 {
					t.Logf("query %d to %s needed %d attempts", i, server, attempts)
				}
				counts[a]++
			}
			for _, want := range []string{"192.168.0.201", "192.168.0.202"} {
				if counts[netip.MustParseAddr(want)] == 0 {
					t.Errorf("%s: DNS backend %s answered nothing (counts %v)", server, want, counts)
				}
			}
			t.Logf("%s: answers per backend %v", server, counts)
		}
	})

	t.Run("a refused configuration keeps the old one serving", func(t *testing.T) {
		live := readTree(t, filepath.Dir(n.ConfigFile))
		pid := readPID(t, n)

		// nginx refuses what Validate cannot know about: an unknown
		// variable. Install returns nginx's message, writes nothing.
		bad := proxyConfig(n, 2, webAddrs)
		bad.Sites[0].Servers[0].Locations[0].Headers = append(bad.Sites[0].Servers[0].Locations[0].Headers, Header{Name: "X-Bad", Value: "$no_such_variable"})
		_, err := n.Apply(ctx, mustRender(t, bad))
		var ce *CommandError
		if !errors.As(err, &ce) || !strings.Contains(ce.Output, `unknown "no_such_variable" variable`) {
			t.Fatalf("Apply(bad) = %v, want nginx's message about the unknown variable", err)
		}
		t.Logf("refused: %v", err)
		if diff := cmp.Diff(live, readTree(t, filepath.Dir(n.ConfigFile))); diff != "" {
			t.Errorf("refused configuration changed the live files (-before +after):\n%s", diff)
		}

		// A broken file put in place by hand: Reload refuses it and does
		// not signal the master.
		site := filepath.Join(filepath.Dir(n.ConfigFile), "sites-enabled", "web_servers.conf")
		good, _ := os.ReadFile(site)
		os.WriteFile(site, []byte("upstream web_servers {\n"), 0o644)
		if err := n.Reload(ctx); !errors.As(err, &ce) || !strings.Contains(ce.Output, "unexpected end of file") {
			t.Errorf("Reload(broken) = %v, want nginx's message", err)
		}
		os.WriteFile(site, good, 0o644)

		if got := readPID(t, n); got != pid {
			t.Errorf("master pid %d, want %d", got, pid)
		}
		if strings.Contains(errorLog(t, n), "SIGHUP") {
			t.Errorf("the master got SIGHUP for a refused configuration:\n%s", errorLog(t, n))
		}
		drain(seen)
		for i := range 6 {
			if _, err := get(hc, "http://192.168.0.100/", ""); err != nil {
				t.Fatalf("request %d after the refused configuration: %v", i, err)
			}
			if r := next(t, seen); r.generation != "1" {
				t.Errorf("request %d served by generation %q, want 1", i, r.generation)
			}
		}
	})

	t.Run("a good configuration is reloaded", func(t *testing.T) {
		changed, err := n.Apply(ctx, mustRender(t, proxyConfig(n, 3, webAddrs[1:])))
		if err != nil || !changed {
			t.Fatalf("Apply(generation 3) = %v, %v", changed, err)
		}
		waitFor(t, 20*time.Second, "generation 3 to serve", func() error {
			drain(seen)
			if _, err := get(hc, "http://192.168.0.100/", ""); err != nil {
				return err
			}
			if r := next(t, seen); r.generation != "3" {
				return fmt.Errorf("served by generation %q", r.generation)
			}
			return nil
		})
		if !strings.Contains(errorLog(t, n), "SIGHUP") {
			t.Errorf("error log does not show the reload:\n%s", errorLog(t, n))
		}
		counts := map[string]int{}
		for i := range 6 {
			if _, err := get(hc, "http://192.168.0.100/", ""); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			counts[next(t, seen).backend]++
		}
		if counts["web1"] != 0 || counts["web2"] == 0 || counts["web3"] == 0 {
			t.Errorf("after dropping web1 the requests went to %v, want web2 and web3 only", counts)
		}
		// Back to all three for the failure tests.
		if _, err := n.Apply(ctx, mustRender(t, proxyConfig(n, 4, webAddrs))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "generation 4 to serve", func() error {
			drain(seen)
			if _, err := get(hc, "http://192.168.0.100/", ""); err != nil {
				return err
			}
			if r := next(t, seen); r.generation != "4" {
				return fmt.Errorf("served by generation %q", r.generation)
			}
			return nil
		})
	})

	t.Run("serves with one backend down", func(t *testing.T) {
		webs[0].srv.Close()
		dns[0].Close()
		drain(seen)
		counts := map[string]int{}
		for i := range 9 {
			if _, err := get(hc, "http://192.168.0.100/", ""); err != nil {
				t.Fatalf("request %d with web1 down: %v", i, err)
			}
			counts[next(t, seen).backend]++
		}
		if counts["web1"] != 0 || counts["web2"] == 0 || counts["web3"] == 0 {
			t.Errorf("with web1 down the requests went to %v, want web2 and web3", counts)
		}
		answers := map[netip.Addr]int{}
		retried := 0
		for i := range 10 {
			a, attempts, err := dnsQueryRetry(client, "192.168.0.100:53", uint16(200+i))
			if err != nil {
				t.Fatalf("query %d with dns1 down: %v", i, err)
			}
			retried += attempts - 1
			answers[a]++
		}
		if answers[netip.MustParseAddr("192.168.0.202")] != 10 {
			t.Errorf("with dns1 down the answers were %v, want all from 192.168.0.202", answers)
		}
		t.Logf("with one backend down: http %v, dns %v, client retries %d", counts, answers, retried)
	})

	if proc.Exited() {
		t.Errorf("nginx exited: %s", proc.Output())
	}
}

func readPID(t *testing.T, n *Nginx) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.Prefix, "run", "nginx.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	return pid
}

func errorLog(t *testing.T, n *Nginx) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.Prefix, "logs", "error.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls fn every 100ms until it returns nil, failing t after
// timeout with fn's last error.
func waitFor(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// next returns the next request a backend saw, failing t if none comes.
func next(t *testing.T, seen <-chan request) request {
	t.Helper()
	select {
	case r := <-seen:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached a backend")
		return request{}
	}
}
