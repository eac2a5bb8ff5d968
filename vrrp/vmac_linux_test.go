package vrrp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

// The VMAC tests run VRID 51 on eth1 (svc), the VIP on the VMAC.
var vmacVIP = netip.MustParsePrefix("172.16.0.100/24")

func vmacKeepalivedConf(prio int, xmitBase bool) string {
	xb := ""
	if xmitBase {
		xb = "\tvmac_xmit_base\n"
	}
	return fmt.Sprintf(`global_defs {
	router_id lvskit_test
}
vrrp_instance VI_1 {
	state BACKUP
	interface eth1
	virtual_router_id 51
	priority %d
	advert_int 1
	use_vmac
%s	virtual_ipaddress {
		172.16.0.100/24
	}
}
`, prio, xb)
}

func vmacConfig(prio uint8, xmitBase bool) Config {
	return Config{Interface: "eth1", VRID: 51, Priority: prio, VIPs: []netip.Prefix{vmacVIP}, VMAC: &VMAC{XmitBase: xmitBase}}
}

// vmacSettings are the settings keepalived changes for an IPv4 VMAC, with
// those it must leave alone next to them.
var vmacSettings = []string{
	"net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter",
	"net/ipv4/conf/lo/rp_filter", "net/ipv4/conf/eth0/rp_filter", "net/ipv4/conf/eth1/rp_filter",
	"net/ipv4/conf/eth1/arp_ignore", "net/ipv4/conf/eth1/arp_filter", "net/ipv4/conf/eth1/accept_local",
	"net/ipv4/conf/eth1/promote_secondaries", "net/ipv4/conf/eth0/arp_ignore",
	"net/ipv4/conf/vrrp.51/arp_ignore", "net/ipv4/conf/vrrp.51/arp_filter", "net/ipv4/conf/vrrp.51/accept_local",
	"net/ipv4/conf/vrrp.51/rp_filter", "net/ipv4/conf/vrrp.51/promote_secondaries",
	"net/ipv6/conf/vrrp.51/disable_ipv6", "net/ipv6/conf/eth1/disable_ipv6",
}

// sysctls reads the settings in ns, "-" where there is none.
func sysctls(t *testing.T, ns *netnstest.NS) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range vmacSettings {
		b, err := ns.Command("cat", "/proc/sys/"+s).Output()
		v := strings.TrimSpace(string(b))
		if err != nil {
			v = "-"
		}
		out[s] = v
	}
	return out
}

// vmacLinkInfo describes the VMAC in ns: kind, mode, MAC, parent, up,
// IPv6 address generation and addresses; "" when there is none.
func vmacLinkInfo(t *testing.T, ns *netnstest.NS, name string) string {
	t.Helper()
	nl := ns.Netlink(t)
	l, err := nl.LinkByName(name)
	if err != nil {
		return ""
	}
	a := l.Attrs()
	mode := "?"
	if mv, ok := l.(*netlink.Macvlan); ok && mv.Mode == netlink.MACVLAN_MODE_PRIVATE {
		mode = "private"
	}
	parent := "?"
	if p, err := nl.LinkByIndex(a.ParentIndex); err == nil {
		parent = p.Attrs().Name
	}
	var addrs []string
	as, _ := nl.AddrList(l, netlink.FAMILY_ALL)
	for _, x := range as {
		addrs = append(addrs, x.IPNet.String())
	}
	return fmt.Sprintf("%s mode=%s mac=%s parent=%s up=%v addrs=%v", l.Type(), mode, a.HardwareAddr, parent, a.Flags&net.FlagUp != 0, addrs)
}

// setSysctl writes one setting in ns.
func setSysctl(t *testing.T, ns *netnstest.NS, path, v string) {
	t.Helper()
	ns.Run(t, "sh", "-c", "echo "+v+" > /proc/sys/"+path)
}

// advertSources returns the Ethernet source of each VRRP advert with
// priority prio in a capture.
func advertSources(fs []frame, prio uint8) []string {
	var out []string
	for _, f := range fs {
		ps := vrrpPackets([]frame{f})
		if len(ps) == 1 && ps[0].prio == prio {
			out = append(out, net.HardwareAddr(f.data[6:12]).String())
		}
	}
	return out
}

// TestIntegrationVMACKeepalived runs keepalived 2.2.7 and lvskit with
// use_vmac on both sides, VRID 51, with and without vmac_xmit_base: the
// MASTER's adverts leave from the virtual MAC 00:00:5e:00:01:33 (with
// vmac_xmit_base from the base interface's MAC), the VIP is on vrrp.51,
// the gratuitous ARPs come from the virtual MAC, failover works both
// ways, the VMAC, its mode and the sysctls are what keepalived sets, and
// all is undone at stop.
func TestIntegrationVMACKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "tcpdump")
	vmac := VirtualMAC(51, false).String()
	for _, xmitBase := range []bool{false, true} {
		t.Run(fmt.Sprintf("xmit_base=%v", xmitBase), func(t *testing.T) {
			_, hs := articleHosts(t, 3)
			ka, lv, obs := hs[0], hs[1], hs[2]
			// rp_filter on, so that its clearing shows; eth1's arp_ignore
			// and arp_filter at their defaults (0).
			before := map[*netnstest.NS]map[string]string{}
			for _, h := range []*netnstest.NS{ka, lv} {
				setSysctl(t, h, "net/ipv4/conf/all/rp_filter", "1")
				before[h] = sysctls(t, h)
			}
			wantSrc := func(h *netnstest.NS) string {
				if xmitBase {
					return macOf(t, h, "eth1").String()
				}
				return vmac
			}

			capKA := startCapture(t, obs, "eth1")
			k := startKeepalived(t, ka, vmacKeepalivedConf(150, xmitBase))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			waitAddr(t, ka, "vrrp.51", vmacVIP, true)
			s := startSpeaker(t, lv, vmacConfig(100, xmitBase))
			s.waitState(t, StateBackup, 10*time.Second)
			s.holdState(t, StateBackup, 4*time.Second)
			if st := s.r.Stats().Instances[0]; st.AdvertsReceived < 3 || st.DroppedTotal() != 0 {
				t.Errorf("keepalived's adverts: %d accepted, drops %v", st.AdvertsReceived, st.Dropped)
			}
			if hasAddr(t, lv, "vrrp.51", vmacVIP) {
				t.Errorf("lvskit BACKUP holds the VIP")
			}
			// Both nodes have the same VMAC and the same settings.
			kInfo, lInfo := vmacLinkInfo(t, ka, "vrrp.51"), vmacLinkInfo(t, lv, "vrrp.51")
			t.Logf("keepalived's VMAC: %s", kInfo)
			t.Logf("lvskit's VMAC:     %s", lInfo)
			if want := "macvlan mode=private mac=" + vmac + " parent=eth1 up=true"; !strings.HasPrefix(lInfo, want) {
				t.Errorf("lvskit's VMAC %q, want %q", lInfo, want)
			}
			strip := func(s string) string { s, _, _ = strings.Cut(s, " addrs="); return s }
			if strip(kInfo) != strip(lInfo) {
				t.Errorf("VMACs differ:\nkeepalived %s\nlvskit     %s", kInfo, lInfo)
			}
			kSys, lSys := sysctls(t, ka), sysctls(t, lv)
			if diff := cmp.Diff(kSys, lSys); diff != "" {
				t.Errorf("sysctls while running (-keepalived +lvskit):\n%s", diff)
			}
			t.Logf("sysctls while running: %v", lSys)

			// keepalived stops: lvskit takes over on vrrp.51.
			k.p.Signal(syscall.SIGTERM)
			if err := k.p.Wait(15 * time.Second); err != nil {
				t.Logf("keepalived exit: %v", err)
			}
			s.waitState(t, StateMaster, 20*time.Second)
			waitAddr(t, lv, "vrrp.51", vmacVIP, true)
			time.Sleep(1500 * time.Millisecond)
			fs := capKA.stop(t)
			if got := advertSources(fs, 150); len(got) == 0 || got[0] != wantSrc(ka) {
				t.Errorf("keepalived's adverts from %v, want %s", got, wantSrc(ka))
			}
			if got := advertSources(fs, 100); len(got) == 0 || got[0] != wantSrc(lv) {
				t.Errorf("lvskit's adverts from %v, want %s", got, wantSrc(lv))
			}
			gs := garps(fs, vmacVIP.Addr())
			if len(gs) == 0 {
				t.Errorf("no gratuitous ARP for %v", vmacVIP.Addr())
			}
			for _, g := range gs {
				if src, sha := net.HardwareAddr(g.data[6:12]).String(), net.HardwareAddr(g.data[22:28]).String(); src != vmac || sha != vmac {
					t.Errorf("gratuitous ARP from %s, sender %s; want %s", src, sha, vmac)
					break
				}
			}
			t.Logf("adverts: keepalived from %v, lvskit from %v; %d gratuitous ARPs", advertSources(fs, 150)[:1], advertSources(fs, 100)[:1], len(gs))
			// keepalived restores rp_filter, but leaves the base
			// interface's arp_ignore and arp_filter at 1: it writes back
			// the values its netlink monitor read after setting them.
			// lvskit restores those too (checked at its stop).
			kAfter := sysctls(t, ka)
			t.Logf("keepalived left eth1 arp_ignore=%s arp_filter=%s (before: %s, %s)",
				kAfter["net/ipv4/conf/eth1/arp_ignore"], kAfter["net/ipv4/conf/eth1/arp_filter"],
				before[ka]["net/ipv4/conf/eth1/arp_ignore"], before[ka]["net/ipv4/conf/eth1/arp_filter"])
			for _, s := range []string{"net/ipv4/conf/eth1/arp_ignore", "net/ipv4/conf/eth1/arp_filter"} {
				kAfter[s] = before[ka][s]
			}
			if diff := cmp.Diff(before[ka], kAfter); diff != "" {
				t.Errorf("keepalived left sysctls (-before +after):\n%s", diff)
			}
			if vmacLinkInfo(t, ka, "vrrp.51") != "" {
				t.Errorf("keepalived left its VMAC")
			}

			// keepalived comes back with the higher priority and takes
			// over again.
			k = startKeepalived(t, ka, vmacKeepalivedConf(150, xmitBase))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			s.waitState(t, StateBackup, 10*time.Second)
			waitAddr(t, lv, "vrrp.51", vmacVIP, false)
			waitAddr(t, ka, "vrrp.51", vmacVIP, true)

			// lvskit stops: its VMAC and settings are gone.
			s.stop(t)
			if info := vmacLinkInfo(t, lv, "vrrp.51"); info != "" {
				t.Errorf("VMAC still there after stop: %s", info)
			}
			if diff := cmp.Diff(before[lv], sysctls(t, lv)); diff != "" {
				t.Errorf("sysctls after stop (-before +after):\n%s", diff)
			}
		})
	}
}

// TestIntegrationVMACStale starts over VMACs left by an earlier run, as
// keepalived does: one with the name and the virtual MAC is used as it is
// (same interface index), one with the name and another MAC is replaced;
// one under another name with the virtual MAC is used under its name. All
// are removed at stop.
func TestIntegrationVMACStale(t *testing.T) {
	netnstest.RequirePrivileged(t)
	tests := []struct {
		name     string
		stale    string
		mac      string
		mode     netlink.MacvlanMode
		wantName string
		sameIdx  bool
	}{
		{"same name and MAC", "vrrp.51", "00:00:5e:00:01:33", netlink.MACVLAN_MODE_PRIVATE, "vrrp.51", true},
		{"same name, other MAC", "vrrp.51", "02:00:00:00:00:33", netlink.MACVLAN_MODE_PRIVATE, "vrrp.51", false},
		{"same name, bridge mode", "vrrp.51", "00:00:5e:00:01:33", netlink.MACVLAN_MODE_BRIDGE, "vrrp.51", false},
		{"other name, same MAC", "old51", "00:00:5e:00:01:33", netlink.MACVLAN_MODE_PRIVATE, "old51", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hs := articleHosts(t, 1)
			h := hs[0]
			nl := h.Netlink(t)
			eth1, err := nl.LinkByName("eth1")
			if err != nil {
				t.Fatal(err)
			}
			hw, _ := net.ParseMAC(tt.mac)
			if err := nl.LinkAdd(&netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: tt.stale, ParentIndex: eth1.Attrs().Index, HardwareAddr: hw}, Mode: tt.mode}); err != nil {
				t.Fatal(err)
			}
			old, err := nl.LinkByName(tt.stale)
			if err != nil {
				t.Fatal(err)
			}
			s := startSpeaker(t, h, vmacConfig(100, false))
			s.waitState(t, StateMaster, 20*time.Second)
			waitAddr(t, h, tt.wantName, vmacVIP, true)
			l, err := nl.LinkByName(tt.wantName)
			if err != nil {
				t.Fatal(err)
			}
			if same := l.Attrs().Index == old.Attrs().Index; same != tt.sameIdx {
				t.Errorf("interface index %d, stale one %d: same=%v, want %v", l.Attrs().Index, old.Attrs().Index, same, tt.sameIdx)
			}
			if info := vmacLinkInfo(t, h, tt.wantName); !strings.HasPrefix(info, "macvlan mode=private mac=00:00:5e:00:01:33 parent=eth1 up=true") {
				t.Errorf("VMAC %s", info)
			}
			// A reload with the configuration asking for vrrp.51 is no
			// change of VMAC.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.r.Reconfigure(ctx, []Config{vmacConfig(120, false)}); err != nil {
				t.Errorf("Reconfigure: %v", err)
			}
			s.stop(t)
			for _, n := range []string{tt.wantName, tt.stale} {
				if info := vmacLinkInfo(t, h, n); info != "" {
					t.Errorf("%s still there after stop: %s", n, info)
				}
			}
		})
	}
}

// An IPv6 instance's VMAC has the virtual MAC 00:00:5e:00:02:VRID and the
// base interface's link-local address, which its adverts come from.
func TestIntegrationVMACIPv6(t *testing.T) {
	netnstest.RequirePrivileged(t)
	_, hs := articleHosts(t, 1)
	h := hs[0]
	nl := h.Netlink(t)
	var ll netip.Addr
	netnstest.WaitFor(t, "eth1's link-local address", 10*time.Second, func() bool {
		l, err := nl.LinkByName("eth1")
		if err != nil {
			return false
		}
		as, _ := nl.AddrList(l, netlink.FAMILY_V6)
		for _, a := range as {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() && a.Flags&0x40 == 0 { // not tentative
				ll = ip
				return true
			}
		}
		return false
	})
	vip := netip.MustParsePrefix("fd00::100/64")
	s := startSpeaker(t, h, Config{Interface: "eth1", VRID: 51, VIPs: []netip.Prefix{vip}, VMAC: &VMAC{}})
	s.waitState(t, StateMaster, 20*time.Second)
	info := vmacLinkInfo(t, h, "vrrp.51")
	t.Logf("VMAC: %s", info)
	if !strings.HasPrefix(info, "macvlan mode=private mac=00:00:5e:00:02:33 parent=eth1 up=true") ||
		!strings.Contains(info, ll.String()+"/64") || !strings.Contains(info, "fd00::100/64") {
		t.Errorf("VMAC %s, want the IPv6 virtual MAC, %v/64 and the VIP", info, ll)
	}
	if st := s.r.Stats().Instances[0]; st.SendErrors != 0 {
		t.Errorf("%d send errors", st.SendErrors)
	}
	if v := strings.TrimSpace(h.Run(t, "cat", "/proc/sys/net/ipv6/conf/vrrp.51/disable_ipv6")); v != "0" {
		t.Errorf("disable_ipv6 %s on an IPv6 VMAC", v)
	}
	s.stop(t)
	if info := vmacLinkInfo(t, h, "vrrp.51"); info != "" {
		t.Errorf("VMAC still there after stop: %s", info)
	}
}
