package nat

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func mustAddrs(s ...string) []netip.Addr {
	var as []netip.Addr
	for _, a := range s {
		as = append(as, netip.MustParseAddr(a))
	}
	return as
}

func TestValidateNormalizes(t *testing.T) {
	got, err := (&Config{
		Interface: "eth1",
		VIPs:      mustAddrs("::ffff:192.168.0.100", "fd00::100"),
		LocalIPv4: netip.MustParseAddr("::ffff:172.16.0.2"),
	}).validate()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Interface: "eth1",
		VIPs:      mustAddrs("192.168.0.100", "fd00::100"),
		LocalIPv4: netip.MustParseAddr("172.16.0.2"),
		Table:     DefaultTable,
		Chain:     DefaultChain,
	}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("validate (-want +got):\n%s", diff)
	}
}

func TestValidateRejects(t *testing.T) {
	ok := func() Config {
		return Config{Interface: "eth1", VIPs: mustAddrs("192.168.0.100")}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error naming the field and value
	}{
		{"empty interface", func(c *Config) { c.Interface = "" }, "Interface: empty"},
		{"long interface", func(c *Config) { c.Interface = "abcdefghijklmnop" }, `Interface "abcdefghijklmnop": longer than 15`},
		{"interface with slash", func(c *Config) { c.Interface = "eth/1" }, `Interface "eth/1"`},
		{"interface with space", func(c *Config) { c.Interface = "eth 1" }, `Interface "eth 1"`},
		{"interface dot", func(c *Config) { c.Interface = ".." }, `Interface ".."`},
		{"no VIPs", func(c *Config) { c.VIPs = nil }, "VIPs: at least one"},
		{"zero VIP", func(c *Config) { c.VIPs = []netip.Addr{{}} }, "VIP: invalid"},
		{"unspecified VIP", func(c *Config) { c.VIPs = mustAddrs("0.0.0.0") }, "VIP 0.0.0.0: unspecified"},
		{"multicast VIP", func(c *Config) { c.VIPs = mustAddrs("224.0.0.18") }, "VIP 224.0.0.18: multicast"},
		{"loopback VIP", func(c *Config) { c.VIPs = mustAddrs("127.0.0.1") }, "VIP 127.0.0.1: loopback"},
		{"broadcast VIP", func(c *Config) { c.VIPs = mustAddrs("255.255.255.255") }, "VIP 255.255.255.255: broadcast"},
		{"zoned VIP", func(c *Config) { c.VIPs = mustAddrs("fe80::1%eth1") }, "VIP fe80::1%eth1: zoned"},
		{"duplicate VIP", func(c *Config) { c.VIPs = mustAddrs("192.168.0.100", "::ffff:192.168.0.100") }, "VIP 192.168.0.100: listed twice"},
		{"IPv6 LocalIPv4", func(c *Config) { c.LocalIPv4 = netip.MustParseAddr("fd00::2") }, "LocalIPv4 fd00::2: not an IPv4"},
		{"LocalIPv4 is a VIP", func(c *Config) { c.LocalIPv4 = netip.MustParseAddr("192.168.0.100") }, "LocalIPv4 192.168.0.100: is also a VIP"},
		{"IPv4 LocalIPv6", func(c *Config) { c.LocalIPv6 = netip.MustParseAddr("172.16.0.2") }, "LocalIPv6 172.16.0.2: not an IPv6"},
		{"multicast LocalIPv6", func(c *Config) { c.LocalIPv6 = netip.MustParseAddr("ff02::1") }, "LocalIPv6 ff02::1: multicast"},
		{"long table", func(c *Config) { c.Table = strings.Repeat("t", 256) }, "Table \"tttttttttttttttttttt...\": longer than 255"},
		{"NUL in chain", func(c *Config) { c.Chain = "a\x00b" }, `Chain "a\x00b": contains a NUL`},
		{"negative netns", func(c *Config) { c.NetNS = -1 }, "NetNS -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.mutate(&c)
			_, err := c.validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("validate() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := (*Config)(nil).validate(); err == nil {
		t.Error("validate of a nil Config succeeded")
	}
	c := ok()
	if _, err := c.validate(); err != nil {
		t.Errorf("the valid base config fails: %v", err)
	}
}

func TestRuleString(t *testing.T) {
	tests := []struct {
		r    Rule
		want string
	}{
		{
			Rule{"eth1", netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("172.16.0.2")},
			`iifname "eth1" ip daddr 192.168.0.100 dnat to 172.16.0.2`,
		},
		{
			Rule{"eth1", netip.MustParseAddr("fd00::100"), netip.MustParseAddr("fd00::2")},
			`iifname "eth1" ip6 daddr fd00::100 dnat to fd00::2`,
		},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

func TestWantRules(t *testing.T) {
	c, err := (&Config{
		Interface: "eth1",
		VIPs:      mustAddrs("192.168.0.100", "fd00::100", "192.168.0.101"),
		LocalIPv4: netip.MustParseAddr("172.16.0.2"),
		LocalIPv6: netip.MustParseAddr("fd00::2"),
	}).validate()
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{"eth1", netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("172.16.0.2")},
		{"eth1", netip.MustParseAddr("fd00::100"), netip.MustParseAddr("fd00::2")},
		{"eth1", netip.MustParseAddr("192.168.0.101"), netip.MustParseAddr("172.16.0.2")},
	}
	if diff := cmp.Diff(want, wantRules(c), addrCmp); diff != "" {
		t.Errorf("wantRules (-want +got):\n%s", diff)
	}
}

func TestPlan(t *testing.T) {
	v1, v2, other := netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("192.168.0.101"), netip.MustParseAddr("10.9.9.9")
	to, stale := netip.MustParseAddr("172.16.0.2"), netip.MustParseAddr("172.16.0.9")
	r1 := Rule{"eth1", v1, to}
	r2 := Rule{"eth1", v2, to}
	vips := []netip.Addr{v1, v2}
	tests := []struct {
		name string
		want []Rule
		have []installed
		out  change
	}{
		{
			name: "backup on empty chain adds all",
			want: []Rule{r1, r2},
			out:  change{Add: []Rule{r1, r2}},
		},
		{
			name: "backup with everything present does nothing",
			want: []Rule{r1, r2},
			have: []installed{{2, r2, true}, {3, r1, true}},
		},
		{
			name: "backup deletes duplicates, keeping the first",
			want: []Rule{r1, r2},
			have: []installed{{2, r1, true}, {3, r2, true}, {4, r1, true}, {5, r1, true}},
			out:  change{Delete: []uint64{4, 5}},
		},
		{
			name: "backup replaces a rule with a stale target",
			want: []Rule{r1},
			have: []installed{{7, Rule{"eth1", v1, stale}, true}},
			out:  change{Delete: []uint64{7}, Add: []Rule{r1}},
		},
		{
			name: "backup replaces a rule on another interface",
			want: []Rule{r1},
			have: []installed{{7, Rule{"eth0", v1, to}, true}},
			out:  change{Delete: []uint64{7}, Add: []Rule{r1}},
		},
		{
			name: "rules for other VIPs and unknown rules are kept",
			want: []Rule{r1},
			have: []installed{{2, Rule{"eth1", other, to}, true}, {3, Rule{}, false}, {4, r1, false}},
			out:  change{Add: []Rule{r1}},
		},
		{
			name: "master deletes every rule of its VIPs",
			have: []installed{{2, r1, true}, {3, Rule{"eth1", other, to}, true}, {4, r2, true}, {5, Rule{"eth0", v1, stale}, true}},
			out:  change{Delete: []uint64{2, 4, 5}},
		},
		{
			name: "master on empty chain does nothing",
		},
		{
			name: "a wanted rule listed twice is added once",
			want: []Rule{r1, r1},
			out:  change{Add: []Rule{r1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plan(vips, tt.want, tt.have)
			if diff := cmp.Diff(tt.out, got, addrCmp); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if got.empty() != (len(tt.out.Delete) == 0 && len(tt.out.Add) == 0) {
				t.Errorf("empty() = %v for %+v", got.empty(), got)
			}
		})
	}
}
