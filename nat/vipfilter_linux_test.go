package nat_test

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/nat"
)

// keepalivedRuleset is `nft list ruleset` in a namespace where keepalived
// 2.2.7 (vrrp_strict, nftables_counters) is MASTER of an IPv4 instance
// with VIPs 10.0.0.100 and 10.0.0.101 and of an IPv6 one with fe80::100 and
// fd00::100 on eth0, counters zeroed.
const keepalivedRuleset = `table ip keepalived {
	set vips {
		type ipv4_addr
		elements = { 10.0.0.100, 10.0.0.101 }
	}

	chain out {
		type filter hook output priority filter - 1; policy accept;
		ip saddr @vips counter packets 0 bytes 0 drop
	}

	chain in {
		type filter hook input priority filter - 1; policy accept;
		ip daddr @vips counter packets 0 bytes 0 drop
	}
}
table ip6 keepalived {
	set vips {
		type ipv6_addr
		elements = { fd00::100 }
	}

	set neighbor-discovery {
		type icmpv6_type
		flags constant
		elements = { nd-neighbor-solicit,
			     nd-neighbor-advert }
	}

	set vips_link_local {
		type ipv6_addr . iface_index
		elements = { fe80::100 . "eth0" }
	}

	chain out {
		type filter hook output priority filter - 1; policy accept;
		icmpv6 type @neighbor-discovery counter packets 0 bytes 0 accept
		ip6 saddr fe80::/10 counter packets 0 bytes 0 goto out_link_local
		ip6 saddr @vips counter packets 0 bytes 0 drop
	}

	chain in {
		type filter hook input priority filter - 1; policy accept;
		icmpv6 type @neighbor-discovery counter packets 0 bytes 0 accept
		ip6 daddr fe80::/10 counter packets 0 bytes 0 goto in_link_local
		ip6 daddr @vips counter packets 0 bytes 0 drop
	}

	chain in_link_local {
		ip6 daddr . iif @vips_link_local counter packets 0 bytes 0 drop
	}

	chain out_link_local {
		ip6 saddr . oif @vips_link_local counter packets 0 bytes 0 drop
	}
}
`

// A VIPFilter builds keepalived's tables, chains, sets and rules, so that
// nft lists exactly what it lists for keepalived; the sets follow
// SetVIPs, the tables stay while the filter is open, even empty, and Close
// deletes them.
func TestIntegrationVIPFilterListsAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "nft")
	ns := netnstest.New(t)
	ns.Run(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peth0")
	ns.Run(t, "ip", "link", "set", "eth0", "up")
	f, err := nat.OpenVIPFilter(&nat.VIPFilterConfig{Priority: nat.DefaultVIPFilterPriority, Counters: true, NetNS: int(ns.Handle())})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := ns.Run(t, "nft", "list", "ruleset"); got != "" {
		t.Fatalf("before any VIP: ruleset\n%s\nwant none (keepalived creates its tables with the first VIP)", got)
	}
	vip := func(s string) nat.FilteredVIP {
		return nat.FilteredVIP{Addr: netip.MustParseAddr(s), Interface: "eth0"}
	}
	if err := f.SetVIPs([]nat.FilteredVIP{vip("10.0.0.100")}); err != nil {
		t.Fatal(err)
	}
	if got := ns.Run(t, "nft", "list", "tables"); got != "table ip keepalived\n" {
		t.Errorf("after an IPv4 VIP: tables %q, want only table ip keepalived", got)
	}
	if err := f.SetVIPs([]nat.FilteredVIP{vip("10.0.0.100"), vip("10.0.0.101"), vip("fe80::100"), vip("fd00::100")}); err != nil {
		t.Fatal(err)
	}
	if got := ns.Run(t, "nft", "list", "ruleset"); got != keepalivedRuleset {
		t.Errorf("ruleset:\n%s\nwant keepalived's:\n%s", got, keepalivedRuleset)
	}
	// Leaving MASTER empties the sets; the tables stay.
	if err := f.SetVIPs(nil); err != nil {
		t.Fatal(err)
	}
	got := ns.Run(t, "nft", "list", "ruleset")
	if strings.Contains(got, "elements = { 10.") || strings.Contains(got, "fd00::100") || strings.Contains(got, "fe80::100") {
		t.Errorf("after SetVIPs(nil), VIPs still listed:\n%s", got)
	}
	if !strings.Contains(got, "table ip keepalived") || !strings.Contains(got, "table ip6 keepalived") {
		t.Errorf("after SetVIPs(nil), a table is gone:\n%s", got)
	}
	if err := f.SetVIPs([]nat.FilteredVIP{{Addr: netip.MustParseAddr("fe80::1")}}); err == nil {
		t.Error("a link-local VIP without its interface was accepted")
	}
	if err := f.SetVIPs([]nat.FilteredVIP{vip("fe80::1"), {Addr: netip.MustParseAddr("fe80::2"), Interface: "nosuch0"}}); err == nil || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("a VIP on a missing interface: err %v, want one naming it", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ns.Run(t, "nft", "list", "ruleset"); got != "" {
		t.Errorf("after Close: ruleset\n%s\nwant none", got)
	}
}

// keepalivedVMACRuleset is `nft list ruleset` where keepalived 2.2.7
// runs an IPv4 instance with use_vmac (vrrp.51) and an IPv6 one (vrrp.52)
// on eth0, with accept mode: only the rules that move the VMACs' reports.
const keepalivedVMACRuleset = `table ip keepalived {
	map vmac_map {
		type iface_index : iface_index
		elements = { "vrrp.51" : "eth0" }
	}

	chain out {
		type filter hook output priority filter - 1; policy accept;
		ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop
	}
}
table ip6 keepalived {
	map vmac_map {
		type iface_index : iface_index
		elements = { "vrrp.52" : "eth0" }
	}

	set vmac_set {
		type iface_index
		elements = { "vrrp.52" }
	}

	chain out {
		type filter hook output priority filter - 1; policy accept;
		icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop
		icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop
	}
}
`

var vmacData = regexp.MustCompile(`("vrrp\.\d+") : ("eth0"|\d+)`)

// hostOrder is how nft's netlink debug prints a host-order 32-bit value.
func hostOrder(dec string) uint32 {
	var n uint32
	fmt.Sscan(dec, &n)
	return n
}

// SetVMACs builds keepalived's rules for VMAC interfaces, listed as
// keepalived's; a VIP added later goes after them, in its own chain in.
func TestIntegrationVIPFilterVMACsAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "nft")
	ns := netnstest.New(t)
	ns.Run(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peth0")
	for _, v := range []string{"vrrp.51", "vrrp.52"} {
		ns.Run(t, "ip", "link", "add", v, "link", "eth0", "type", "macvlan", "mode", "private")
	}
	f, err := nat.OpenVIPFilter(&nat.VIPFilterConfig{Priority: nat.DefaultVIPFilterPriority, NetNS: int(ns.Handle())})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetVMACs([]nat.FilteredVMAC{{Interface: "vrrp.51", Base: "eth0"}, {Interface: "vrrp.52", Base: "eth0", IPv6: true}}); err != nil {
		t.Fatal(err)
	}
	// The map's data, eth0's index, lists as a number: the nftables
	// package cannot tell nft it is in host order (keepalived's
	// NFTNL_UDATA_SET_DATABYTEORDER); the kernel holds eth0's index.
	got := ns.Run(t, "nft", "list", "ruleset")
	norm := func(s string) string { return vmacData.ReplaceAllString(s, "$1 : BASE") }
	if norm(got) != norm(keepalivedVMACRuleset) {
		t.Errorf("ruleset:\n%s\nwant keepalived's:\n%s", got, keepalivedVMACRuleset)
	}
	// What the kernel holds is eth0's index in host order.
	el := ns.Run(t, "nft", "--debug=netlink", "list", "map", "ip", "keepalived", "vmac_map")
	idx := strings.TrimSpace(ns.Run(t, "cat", "/sys/class/net/eth0/ifindex"))
	if want := fmt.Sprintf(": %08x 0 [end]", hostOrder(idx)); !strings.Contains(el, want) {
		t.Errorf("vmac_map elements as the kernel holds them:\n%s\nwant data %q (eth0's index %s)", el, want, idx)
	}
	if err := f.SetVIPs([]nat.FilteredVIP{{Addr: netip.MustParseAddr("10.0.0.100")}}); err != nil {
		t.Fatal(err)
	}
	got = ns.Run(t, "nft", "list", "table", "ip", "keepalived")
	want := `		ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop
		ip saddr @vips drop
	}

	chain in {
		type filter hook input priority filter - 1; policy accept;
		ip daddr @vips drop
	}`
	if !strings.Contains(got, want) {
		t.Errorf("table ip keepalived with a VIP:\n%s\nwant it to contain:\n%s", got, want)
	}
	if err := f.SetVMACs(nil); err != nil {
		t.Fatal(err)
	}
	if got := ns.Run(t, "nft", "list", "ruleset"); strings.Contains(got, `"vrrp.5`) {
		t.Errorf("after SetVMACs(nil), VMACs still listed:\n%s", got)
	}
}
