package cluster

import (
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

func rootLinks(t *testing.T) []string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	sort.Strings(names)
	return names
}

// TestIntegrationTopologyServesDirectly builds the article's topology and
// reaches every web and DNS server directly from the client and from both
// balancers' LAN side.
func TestIntegrationTopologyServesDirectly(t *testing.T) {
	netnstest.RequirePrivileged(t)
	before := rootLinks(t)
	c, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	for _, w := range c.Web {
		body, err := HTTPGet(c.Client, w.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("GET %s: %v", w.Addr, err)
		}
		if want := "Hello from " + w.Name + " !"; body != want {
			t.Errorf("GET %s = %q, want %q", w.Addr, body, want)
		}
		if _, err := HTTPGet(c.Balancers[1].NS, w.Addr, 5*time.Second); err != nil {
			t.Errorf("GET %s from lb2: %v", w.Addr, err)
		}
	}
	for i, d := range c.DNS {
		got, err := DNSQuery(c.Client, d.Addr, "www.example.com.", uint16(i+1), 5*time.Second)
		if err != nil {
			t.Fatalf("query %s: %v", d.Addr, err)
		}
		if got != d.Addr.Addr() {
			t.Errorf("%s answered %s, want its own address", d.Name, got)
		}
	}
	// The service network joins the balancers only.
	if _, err := HTTPGet(c.Balancers[0].NS, netip.MustParseAddrPort("172.16.0.2:1"), time.Second); err == nil {
		t.Error("a closed port on lb2's service address answered")
	}
	if got := c.Web[0].Requests.Load(); got != 2 {
		t.Errorf("server-1 counted %d requests, want 2", got)
	}
	if diff := cmp.Diff(before, rootLinks(t)); diff != "" {
		t.Errorf("root namespace links changed (-before +after):\n%s", diff)
	}
}

// TestIntegrationWebDownUpAndAddedRealServer stops and restarts a web
// server, and adds the direct-routing real server: it answers on its own
// addresses but never ARP for the VIP it holds on its loopback.
func TestIntegrationWebDownUpAndAddedRealServer(t *testing.T) {
	netnstest.RequirePrivileged(t)
	c, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := c.Web[0]
	if err := c.WebDown(0); err != nil {
		t.Fatal(err)
	}
	if _, err := HTTPGet(c.Client, w.Addr, 2*time.Second); err == nil {
		t.Fatalf("%s answered while down", w.Name)
	}
	if err := c.WebUp(0); err != nil {
		t.Fatal(err)
	}
	if body, err := HTTPGet(c.Client, w.Addr, 5*time.Second); err != nil || body != "Hello from server-1 !" {
		t.Fatalf("%s after WebUp: %q, %v", w.Name, body, err)
	}

	rs, err := c.AddRealServer()
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []struct {
		b    *Balancer
		addr string
	}{{c.Balancers[0], RealServerAddr.String() + ":80"}, {nil, "192.168.0.104:80"}} {
		ns := c.Client
		if at.b != nil {
			ns = at.b.NS
		}
		body, err := HTTPGet(ns, netip.MustParseAddrPort(at.addr), 5*time.Second)
		if err != nil || body != "Hello from server-4 !" {
			t.Errorf("GET %s from %s: %q, %v", at.addr, ns.Name, body, err)
		}
	}
	if got := rs.Requests.Load(); got != 2 {
		t.Errorf("server-4 counted %d requests, want 2", got)
	}
	// Nobody else holds the VIP: if web4 answered ARP for it, this would
	// reach it.
	if body, err := HTTPGet(c.Client, netip.AddrPortFrom(VIP, 80), 2*time.Second); err == nil {
		t.Errorf("GET the VIP answered %q: web4 answers ARP for the VIP on its loopback", body)
	}
}
