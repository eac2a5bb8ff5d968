package scaleout

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
)

// TestNodeYAMLReadsAsTheTopologyNeeds reads each node's configuration as
// lbnode does and checks what the topology relies on: the VIP's virtual
// server with the scheduler asked for, the three real servers in the same
// order with inhibit_on_failure, sloppy_tcp only when asked, no warning for
// the consistent (mh) configuration, and a BGP session with BFD to the
// router announcing the VIP.
func TestNodeYAMLReadsAsTheTopologyNeeds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		algo   string
		sloppy bool
	}{{"mh with sloppy_tcp", "mh", true}, {"rr without", "rr", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.ParseYAML("lb2.yaml", []byte(NodeYAML("lb2", nodeAddr(2), tc.algo, tc.sloppy)))
			if err != nil {
				t.Fatal(err)
			}
			// The rr baseline draws the warnings about ECMP without mh
			// and sloppy_tcp; the consistent configuration draws none.
			if tc.algo == "mh" && len(c.Warnings) > 0 {
				t.Errorf("warnings: %v", c.Warnings)
			}
			if len(c.VirtualServers) != 1 {
				t.Fatalf("%d virtual servers, want 1", len(c.VirtualServers))
			}
			vs := c.VirtualServers[0]
			if vs.Addr != Service || vs.LBAlgo != tc.algo {
				t.Errorf("virtual server %v %s, want %v %s", vs.Addr, vs.LBAlgo, Service, tc.algo)
			}
			var rs []netip.AddrPort
			for _, r := range vs.RealServers {
				rs = append(rs, r.Addr)
				if !r.InhibitOnFailure {
					t.Errorf("real server %v without inhibit_on_failure", r.Addr)
				}
			}
			want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.101:80"), netip.MustParseAddrPort("10.0.0.102:80"), netip.MustParseAddrPort("10.0.0.103:80")}
			if diff := cmp.Diff(want, rs, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("real servers (-want +got):\n%s", diff)
			}
			sloppy := false
			for _, s := range c.Sysctls {
				if s.Key == "net.ipv4.vs.sloppy_tcp" && s.Value == "1" {
					sloppy = true
				}
			}
			if sloppy != tc.sloppy {
				t.Errorf("sloppy_tcp set: %v, want %v (sysctls %v)", sloppy, tc.sloppy, c.Sysctls)
			}
			b := c.BGP
			if b == nil {
				t.Fatal("no bgp section")
			}
			if b.ASN != 65001 || b.RouterID != nodeAddr(2) {
				t.Errorf("bgp asn %d router_id %v, want 65001 %v", b.ASN, b.RouterID, nodeAddr(2))
			}
			if len(b.Neighbors) != 1 || b.Neighbors[0].Address != RouterAddr || b.Neighbors[0].ASN != 65000 || !b.Neighbors[0].BFD {
				t.Errorf("bgp neighbors %+v, want the router %v in AS 65000 with BFD", b.Neighbors, RouterAddr)
			}
			if len(b.Announce) != 1 || b.Announce[0].Prefix != VIP {
				t.Errorf("bgp announce %+v, want %v", b.Announce, VIP)
			}
		})
	}
}

// TestColocatedYAMLReadsAsTheTopologyNeeds checks the colocated
// configuration: a fwmark 1 service with mh over the three nodes in order,
// sloppy_tcp, no warning, and the VIP announced for fwmark 1 with what the
// router sends to port 80 marked 1.
func TestColocatedYAMLReadsAsTheTopologyNeeds(t *testing.T) {
	c, err := config.ParseYAML("lb1.yaml", []byte(ColocatedYAML("lb1", nodeAddr(1))))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) > 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if len(c.VirtualServers) != 1 || c.VirtualServers[0].FWMark != 1 || c.VirtualServers[0].LBAlgo != "mh" {
		t.Fatalf("virtual servers %+v, want one fwmark 1 service with mh", c.VirtualServers)
	}
	var rs []string
	for _, r := range c.VirtualServers[0].RealServers {
		rs = append(rs, r.Addr.String())
	}
	if diff := cmp.Diff([]string{"10.0.0.11:80", "10.0.0.12:80", "10.0.0.13:80"}, rs); diff != "" {
		t.Errorf("real servers (-want +got):\n%s", diff)
	}
	a := c.BGP.Announce
	if len(a) != 1 || a[0].Prefix != VIP || !cmp.Equal(a[0].FWMarks, []uint32{1}) ||
		len(a[0].Marks) != 1 || a[0].Marks[0].Protocol != config.TCP || a[0].Marks[0].Port != 80 || a[0].Marks[0].FWMark != 1 {
		t.Errorf("bgp announce %+v, want %v for fwmark 1, marking TCP port 80 with 1", a, VIP)
	}
}
