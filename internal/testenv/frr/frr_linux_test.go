package frr

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// TestIntegrationRouterStarts starts the three daemons in a namespace and
// checks that bgpd runs the configured neighbors with BFD and that bfdd
// has their sessions.
func TestIntegrationRouterStarts(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "vtysh", "sysctl")
	if why := Available(); why != "" {
		netnstest.Unavailable(t, why)
	}
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	h := tp.Host("router")
	tp.Connect(h, "eth0", "lan", "10.0.0.1/24")
	r, err := Start(context.Background(), h.NS, Config{
		ASN: 65000, RouterID: netip.MustParseAddr("10.0.0.1"), NeighborASN: 65001, BFD: true,
		Neighbors: []netip.Addr{netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := r.VTY("show bgp summary")
	if err != nil {
		t.Fatalf("show bgp summary: %v\n%s\n%s", err, out, r.Output())
	}
	for _, want := range []string{"10.0.0.11", "10.0.0.12", "65001"} {
		if !strings.Contains(out, want) {
			t.Errorf("show bgp summary lacks %q:\n%s", want, out)
		}
	}
	out, err = r.VTY("show bfd peers brief")
	if err != nil || !strings.Contains(out, "10.0.0.11") {
		t.Errorf("show bfd peers brief: %v\n%s", err, out)
	}
	if hops, err := r.Paths(netip.MustParsePrefix("192.168.100.1/32")); err != nil || len(hops) != 0 {
		t.Errorf("Paths before any announcement: %v, %v", hops, err)
	}
}
