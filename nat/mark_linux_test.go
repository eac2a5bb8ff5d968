package nat_test

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/nat"
)

// markBed is a node holding the VIP on its loopback, a router and a peer
// (another balancer forwarding by direct routing), both routing the VIP
// via the node. The node counts, in a table of the test's own, the
// connections to VIP:80 that arrive marked 1 and unmarked.
func markBed(t *testing.T) (node, router, peer *netnstest.NS, vip netip.Addr) {
	t.Helper()
	netnstest.RequirePrivileged(t, "ip", "nft", "sysctl")
	vip = netip.MustParseAddr("192.168.100.1")
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	node, router, peer = tp.Host("node"), tp.Host("router"), tp.Host("peer")
	tp.Connect(node, "eth0", "lan", "10.0.0.11/24")
	tp.Connect(router, "eth0", "lan", "10.0.0.1/24")
	tp.Connect(peer, "eth0", "lan", "10.0.0.12/24")
	node.Run(t, "ip", "addr", "add", vip.String()+"/32", "dev", "lo")
	for _, ns := range []*netnstest.NS{router, peer} {
		ns.Run(t, "ip", "route", "add", vip.String()+"/32", "via", "10.0.0.11")
	}
	node.Run(t, "nft", "add table inet lvskit_test; add chain inet lvskit_test in { type filter hook input priority 0 ; } ; "+
		"add rule inet lvskit_test in ip daddr 192.168.100.1 tcp dport 80 tcp flags syn meta mark 1 counter ; "+
		"add rule inet lvskit_test in ip daddr 192.168.100.1 tcp dport 80 tcp flags syn meta mark 0 counter")
	return node, router, peer, vip
}

var counterRe = regexp.MustCompile(`meta mark (0x[0-9a-f]+) counter packets (\d+)`)

// syns returns how many SYNs to VIP:80 the node saw marked 1 and unmarked.
func syns(t *testing.T, node *netnstest.NS) (marked, unmarked string) {
	t.Helper()
	for _, m := range counterRe.FindAllStringSubmatch(node.Run(t, "nft", "list", "table", "inet", "lvskit_test"), -1) {
		switch m[1] {
		case "0x00000001":
			marked = m[2]
		case "0x00000000":
			unmarked = m[2]
		}
	}
	return marked, unmarked
}

// connect makes one connection attempt from ns to VIP:80 (nothing
// listens: the node answers with a reset, which is all the test needs).
func connect(t *testing.T, ns *netnstest.NS, vip netip.Addr) {
	t.Helper()
	ns.Do(func() error {
		c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(vip, 80).String(), 2*time.Second)
		if err == nil {
			c.Close()
		}
		return nil
	})
}

func macOf(t *testing.T, ns *netnstest.NS) net.HardwareAddr {
	t.Helper()
	l, err := ns.Netlink(t).LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().HardwareAddr
}

func TestIntegrationMarkerMarksOnlyItsSources(t *testing.T) {
	node, router, peer, vip := markBed(t)
	// A table left by a killed process is replaced.
	node.Run(t, "nft", "add table inet lvskit_mark; add chain inet lvskit_mark stale")
	m, err := nat.OpenMarker(&nat.MarkConfig{NetNS: int(node.Handle()), Rules: []nat.MarkRule{
		{Dst: vip, Proto: "TCP", Port: 80, Mark: 1},
		{Dst: netip.MustParseAddr("fd00::1"), Proto: "udp", Mark: 7},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	listed := node.Run(t, "nft", "list", "table", "inet", "lvskit_mark")
	for _, want := range []string{
		"type filter hook prerouting priority mangle; policy accept;",
		"ether saddr @sources ip daddr 192.168.100.1 tcp dport 80 meta mark set 0x00000001",
		"ether saddr @sources ip6 daddr fd00::1 meta l4proto udp meta mark set 0x00000007",
	} {
		if !strings.Contains(listed, want) {
			t.Errorf("nft list table inet lvskit_mark lacks %q:\n%s", want, listed)
		}
	}
	if strings.Contains(listed, "stale") {
		t.Errorf("the stale table was not replaced:\n%s", listed)
	}

	rmac := macOf(t, router)
	if err := m.SetSources([]net.HardwareAddr{rmac}); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Sources(); err != nil || !slices.EqualFunc(got, []net.HardwareAddr{rmac}, func(a, b net.HardwareAddr) bool { return a.String() == b.String() }) {
		t.Errorf("Sources() = %v, %v; want [%s]", got, err, rmac)
	}
	connect(t, router, vip)
	connect(t, peer, vip)
	if marked, unmarked := syns(t, node); marked != "1" || unmarked != "1" {
		t.Errorf("with the router's MAC as the source: SYNs marked %s, unmarked %s; want 1 (the router's) and 1 (the peer's)", marked, unmarked)
	}

	if err := m.SetSources(nil); err != nil {
		t.Fatal(err)
	}
	connect(t, router, vip)
	if marked, unmarked := syns(t, node); marked != "1" || unmarked != "2" {
		t.Errorf("with no source: SYNs marked %s, unmarked %s; want 1 and 2 (the router's now unmarked)", marked, unmarked)
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if out := node.Run(t, "nft", "list", "tables"); strings.Contains(out, "lvskit_mark") {
		t.Errorf("Close left the table:\n%s", out)
	}
	if err := m.SetSources(nil); err == nil {
		t.Error("SetSources after Close: no error")
	}
}

func TestOpenMarkerRejectsBadInput(t *testing.T) {
	vip := netip.MustParseAddr("192.168.100.1")
	for _, c := range []struct {
		cfg  nat.MarkConfig
		want string
	}{
		{nat.MarkConfig{}, "MarkConfig.Rules: empty"},
		{nat.MarkConfig{Rules: []nat.MarkRule{{Proto: "tcp", Mark: 1}}}, "MarkConfig.Rules[0].Dst"},
		{nat.MarkConfig{Rules: []nat.MarkRule{{Dst: vip, Proto: "icmp", Mark: 1}}}, `MarkConfig.Rules[0].Proto "icmp"`},
		{nat.MarkConfig{Rules: []nat.MarkRule{{Dst: vip, Proto: "tcp", Port: 80}}}, "MarkConfig.Rules[0].Mark: 0"},
		{nat.MarkConfig{Table: strings.Repeat("x", 300), Rules: []nat.MarkRule{{Dst: vip, Proto: "tcp", Mark: 1}}}, "MarkConfig.Table"},
	} {
		_, err := nat.OpenMarker(&c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenMarker(%+v) = %v, want an error with %q", c.cfg, err, c.want)
		}
	}
	if got := fmt.Sprint(nat.MarkRule{Dst: vip, Proto: "tcp", Port: 80, Mark: 1}); got != "ether saddr @sources ip daddr 192.168.100.1 tcp dport 80 meta mark set 0x00000001" {
		t.Errorf("MarkRule.String() = %q", got)
	}
}
