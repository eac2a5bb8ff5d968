package agent

import (
	"log/slog"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
)

type fakeVIPFilter struct {
	calls  [][]nat.FilteredVIP
	closed bool
}

func (f *fakeVIPFilter) SetVIPs(v []nat.FilteredVIP) error {
	f.calls = append(f.calls, append([]nat.FilteredVIP(nil), v...))
	return nil
}
func (f *fakeVIPFilter) SetVMACs([]nat.FilteredVMAC) error { return nil }
func (f *fakeVIPFilter) Close() error                      { f.closed = true; return nil }

// Only instances without accept mode are filtered; the set is the VIPs of
// those that are MASTER, changing only when one enters or leaves MASTER.
func TestVIPFilterFollowsMasters(t *testing.T) {
	src := `global_defs {
  vrrp_strict
  nftables lb
  nftables_priority 7
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress {
    10.0.0.2
    10.0.0.3
  }
}
vrrp_instance OWNER {
  interface eth0
  virtual_router_id 3
  priority 255
  virtual_ipaddress {
    10.0.0.4
  }
}
`
	cfg, err := config.ParseKeepalived("k.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	routers, err := vrrpConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := newVIPFilterSpec(cfg, routers)
	if spec == nil || spec.cfg.Table != "lb" || spec.cfg.Priority != 7 {
		t.Fatalf("spec %+v, want table lb at priority 7", spec)
	}
	if _, ok := spec.vips["OWNER"]; ok {
		t.Error("the address owner's VIPs are filtered; it always accepts")
	}
	fake := &fakeVIPFilter{}
	fw, err := openVIPFilter(spec, func(*nat.VIPFilterConfig) (VIPFilter, error) { return fake, nil }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	vip := func(s string) nat.FilteredVIP {
		return nat.FilteredVIP{Addr: netip.MustParseAddr(s), Interface: "eth0"}
	}
	// As the routers call them: before adding, after removing.
	for _, h := range []struct {
		instance string
		master   bool
	}{{"B", true}, {"OWNER", true}, {"A", true}, {"A", true}, {"B", false}, {"A", false}, {"A", false}} {
		fw.hold(h.instance, h.master)
	}
	want := [][]nat.FilteredVIP{
		{vip("10.0.0.2"), vip("10.0.0.3")},
		{vip("10.0.0.1"), vip("10.0.0.2"), vip("10.0.0.3")},
		{vip("10.0.0.1")},
		nil,
	}
	if d := cmp.Diff(want, fake.calls, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("SetVIPs calls (-want +got):\n%s", d)
	}
	fw.close()
	if !fake.closed {
		t.Error("close did not close the filter")
	}
	cfg.VRRP[0].NoAccept, cfg.VRRP[1].NoAccept = false, false
	if s := newVIPFilterSpec(cfg, routers); s != nil {
		t.Errorf("spec %+v without any instance lacking accept mode or a VMAC; want none", s)
	}
}
