package vrrp

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/frr"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// Interoperation of VRRPv3 with FRR's vrrpd (Debian's frr 8.4) in the
// netns tier: one link (bridge lan), FRR in lb1 (192.168.0.11,
// fd00::11), lvskit in lb2 (192.168.0.12, fd00::12), adverts and VIPs on
// eth0. FRR keeps its VIPs on macvlan interfaces with the virtual MAC and
// takes them out of service as BACKUP by protodown; lvskit adds and
// removes them on eth0.

// frrHosts builds lb1 and lb2 on the lan bridge, IPv4 and IPv6, duplicate
// address detection off.
func frrHosts(t *testing.T) []*netnstest.NS {
	t.Helper()
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	var hs []*netnstest.NS
	for i := range 2 {
		h := tp.Host(fmt.Sprintf("lb%d", i+1))
		h.Run(t, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		tp.Connect(h, "eth0", "lan", fmt.Sprintf("192.168.0.%d/24", 11+i), fmt.Sprintf("fd00::%d/64", 11+i))
		hs = append(hs, h)
	}
	for _, h := range hs {
		linkLocalOf(t, h, "eth0")
	}
	return hs
}

// frrInstance is the instance both sides run: VRID 1 with 192.168.0.100
// for IPv4, VRID 2 with fd00::100 for IPv6.
func frrInstance(ipv6 bool) (uint8, netip.Prefix) {
	if ipv6 {
		return 2, articleVIP6
	}
	return 1, articleVIP
}

func frrLvskitConfig(ipv6 bool, prio uint8, iv time.Duration) Config {
	vrid, vip := frrInstance(ipv6)
	return Config{Interface: "eth0", VRID: vrid, Priority: prio, VIPs: []netip.Prefix{vip}, VIPInterface: "eth0",
		Version: Version3, AdvertInterval: iv}
}

func frrVrrpdArgs(ipv6 bool, prio int, iv time.Duration) []string {
	vrid, vip := frrInstance(ipv6)
	return []string{"-interface", "eth0", "-vrid", fmt.Sprint(vrid), "-priority", fmt.Sprint(prio),
		"-vip", vip.String(), "-vip-interface", "eth0", "-version", "3", "-advert-int", iv.String()}
}

// frrPeer is FRR's vrrpd running one instance in a namespace.
type frrPeer struct {
	r    *frr.Router
	vrid uint8
	ipv6 bool
}

func startFRR(t *testing.T, ns *netnstest.NS, ipv6 bool, prio uint8, iv time.Duration) *frrPeer {
	t.Helper()
	vrid, vip := frrInstance(ipv6)
	r, err := frr.StartVRRP(context.Background(), ns.NS, frr.VRRPConfig{Interface: "eth0", Routers: []frr.VRRPRouter{
		{VRID: vrid, Version: 3, Priority: prio, AdvertInterval: iv, VIPs: []netip.Prefix{vip}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := &frrPeer{r: r, vrid: vrid, ipv6: ipv6}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FRR in %s:\n%s", ns.Name, r.Output())
		}
		r.Close()
	})
	return f
}

func (f *frrPeer) status(t *testing.T) frr.VRRPFamily {
	t.Helper()
	st, err := f.r.VRRPFamilyStatus(f.vrid, f.ipv6)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *frrPeer) waitStatus(t *testing.T, want string, timeout time.Duration) frr.VRRPFamily {
	t.Helper()
	var st frr.VRRPFamily
	netnstest.WaitFor(t, "FRR "+want, timeout, func() bool {
		st = f.status(t)
		return st.Status == want
	})
	return st
}

func (f *frrPeer) live(t *testing.T) bool {
	t.Helper()
	ok, err := f.r.VRRPLive("eth0", f.vrid, f.ipv6)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func (f *frrPeer) waitLive(t *testing.T, want bool) {
	t.Helper()
	netnstest.WaitFor(t, fmt.Sprintf("FRR's VIP in service=%v", want), 10*time.Second, func() bool { return f.live(t) == want })
}

// source is the source address of FRR's adverts: the base interface's
// IPv4 address, or the link-local address of the IPv6 macvlan interface
// (`show vrrp json` has "::" as its primaryAddress).
func (f *frrPeer) source(t *testing.T, ns *netnstest.NS) netip.Addr {
	t.Helper()
	if !f.ipv6 {
		return netip.MustParseAddr("192.168.0.11")
	}
	l, err := ns.Netlink(t).LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	return linkLocalOf(t, ns, frr.MacvlanName(l.Attrs().Index, f.vrid, true))
}

// signalVrrpd sends sig to FRR's vrrpd and waits for it to exit.
func (f *frrPeer) signalVrrpd(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p := f.r.Daemon("vrrpd")
	if err := p.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(10 * time.Second); err != nil {
		t.Logf("FRR vrrpd after %v: %v", sig, err)
	}
}

// frrWire checks a capture of both sides with tshark: every VRRP packet
// is a VRRPv3 advert of vrid with the interval in centiseconds and a good
// checksum, and both sources sent some. It returns the priority 0 adverts
// per source.
func frrWire(t *testing.T, file string, vrid uint8, iv time.Duration, srcs ...netip.Addr) map[netip.Addr]int {
	t.Helper()
	rows := tshark(t, file, "vrrp", "ip.src", "ipv6.src", "vrrp.version", "vrrp.type", "vrrp.virt_rtr_id",
		"vrrp.prio", "vrrp.short_adver_int", "vrrp.checksum.status")
	per := map[netip.Addr]int{}
	zero := map[netip.Addr]int{}
	want := fmt.Sprintf("3 1 %d %d 1", vrid, iv/(10*time.Millisecond))
	for _, r := range rows {
		if len(r) != 8 {
			t.Errorf("tshark row %q", r)
			continue
		}
		src, err := netip.ParseAddr(r[0] + r[1])
		if err != nil {
			t.Errorf("tshark row %q: source: %v", r, err)
			continue
		}
		per[src]++
		if r[5] == "0" {
			zero[src]++
		}
		if got := strings.Join([]string{r[2], r[3], r[4], r[6], r[7]}, " "); got != want {
			t.Errorf("advert from %v: version, type, VRID, interval (cs), checksum status %q, want %q", src, got, want)
		}
	}
	for _, s := range srcs {
		if per[s] == 0 {
			t.Errorf("no advert from %v on the wire (adverts per source: %v)", s, per)
		}
	}
	t.Logf("adverts per source %v, priority 0 per source %v; all VRRPv3, VRID %d, interval %d cs, checksum good",
		per, zero, vrid, iv/(10*time.Millisecond))
	return zero
}

// TestIntegrationFRRVRRP runs lvskit against FRR's vrrpd with VRRPv3 on
// one link, IPv4 and IPv6, at 1 s and 100 ms adverts, with the state of
// both sides (FRR's `show vrrp json`, lvskit's transitions), where the
// VIPs are in service, and the adverts on the wire checked by tshark:
//
//   - FRR higher: it is MASTER and lvskit, joining, stays BACKUP; vrrpd's
//     SIGTERM (priority 0) makes lvskit MASTER; FRR started again
//     preempts it; vrrpd's kill -9 makes lvskit MASTER after
//     Master_Down_Interval.
//   - lvskit higher (the vrrpd program, so that it can be killed): it
//     preempts an FRR MASTER, which stays BACKUP; its SIGTERM (priority 0)
//     makes FRR MASTER; started again it preempts; its kill -9 makes FRR
//     MASTER after Master_Down_Interval.
func TestIntegrationFRRVRRP(t *testing.T) {
	netnstest.RequirePrivileged(t, "vtysh", "tcpdump", "tshark", "sysctl")
	if why := frr.AvailableVRRP(); why != "" {
		netnstest.Unavailable(t, why)
	}
	bin := buildVrrpd(t)
	for _, ipv6 := range []bool{false, true} {
		for _, iv := range []time.Duration{time.Second, 100 * time.Millisecond} {
			vrid, vip := frrInstance(ipv6)
			t.Run(fmt.Sprintf("%s/%v/frr-higher", familyName(ipv6), iv), func(t *testing.T) {
				hs := frrHosts(t)
				c := startCapture6(t, hs[1], "eth0")
				f := startFRR(t, hs[0], ipv6, 150, iv)
				st := f.waitStatus(t, "Master", 20*time.Second)
				f.waitLive(t, true)
				t.Logf("FRR: Master, skew %d ms, Master_Down_Interval %d ms, source %s", st.SkewTime, st.MasterDownInterval, st.PrimaryAddress)

				// Election: lvskit, lower, joins as BACKUP; no split brain.
				s := startSpeaker(t, hs[1], frrLvskitConfig(ipv6, 100, iv))
				s.waitState(t, StateBackup, 10*time.Second)
				s.holdState(t, StateBackup, 3*time.Second)
				if st2 := f.status(t); st2.Status != "Master" || st2.Stats.Transitions != st.Stats.Transitions {
					t.Errorf("FRR beside a lower lvskit: %s after %d transitions, want Master after %d", st2.Status, st2.Stats.Transitions, st.Stats.Transitions)
				}
				if !f.live(t) || hasAddrAny(t, hs[1], "eth0", vip) {
					t.Errorf("VIP in service at FRR %v, at lvskit %v; want FRR only", f.live(t), hasAddrAny(t, hs[1], "eth0", vip))
				}
				if in := s.r.Stats().Instances[0]; in.AdvertsReceived < 3 || in.DroppedTotal() != 0 {
					t.Errorf("FRR's adverts at lvskit: %d accepted, drops %v", in.AdvertsReceived, in.Dropped)
				}
				frrSrc := f.source(t, hs[0])

				// Graceful stop of FRR: lvskit takes over.
				f.signalVrrpd(t, syscall.SIGTERM)
				s.waitState(t, StateMaster, 20*time.Second)
				stopCause := s.last().Cause
				t.Logf("FRR's vrrpd stopped (SIGTERM): lvskit MASTER by %v; FRR's VIP in service %v", stopCause, f.live(t))
				waitAddrAny(t, hs[1], "eth0", vip, true)
				f.r.Close()

				// Preemption: FRR, higher, started later takes over.
				f2 := startFRR(t, hs[0], ipv6, 150, iv)
				f2.waitStatus(t, "Master", 20*time.Second)
				s.waitState(t, StateBackup, 20*time.Second)
				if got := s.last().Cause; got.Kind != CauseHigherPriority || got.Priority != 150 {
					t.Errorf("lvskit yielded because %v, want FRR's higher priority 150", got)
				}
				f2.waitLive(t, true)
				waitAddrAny(t, hs[1], "eth0", vip, false)
				s.holdState(t, StateBackup, 2*time.Second)
				if got := f2.status(t).Status; got != "Master" {
					t.Errorf("FRR %s after preempting, want Master", got)
				}

				// kill -9 of FRR's vrrpd: lvskit takes over after
				// Master_Down_Interval, not on a priority 0.
				f2.signalVrrpd(t, syscall.SIGKILL)
				s.waitState(t, StateMaster, 20*time.Second)
				if got := s.last().Cause; got.Kind != CauseMasterDown {
					t.Errorf("lvskit took over from a killed FRR because %v, want master down", got)
				}
				waitAddrAny(t, hs[1], "eth0", vip, true)
				t.Logf("FRR's vrrpd killed (-9): lvskit MASTER by %v; FRR's VIP left in service %v", s.last().Cause, f2.live(t))
				s.stop(t)
				in := s.r.Stats().Instances[0]
				t.Logf("lvskit stopped: %d adverts sent, %d of priority 0, %d send errors", in.AdvertsSent, in.PriorityZeroSent, in.SendErrors)

				var lv netip.Addr
				if ipv6 {
					lv = linkLocalOf(t, hs[1], "eth0")
				} else {
					lv = netip.MustParseAddr("192.168.0.12")
				}
				zero := frrWire(t, c.stopFile(t), vrid, iv, frrSrc, lv)
				// FRR's vrrpd resigns on SIGTERM as the RFC asks: one
				// priority 0 advert, none when killed.
				if stopCause.Kind != CausePriorityZero || zero[frrSrc] != 1 {
					t.Errorf("FRR's SIGTERM: lvskit took over by %v, %d priority 0 adverts from FRR on the wire; want priority 0, 1",
						stopCause, zero[frrSrc])
				}
				if zero[lv] != 1 {
					t.Errorf("lvskit sent %d priority 0 adverts, want 1 (its own stop)", zero[lv])
				}
			})

			t.Run(fmt.Sprintf("%s/%v/lvskit-higher", familyName(ipv6), iv), func(t *testing.T) {
				hs := frrHosts(t)
				c := startCapture6(t, hs[1], "eth0")
				f := startFRR(t, hs[0], ipv6, 100, iv)
				st := f.waitStatus(t, "Master", 20*time.Second)
				f.waitLive(t, true)
				frrSrc := f.source(t, hs[0])

				// Preemption and election: lvskit, higher, started later.
				d := hs[1].Start(t, bin, frrVrrpdArgs(ipv6, 150, iv)...)
				d.WaitOutput(t, "to=MASTER", 20*time.Second)
				st = f.waitStatus(t, "Backup", 10*time.Second)
				f.waitLive(t, false)
				waitAddrAny(t, hs[1], "eth0", vip, true)
				time.Sleep(3 * time.Second)
				if n := strings.Count(d.Output(), "to="); n != 2 {
					t.Errorf("lvskit made %d transitions, want 2 (BACKUP, MASTER):\n%s", n, d.Output())
				}
				if st2 := f.status(t); st2.Status != "Backup" || st2.Stats.Transitions != st.Stats.Transitions || st2.Stats.AdverRx < 3 {
					t.Errorf("FRR beside a higher lvskit: %s, %d transitions (want Backup, %d), %d adverts received",
						st2.Status, st2.Stats.Transitions, st.Stats.Transitions, st2.Stats.AdverRx)
				}
				if f.live(t) {
					t.Errorf("FRR BACKUP keeps its VIP in service")
				}

				// Graceful stop of lvskit: priority 0, FRR takes over.
				if err := d.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				if err := d.Wait(10 * time.Second); err != nil {
					t.Errorf("vrrpd exit: %v", err)
				}
				took := netnstest.WaitFor(t, "FRR Master after lvskit's priority 0", 20*time.Second, func() bool {
					return f.status(t).Status == "Master"
				})
				t.Logf("lvskit stopped (SIGTERM): FRR Master within %v of its exit", took)
				f.waitLive(t, true)
				waitAddrAny(t, hs[1], "eth0", vip, false)

				// Started again it preempts; killed with -9, FRR takes over
				// after Master_Down_Interval.
				d2 := hs[1].Start(t, bin, frrVrrpdArgs(ipv6, 150, iv)...)
				d2.WaitOutput(t, "to=MASTER", 20*time.Second)
				f.waitStatus(t, "Backup", 10*time.Second)
				f.waitLive(t, false)
				if err := d2.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				took = netnstest.WaitFor(t, "FRR Master after lvskit's kill -9", 20*time.Second, func() bool {
					return f.status(t).Status == "Master"
				})
				t.Logf("lvskit killed (-9): FRR Master within %v (its Master_Down_Interval %d ms)", took, f.status(t).MasterDownInterval)
				f.waitLive(t, true)

				var lv netip.Addr
				if ipv6 {
					lv = linkLocalOf(t, hs[1], "eth0")
				} else {
					lv = netip.MustParseAddr("192.168.0.12")
				}
				zero := frrWire(t, c.stopFile(t), vrid, iv, frrSrc, lv)
				if zero[lv] != 1 {
					t.Errorf("lvskit sent %d priority 0 adverts, want 1 (SIGTERM, none when killed)", zero[lv])
				}
			})
		}
	}
}

// stopFile ends tcpdump and returns the capture's file. tcpdump without
// --immediate-mode hands frames over from the kernel's ring in blocks,
// retired at the latest after a second, and drops the unretired block on
// SIGINT: wait that second first, so that the last adverts (a priority 0
// at the end) are in the file.
func (c *capture) stopFile(t *testing.T) string {
	t.Helper()
	time.Sleep(1500 * time.Millisecond)
	c.stop(t)
	return c.file
}
