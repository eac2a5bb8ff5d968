package vrrp

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"golang.org/x/sys/unix"
)

// TestIntegrationAddressOptions runs a MASTER whose addresses have
// keepalived's virtual_ipaddress options on a real kernel: each is added
// to its interface with its label, scope and broadcast address (and none
// unless given, as keepalived adds them), the excluded ones too, of
// either family; the one on another interface is announced there; all
// go at the stop.
func TestIntegrationAddressOptions(t *testing.T) {
	netnstest.RequirePrivileged(t, "tcpdump", "ip")
	tp, hs := articleHosts(t, 1)
	tp.Bridge("ext")
	h := hs[0]
	tp.Connect(h, "eth2", "ext", "10.2.0.1/24")

	onEth2 := netip.MustParsePrefix("10.2.0.100/24")
	scoped := netip.MustParsePrefix("192.168.0.101/32")
	ipv6 := netip.MustParsePrefix("fd00::101/64")
	ipv6Host := netip.MustParsePrefix("fd00::102/128")
	onLo := netip.MustParsePrefix("10.9.9.9/32")
	ptp := netip.MustParsePrefix("10.3.0.1/32")
	dad := netip.MustParsePrefix("fd00::103/64")
	lft := netip.MustParsePrefix("fd00::104/128")
	c := articleConfig(150)
	c.VIPs = append(c.VIPs, onEth2)
	c.ExcludedVIPs = []netip.Prefix{scoped, ipv6, ipv6Host, onLo, ptp, dad, lft}
	c.AddrOptions = []AddrOptions{
		{Addr: onEth2.Addr(), Interface: "eth2", Label: "eth2:vip", Broadcast: netip.MustParseAddr("10.2.0.255")},
		{Addr: scoped.Addr(), Scope: 253},
		{Addr: onLo.Addr(), Interface: "lo", Scope: 254},
		{Addr: ptp.Addr(), Interface: "eth2", Peer: netip.MustParsePrefix("10.3.0.2/24"), Flags: AddrFlagNoPrefixRoute},
		{Addr: dad.Addr(), DAD: true, Flags: AddrFlagHome},
		{Addr: lft.Addr(), PreferredLft: 600, PreferredLftSet: true},
	}
	capture := startCapture(t, h, "eth2")
	s := startSpeaker(t, h, c)
	s.waitState(t, StateMaster, 20*time.Second)
	waitAddr(t, h, "eth2", onEth2, true)

	want := map[string][]string{
		"eth0": {
			`inet 192\.168\.0\.100/24 scope global secondary eth0\\`, // no brd
			`inet 192\.168\.0\.101/32 scope link eth0\\`,
			`inet6 fd00::101/64 scope global nodad \\`,
			`inet6 fd00::102/128 scope global nodad deprecated \\ .* preferred_lft 0sec`,
			`inet6 fd00::103/64 scope global (tentative )?home `,
			`inet6 fd00::104/128 scope global nodad \\ .* preferred_lft 600sec`,
		},
		"eth2": {`inet 10\.2\.0\.100/24 brd 10\.2\.0\.255 scope global secondary eth2:vip\\`,
			`inet 10\.3\.0\.1 peer 10\.3\.0\.2/24 scope global noprefixroute eth2\\`},
		"lo": {`inet 10\.9\.9\.9/32 scope host lo\\`},
	}
	for ifname, res := range want {
		out := h.Run(t, "ip", "-o", "addr", "show", "dev", ifname)
		for _, re := range res {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("%s: no address matching %q in:\n%s", ifname, re, out)
			}
		}
	}
	st := s.r.Stats().Instances[0]
	if st.GARPSent == 0 {
		t.Errorf("no gratuitous ARP counted: %+v", st)
	}
	s.stop(t)
	if got := garps(capture.stop(t), onEth2.Addr()); len(got) == 0 {
		t.Errorf("no gratuitous ARP for %v on eth2", onEth2.Addr())
	}
	for _, ifname := range []string{"eth0", "eth2", "lo"} {
		out := h.Run(t, "ip", "-o", "addr", "show", "dev", ifname)
		for _, p := range []netip.Prefix{articleVIP, onEth2, scoped, ipv6, ipv6Host, onLo, dad, lft} {
			if strings.Contains(out, " "+p.String()+" ") {
				t.Errorf("stopped: %s still has %v:\n%s", ifname, p, out)
			}
		}
		if strings.Contains(out, " 10.3.0.1 peer") {
			t.Errorf("stopped: %s still has 10.3.0.1 peer 10.3.0.2:\n%s", ifname, out)
		}
	}
}

// TestIntegrationPromoteSecondaries checks that an instance with
// PromoteSecondaries sets the interface's promote_secondaries while it
// runs and clears it at the stop, and leaves one that was set already as
// it was, as keepalived does.
func TestIntegrationPromoteSecondaries(t *testing.T) {
	netnstest.RequirePrivileged(t, "sysctl")
	_, hs := articleHosts(t, 1)
	h := hs[0]
	const key = "net.ipv4.conf.eth1.promote_secondaries"
	get := func() string { return strings.TrimSpace(h.Run(t, "sysctl", "-n", key)) }
	for _, before := range []string{"0", "1"} {
		h.Run(t, "sysctl", "-qw", key+"="+before)
		c := articleConfig(150)
		c.PromoteSecondaries = true
		s := startSpeaker(t, h, c)
		s.waitState(t, StateMaster, 20*time.Second)
		if got := get(); got != "1" {
			t.Errorf("was %s: running: %s = %s, want 1", before, key, got)
		}
		s.stop(t)
		if got := get(); got != before {
			t.Errorf("was %s: stopped: %s = %s, want %s again", before, key, got, before)
		}
	}
}

// TestIntegrationAddressDeletedComesBack deletes a MASTER's VIP with ip on
// a real kernel: the instance resigns and, alone, is MASTER again after
// Skew_Time with the VIP added again; keepalived, alone in a topology of
// its own, does the same.
func TestIntegrationAddressDeletedComesBack(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "keepalived")
	_, khs := articleHosts(t, 1)
	k := startKeepalived(t, khs[0], keepalivedConf(150, ""))
	k.waitLog(t, "", "(VI_1) Entering MASTER STATE", 20*time.Second)
	waitAddr(t, khs[0], "eth0", articleVIP, true)
	khs[0].Run(t, "ip", "addr", "del", articleVIP.String(), "dev", "eth0")
	k.waitLog(t, "removed from eth0", "(VI_1) Entering BACKUP STATE", 5*time.Second)
	k.waitLog(t, "(VI_1) Entering BACKUP STATE", "(VI_1) sent 0 priority", 5*time.Second)
	k.waitLog(t, "(VI_1) sent 0 priority", "(VI_1) Entering MASTER STATE", 5*time.Second)
	waitAddr(t, khs[0], "eth0", articleVIP, true)

	_, hs := articleHosts(t, 1)
	h := hs[0]
	s := startSpeaker(t, h, articleConfig(150))
	s.waitState(t, StateMaster, 20*time.Second)
	waitAddr(t, h, "eth0", articleVIP, true)
	h.Run(t, "ip", "addr", "del", articleVIP.String(), "dev", "eth0")
	netnstest.WaitFor(t, "the instance to resign and come back", 10*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := len(s.trans)
		return n >= 4 && s.trans[n-2].Cause.Kind == CauseAddrDeleted && s.trans[n-1].To == StateMaster
	})
	waitAddr(t, h, "eth0", articleVIP, true)
	s.mu.Lock()
	n := len(s.trans)
	resign, back := s.trans[n-2], s.trans[n-1]
	s.mu.Unlock()
	t.Logf("resigned: %v; MASTER again %v later", resign.Cause, back.At.Sub(resign.At).Round(time.Millisecond))
}

// The address flags are the kernel's.
func TestAddrFlagsAreTheKernels(t *testing.T) {
	for _, f := range [][2]uint32{{AddrFlagHome, unix.IFA_F_HOMEADDRESS}, {AddrFlagManageTemp, unix.IFA_F_MANAGETEMPADDR},
		{AddrFlagNoPrefixRoute, unix.IFA_F_NOPREFIXROUTE}, {AddrFlagMCAutojoin, unix.IFA_F_MCAUTOJOIN}} {
		if f[0] != f[1] {
			t.Errorf("flag %#x, the kernel's %#x", f[0], f[1])
		}
	}
}
