package nat

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The addresses a VIPFilter is given are sorted into keepalived's three
// sets, without duplicates; what no set can hold is refused, named.
func TestSplitVIPs(t *testing.T) {
	a := netip.MustParseAddr
	got, err := splitVIPs([]FilteredVIP{
		{Addr: a("10.0.0.1")}, {Addr: a("::ffff:10.0.0.1")}, {Addr: a("fd00::1"), Interface: "eth0"},
		{Addr: a("fe80::1"), Interface: "eth0"}, {Addr: a("fe80::1"), Interface: "eth1"}, {Addr: a("fe80::1"), Interface: "eth0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := filterSets{v4: []netip.Addr{a("10.0.0.1")}, v6: []netip.Addr{a("fd00::1")},
		ll: []FilteredVIP{{Addr: a("fe80::1"), Interface: "eth0"}, {Addr: a("fe80::1"), Interface: "eth1"}}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(filterSets{}), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		vip  FilteredVIP
		want string
	}{
		{FilteredVIP{}, "vips[0] invalid IP: not a unicast address"},
		{FilteredVIP{Addr: a("224.0.0.18")}, "vips[0] 224.0.0.18: not a unicast address"},
		{FilteredVIP{Addr: a("fe80::1")}, "Interface: empty name (vips[0] fe80::1 is link-local)"},
	} {
		if _, err := splitVIPs([]FilteredVIP{tc.vip}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.vip, err, tc.want)
		}
	}
	if _, err := (&VIPFilterConfig{Table: strings.Repeat("x", 300)}).validate(); err == nil {
		t.Error("a table name longer than nftables allows was accepted")
	}
	if c, err := (*VIPFilterConfig)(nil).validate(); err != nil || c.Table != DefaultVIPFilterTable || c.Priority != 0 {
		t.Errorf("nil config: %+v, %v; want table %s", c, err, DefaultVIPFilterTable)
	}
}
