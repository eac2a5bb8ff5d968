package vrrp

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// Interoperation of VRRPv3 with keepalived 2.2.7 in the netns tier.

// vrrpdArgs is the command line of vrrpd for v3Config(ipv6, prio, iv),
// under SCHED_RR 10.
func vrrpdArgs(ipv6 bool, prio int, iv time.Duration) []string {
	c := v3Config(ipv6, 1, iv)
	return []string{"-interface", "eth1", "-vrid", fmt.Sprint(c.VRID), "-priority", fmt.Sprint(prio),
		"-vip", c.VIPs[0].String(), "-vip-interface", "eth0", "-version", "3", "-advert-int", iv.String(),
		"-rt-priority", "10"}
}

// withRT gives keepalived the same real-time priority as vrrpd's. Its
// default RLIMIT_RTTIME under vrrp_rt_priority, 10 ms of CPU without
// blocking, gets its VRRP child killed (SIGKILL) and restarted on this
// loaded host ("exited due to signal 9 - has rlimit_rttime been
// exceeded?"); 1 s does not.
func withRT(conf string) string {
	return strings.Replace(conf, "global_defs {", "global_defs {\n\tvrrp_rt_priority 10\n\tvrrp_rlimit_rttime 1000000", 1)
}

// TestIntegrationV3Keepalived runs vrrpd against keepalived 2.2.7 with
// vrrp_version 3, IPv4 and IPv6, 10 ms and 100 ms adverts, both under
// SCHED_RR 10 (-rt-priority, vrrp_rt_priority): keepalived higher elects
// itself and vrrpd stays BACKUP (no split brain) until keepalived is killed
// with -9 (its VRRP child resigns with priority 0); then vrrpd higher
// preempts a keepalived MASTER, which stays BACKUP (no split brain), and
// vrrpd's SIGTERM (priority 0) hands the VIP back.
func TestIntegrationV3Keepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	bin := buildVrrpd(t)
	for _, ipv6 := range []bool{false, true} {
		for _, iv := range []time.Duration{100 * time.Millisecond, 10 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%v", familyName(ipv6), iv), func(t *testing.T) {
				_, hs := v3Hosts(t, 2)
				vip := v3Config(ipv6, 1, iv).VIPs[0]

				k := startKeepalived(t, hs[0], withRT(keepalivedConfV3(ipv6, 150, iv)))
				k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
				d := hs[1].Start(t, bin, vrrpdArgs(ipv6, 100, iv)...)
				d.WaitOutput(t, "to=BACKUP", 10*time.Second)
				time.Sleep(2 * time.Second)
				if n := strings.Count(d.Output(), "to="); n != 1 {
					t.Errorf("vrrpd beside a higher keepalived made %d transitions, want 1 (to BACKUP):\n%s", n, d.Output())
				}
				waitAddrAny(t, hs[0], "eth0", vip, true)
				if hasAddrAny(t, hs[1], "eth0", vip) {
					t.Errorf("vrrpd BACKUP holds the VIP")
				}
				if err := k.p.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				d.WaitOutput(t, "to=MASTER", 20*time.Second)
				if !strings.Contains(d.Output(), "priority 0 from") {
					t.Errorf("vrrpd took over, but not on keepalived's priority 0:\n%s", d.Output())
				}
				waitAddrAny(t, hs[1], "eth0", vip, true)
				d.Signal(syscall.SIGTERM)
				if err := d.Wait(10 * time.Second); err != nil {
					t.Errorf("vrrpd exit: %v", err)
				}
				k.p.KillChildren()

				// vrrpd higher: it preempts keepalived, then resigns.
				k2 := startKeepalived(t, hs[0], withRT(keepalivedConfV3(ipv6, 100, iv)))
				k2.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
				waitAddrAny(t, hs[0], "eth0", vip, true)
				d2 := hs[1].Start(t, bin, vrrpdArgs(ipv6, 150, iv)...)
				d2.WaitOutput(t, "to=MASTER", 20*time.Second)
				k2.waitLog(t, "Entering MASTER STATE", "Entering BACKUP STATE", 20*time.Second)
				waitAddrAny(t, hs[0], "eth0", vip, false)
				waitAddrAny(t, hs[1], "eth0", vip, true)
				time.Sleep(2 * time.Second)
				if n := strings.Count(k2.p.Output(), "Entering MASTER STATE"); n != 1 {
					t.Errorf("keepalived became MASTER %d times beside a higher vrrpd, want once (before it started)", n)
				}
				if n := strings.Count(d2.Output(), "to="); n != 2 {
					t.Errorf("vrrpd made %d transitions, want 2 (BACKUP, MASTER):\n%s", n, d2.Output())
				}
				d2.Signal(syscall.SIGTERM)
				if err := d2.Wait(10 * time.Second); err != nil {
					t.Errorf("vrrpd exit: %v", err)
				}
				k2.waitLog(t, "Entering BACKUP STATE", "Backup received priority 0 advertisement", 10*time.Second)
				k2.waitLog(t, "Entering BACKUP STATE", "Entering MASTER STATE", 20*time.Second)
				waitAddrAny(t, hs[0], "eth0", vip, true)
				waitAddrAny(t, hs[1], "eth0", vip, false)
			})
		}
	}
}

// TestIntegrationV3KilledVrrpd kills vrrpd (lvskit as its own process)
// with -9 while MASTER at 10 ms adverts: no priority 0 advert, so
// keepalived takes over after its Master_Down_Interval; then vrrpd's
// SIGTERM sends priority 0 and keepalived takes over at once.
func TestIntegrationV3KilledVrrpd(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	bin := buildVrrpd(t)
	iv := 10 * time.Millisecond
	for _, ipv6 := range []bool{false, true} {
		t.Run(familyName(ipv6), func(t *testing.T) {
			_, hs := v3Hosts(t, 2)
			vip := v3Config(ipv6, 1, iv).VIPs[0]
			k := startKeepalived(t, hs[0], withRT(keepalivedConfV3(ipv6, 100, iv)))
			k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
			d := hs[1].Start(t, bin, vrrpdArgs(ipv6, 150, iv)...)
			d.WaitOutput(t, "to=MASTER", 20*time.Second)
			k.waitLog(t, "Entering MASTER STATE", "Entering BACKUP STATE", 20*time.Second)
			waitAddrAny(t, hs[1], "eth0", vip, true)
			waitAddrAny(t, hs[0], "eth0", vip, false)
			if err := d.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			k.waitLog(t, "Entering BACKUP STATE", "Entering MASTER STATE", 20*time.Second)
			waitAddrAny(t, hs[0], "eth0", vip, true)
			if strings.Contains(k.p.Output(), "Backup received priority 0 advertisement") {
				t.Errorf("keepalived heard a priority 0 advert from a vrrpd killed with -9")
			}
			// A killed vrrpd leaves its VIP behind, as a killed keepalived
			// does; the next start removes it as BACKUP.
			d2 := hs[1].Start(t, bin, vrrpdArgs(ipv6, 150, iv)...)
			d2.WaitOutput(t, "to=MASTER", 20*time.Second)
			k.waitLog(t, "Entering MASTER STATE", "Entering BACKUP STATE", 20*time.Second)
			if err := d2.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := d2.Wait(10 * time.Second); err != nil {
				t.Errorf("vrrpd exit after SIGTERM: %v", err)
			}
			k.waitLog(t, "Entering MASTER STATE", "Backup received priority 0 advertisement", 10*time.Second)
			k.waitLog(t, "Backup received priority 0 advertisement", "Entering MASTER STATE", 20*time.Second)
			waitAddrAny(t, hs[1], "eth0", vip, false)
		})
	}
}

// TestIntegrationV3MixedAndUnicastWithKeepalived: an IPv4 and an IPv6
// instance in one lvskit Router against the same two in keepalived, each
// family electing its own MASTER; and an IPv6 instance with unicast peers
// (link-local addresses) against keepalived's unicast_src_ip/unicast_peer.
func TestIntegrationV3MixedAndUnicastWithKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	t.Run("mixed", func(t *testing.T) {
		_, hs := v3Hosts(t, 2)
		conf := keepalivedConfV3(false, 150, 100*time.Millisecond)
		conf += strings.SplitN(keepalivedConfV3(true, 50, 100*time.Millisecond), "}\n", 2)[1]
		k := startKeepalived(t, hs[0], conf)
		k.waitLog(t, "", "(VI_1) Entering MASTER STATE", 30*time.Second)
		k.waitLog(t, "", "(VI_2) Entering MASTER STATE", 30*time.Second)

		var mu sync.Mutex
		last := map[string]State{}
		c4, c6 := v3Config(false, 100, 100*time.Millisecond), v3Config(true, 100, 100*time.Millisecond)
		c4.Name, c6.Name = "v4", "v6"
		r, err := Open([]Config{c4, c6}, &Options{NetNS: int(hs[1].Handle()), OnTransition: func(tr Transition) {
			mu.Lock()
			last[tr.Instance] = tr.To
			mu.Unlock()
			t.Logf("lvskit %s: %v -> %v (%v)", tr.Instance, tr.From, tr.To, tr.Cause)
		}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			r.Close()
		}()
		netnstest.WaitFor(t, "lvskit v4 BACKUP and v6 MASTER", 20*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return last["v4"] == StateBackup && last["v6"] == StateMaster
		})
		k.waitLog(t, "(VI_2) Entering MASTER STATE", "(VI_2) Entering BACKUP STATE", 10*time.Second)
		time.Sleep(2 * time.Second)
		mu.Lock()
		if last["v4"] != StateBackup || last["v6"] != StateMaster {
			t.Errorf("after 2 s: v4 %v, v6 %v; want BACKUP and MASTER", last["v4"], last["v6"])
		}
		mu.Unlock()
		waitAddrAny(t, hs[0], "eth0", articleVIP, true)
		waitAddrAny(t, hs[1], "eth0", articleVIP6, true)
		waitAddrAny(t, hs[0], "eth0", articleVIP6, false)
		if hasAddrAny(t, hs[1], "eth0", articleVIP) {
			t.Errorf("lvskit holds the IPv4 VIP as BACKUP")
		}
		for _, st := range r.Stats().Instances {
			if st.DroppedTotal() != 0 || st.AdvertsReceived == 0 {
				t.Errorf("%s: %d accepted, drops %v", st.Instance, st.AdvertsReceived, st.Dropped)
			}
		}
	})
	t.Run("ipv6 unicast", func(t *testing.T) {
		_, hs := v3Hosts(t, 2)
		kl, ll := linkLocalOf(t, hs[0], "eth1"), linkLocalOf(t, hs[1], "eth1")
		conf := strings.Replace(keepalivedConfV3(true, 150, 100*time.Millisecond), "\tvirtual_ipaddress {",
			fmt.Sprintf("\tunicast_src_ip %s\n\tunicast_peer {\n\t\t%s\n\t}\n\tvirtual_ipaddress {", kl, ll), 1)
		k := startKeepalived(t, hs[0], conf)
		k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
		c := v3Config(true, 100, 100*time.Millisecond)
		c.UnicastSrc, c.UnicastPeers = ll, []netip.Addr{kl}
		s := startSpeaker(t, hs[1], c)
		s.waitState(t, StateBackup, 10*time.Second)
		s.holdState(t, StateBackup, 2*time.Second)
		if st := s.r.Stats().Instances[0]; st.AdvertsReceived < 10 || st.DroppedTotal() != 0 {
			t.Errorf("keepalived's unicast adverts: %d accepted, drops %v", st.AdvertsReceived, st.Dropped)
		}
		k.p.Signal(syscall.SIGTERM)
		s.waitState(t, StateMaster, 10*time.Second)
		if got := s.last().Cause; got.Kind != CausePriorityZero {
			t.Errorf("took over by %v, want priority 0", got)
		}
		waitAddrAny(t, hs[1], "eth0", articleVIP6, true)
		// And keepalived, restarted lower, hears lvskit's unicast adverts.
		conf2 := strings.Replace(conf, "priority 150", "priority 50", 1)
		k2 := startKeepalived(t, hs[0], conf2)
		k2.waitLog(t, "", "Entering BACKUP STATE", 30*time.Second)
		time.Sleep(2 * time.Second)
		if strings.Contains(k2.p.Output(), "Entering MASTER STATE") {
			t.Errorf("keepalived became MASTER beside lvskit's unicast adverts:\n%s", k2.p.Output())
		}
		s.holdState(t, StateMaster, 100*time.Millisecond)
	})
}
