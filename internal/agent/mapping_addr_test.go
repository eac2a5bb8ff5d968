package agent

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/vrrp"
)

var addrCmp = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })}

// vrrpAddrs maps src, which holds one instance, and returns its config.
func vrrpAddrs(t *testing.T, src string) (vrrp.Config, error) {
	t.Helper()
	cfg, err := config.ParseKeepalived("k.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	routers, err := vrrpConfigs(cfg)
	if err != nil {
		return vrrp.Config{}, err
	}
	for _, cs := range routers {
		return cs[0], nil
	}
	t.Fatal("no router")
	return vrrp.Config{}, nil
}

// Each address's dev, label, scope, brd, no_track, peer, flags, -nodad
// and preferred_lft reach vrrp as its
// AddrOptions; the excluded addresses (either family) are ExcludedVIPs;
// addresses on several interfaces are one instance.
func TestVRRPMappingAddrOptions(t *testing.T) {
	got, err := vrrpAddrs(t, `vrrp_instance A {
  interface eth1
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1/24
    10.0.0.2/24 dev eth2 label eth2:a scope link brd + no_track
    10.0.0.3/24 dev eth1 label eth1:b
    10.0.0.4 dev eth3
    10.0.0.5 no_track
    10.0.0.6 peer 10.0.0.7 home noprefixroute
  }
  virtual_ipaddress_excluded {
    10.0.1.1/24 brd 10.0.1.255
    2001:db8::1/64 dev eth2
    2001:db8::2 -nodad preferred_lft 60 mngtmpaddr autojoin
  }
}
`)
	if err != nil {
		t.Fatal(err)
	}
	if got.VIPInterface != "eth1" {
		t.Errorf("VIPInterface %q, want the instance's eth1", got.VIPInterface)
	}
	wantVIPs := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("10.0.0.2/24"), netip.MustParsePrefix("10.0.0.3/24"), netip.MustParsePrefix("10.0.0.4/32"), netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("10.0.0.6/32")}
	if d := cmp.Diff(wantVIPs, got.VIPs, addrCmp); d != "" {
		t.Errorf("VIPs (-want +got):\n%s", d)
	}
	wantEx := []netip.Prefix{netip.MustParsePrefix("10.0.1.1/24"), netip.MustParsePrefix("2001:db8::1/64"), netip.MustParsePrefix("2001:db8::2/128")}
	if d := cmp.Diff(wantEx, got.ExcludedVIPs, addrCmp); d != "" {
		t.Errorf("ExcludedVIPs (-want +got):\n%s", d)
	}
	a := netip.MustParseAddr
	wantOpts := []vrrp.AddrOptions{
		{Addr: a("10.0.0.2"), Interface: "eth2", NoTrack: true, Label: "eth2:a", Scope: 253, Broadcast: a("10.0.0.255")},
		{Addr: a("10.0.0.3"), Label: "eth1:b"},
		{Addr: a("10.0.0.4"), Interface: "eth3"},
		{Addr: a("10.0.0.6"), Peer: netip.MustParsePrefix("10.0.0.7/32"), Flags: config.IFAFHomeAddress | config.IFAFNoPrefixRoute},
		{Addr: a("10.0.1.1"), Broadcast: a("10.0.1.255")},
		{Addr: a("2001:db8::1"), Interface: "eth2"},
		{Addr: a("2001:db8::2"), Flags: config.IFAFManageTempAddr | config.IFAFMCAutojoin, DAD: true, PreferredLft: 60, PreferredLftSet: true},
	}
	if d := cmp.Diff(wantOpts, got.AddrOptions, addrCmp); d != "" {
		t.Errorf("AddrOptions (-want +got):\n%s", d)
	}
	wantAddrs := []vrrp.Address{
		{Prefix: netip.MustParsePrefix("10.0.0.1/24"), Interface: "eth1"},
		{Prefix: netip.MustParsePrefix("10.0.0.2/24"), Interface: "eth2", Label: "eth2:a", Scope: 253, Broadcast: a("10.0.0.255")},
		{Prefix: netip.MustParsePrefix("10.0.0.3/24"), Interface: "eth1", Label: "eth1:b"},
		{Prefix: netip.MustParsePrefix("10.0.0.4/32"), Interface: "eth3"},
		{Prefix: netip.MustParsePrefix("10.0.0.5/32"), Interface: "eth1"},
		{Prefix: netip.MustParsePrefix("10.0.0.6/32"), Interface: "eth1", Peer: netip.MustParsePrefix("10.0.0.7/32"), Flags: config.IFAFHomeAddress | config.IFAFNoPrefixRoute},
		{Prefix: netip.MustParsePrefix("10.0.1.1/24"), Interface: "eth1", Broadcast: a("10.0.1.255")},
		{Prefix: netip.MustParsePrefix("2001:db8::1/64"), Interface: "eth2"},
		{Prefix: netip.MustParsePrefix("2001:db8::2/128"), Interface: "eth1", Flags: config.IFAFManageTempAddr | config.IFAFMCAutojoin, DAD: true, PreferredLft: 60, PreferredLftSet: true},
	}
	if d := cmp.Diff(wantAddrs, got.Addresses(), addrCmp); d != "" {
		t.Errorf("Addresses (-want +got):\n%s", d)
	}
}

// With use_vmac, addresses go on the VMAC, or all of them on one other
// interface (tracked unless no_track); an instance whose addresses name
// another interface than that is refused with its position.
func TestVRRPMappingAddrOptionsVMAC(t *testing.T) {
	inst := func(lines string) string {
		return "vrrp_instance A {\n  interface eth1\n  virtual_router_id 1\n  use_vmac\n  virtual_ipaddress {\n" + lines + "  }\n}\n"
	}
	got, err := vrrpAddrs(t, inst("    10.0.0.1/24 dev eth1 label eth1:v\n    10.0.0.2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.VIPInterface != "vrrp.1" || got.Addresses()[0].Interface != "vrrp.1" || got.Addresses()[0].Label != "eth1:v" {
		t.Errorf("VIPInterface %q, addresses %+v; want all on the VMAC vrrp.1", got.VIPInterface, got.Addresses())
	}

	for _, tt := range []struct {
		lines string
		track []string
	}{
		{"    10.0.0.1/24 dev eth0\n    10.0.0.2 dev eth0 no_track\n", []string{"eth0"}},
		{"    10.0.0.1/24 dev eth0 no_track\n", nil},
	} {
		got, err = vrrpAddrs(t, inst(tt.lines))
		if err != nil {
			t.Fatal(err)
		}
		if got.VIPInterface != "eth0" || got.VMAC == nil || !cmp.Equal(got.TrackInterfaces, tt.track) {
			t.Errorf("%s: VIPInterface %q, VMAC %v, tracked %v; want eth0, a VMAC, %v", tt.lines, got.VIPInterface, got.VMAC, got.TrackInterfaces, tt.track)
		}
	}

	_, err = vrrpAddrs(t, inst("    10.0.0.1/24\n    10.0.0.2 dev eth2\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "k.conf:1: vrrp_instance A: ") || !strings.Contains(err.Error(), "AddrOptions.Interface eth2") || !strings.Contains(err.Error(), "VMAC") {
		t.Errorf("got %v, want the instance's position and vrrp's refusal of eth2 with a VMAC", err)
	}
}

// Without accept mode, the firewall drops the excluded addresses too, and
// each address on its own interface, as keepalived's nftables rules do.
func TestVIPFilterAddrInterfaces(t *testing.T) {
	cfg, err := config.ParseKeepalived("k.conf", []byte(`global_defs {
  vrrp_strict
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
    10.0.0.2 dev eth2
  }
  virtual_ipaddress_excluded {
    10.0.0.3 dev eth3
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	routers, err := vrrpConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := newVIPFilterSpec(cfg, routers)
	if spec == nil {
		t.Fatal("no firewall for an instance in strict mode")
	}
	want := []nat.FilteredVIP{
		{Addr: netip.MustParseAddr("10.0.0.1"), Interface: "eth0"},
		{Addr: netip.MustParseAddr("10.0.0.2"), Interface: "eth2"},
		{Addr: netip.MustParseAddr("10.0.0.3"), Interface: "eth3"},
	}
	if d := cmp.Diff(want, spec.vips["A"], addrCmp); d != "" {
		t.Errorf("filtered addresses (-want +got):\n%s", d)
	}
}
