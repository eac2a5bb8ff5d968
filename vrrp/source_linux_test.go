package vrrp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// sourceDaemon is keepalived or the router, as the source scenarios see
// them: the number of transitions so far and a wait for the next one.
type sourceDaemon struct {
	name  string
	moves func() int
	// wait waits for a transition to st after the first n.
	wait func(t *testing.T, n int, st State)
}

func keepalivedSource(k *keepalived) sourceDaemon {
	count := func(st string) int { return strings.Count(k.p.Output(), ") Entering "+st+" STATE") }
	moves := func() int { return count("BACKUP") + count("MASTER") + count("FAULT") }
	return sourceDaemon{name: "keepalived", moves: moves, wait: func(t *testing.T, n int, st State) {
		t.Helper()
		netnstest.WaitFor(t, fmt.Sprintf("keepalived entering %v", st), 15*time.Second, func() bool {
			out := k.p.Output()
			i := 0
			for range n {
				j := strings.Index(out[i:], ") Entering ")
				if j < 0 {
					return false
				}
				i += j + 1
			}
			return strings.Contains(out[i:], ") Entering "+st.String()+" STATE")
		})
	}}
}

func routerSource(s *speaker) sourceDaemon {
	moves := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.trans)
	}
	return sourceDaemon{name: "router", moves: moves, wait: func(t *testing.T, n int, st State) {
		t.Helper()
		netnstest.WaitFor(t, fmt.Sprintf("the router entering %v", st), 15*time.Second, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, tr := range s.trans[min(n, len(s.trans)):] {
				if tr.To == st {
					return true
				}
			}
			return false
		})
	}}
}

// TestIntegrationSourceFollowsTheInterface runs keepalived and the router,
// each alone as MASTER in a topology of its own, through the same address
// changes on the advert interface, with ip, for each family (IPv6: the
// interface's link-local addresses, VRRPv3):
//
//   - a second address added and the source deleted: both stay MASTER and
//     advertise from the second address;
//   - that one deleted too, so that the interface has none: both resign
//     (priority 0 advert from the deleted address) and are FAULT without
//     the VIP. keepalived's IPv6 resignation never reaches the wire: the
//     kernel refuses the deleted source ("send advert error 22"); the
//     router's transparent socket sends it, as keepalived's IPv4 one does;
//   - the first address added again: both are MASTER again with the VIP,
//     advertising from it.
func TestIntegrationSourceFollowsTheInterface(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "keepalived", "tcpdump")
	for _, ipv6 := range []bool{false, true} {
		t.Run(familyName(ipv6)+"/keepalived", func(t *testing.T) {
			_, hs := v3Hosts(t, 1)
			conf := keepalivedConf(150, "")
			if ipv6 {
				conf = keepalivedConfV3(true, 150, time.Second)
			}
			k := startKeepalived(t, hs[0], conf)
			k.waitLog(t, "", "Entering MASTER STATE", 20*time.Second)
			sourceScenario(t, hs[0], ipv6, !ipv6, keepalivedSource(k))
			if ipv6 {
				k.waitLog(t, "Entering FAULT STATE", "send advert error 22 (Invalid argument)", time.Second)
			}
		})
		t.Run(familyName(ipv6)+"/router", func(t *testing.T) {
			_, hs := v3Hosts(t, 1)
			c := articleConfig(150)
			if ipv6 {
				c = v3Config(true, 150, time.Second)
			}
			s := startSpeaker(t, hs[0], c)
			s.waitState(t, StateMaster, 20*time.Second)
			sourceScenario(t, hs[0], ipv6, true, routerSource(s))
			s.mu.Lock()
			defer s.mu.Unlock()
			var causes []string
			for _, tr := range s.trans {
				causes = append(causes, tr.To.String()+" ("+tr.Cause.String()+")")
			}
			t.Logf("router: %s", strings.Join(causes, ", "))
		})
	}
}

// linkLocal returns the IPv6 link-local address of ns's ifname.
func linkLocal(t *testing.T, ns *netnstest.NS, ifname string) netip.Prefix {
	t.Helper()
	for _, f := range strings.Fields(ns.Run(t, "ip", "-6", "-o", "addr", "show", "dev", ifname, "scope", "link")) {
		if p, err := netip.ParsePrefix(f); err == nil {
			return p
		}
	}
	t.Fatalf("%s: no link-local address on %s", ns.Name, ifname)
	return netip.Prefix{}
}

// sourceScenario runs the address changes; resigns: the priority 0 advert
// reaches the wire.
func sourceScenario(t *testing.T, h *netnstest.NS, ipv6, resigns bool, d sourceDaemon) {
	first, second := netip.PrefixFrom(svcAddr(0), 24), netip.MustParsePrefix("172.17.0.1/24")
	vip, ip, capture, packets := articleVIP, []string{"ip"}, startCapture, vrrpPackets
	if ipv6 {
		first, second = linkLocal(t, h, "eth1"), netip.MustParsePrefix("fe80::99/64")
		vip, ip, capture, packets = articleVIP6, []string{"ip", "-6"}, startCapture6, vrrpPackets6
	}
	addr := func(op string, p netip.Prefix) {
		h.Run(t, ip[0], append(ip[1:], "addr", op, p.String(), "dev", "eth1")...)
	}
	waitAddrAny(t, h, "eth0", vip, true)
	c := capture(t, h, "eth1")

	n := d.moves()
	addr("add", second)
	switched := time.Now()
	addr("del", first)
	time.Sleep(3500 * time.Millisecond)
	if got := d.moves(); got != n {
		t.Errorf("%s: %d transitions once the source was deleted with another address left, want none", d.name, got-n)
	}

	n = d.moves()
	gone := time.Now()
	addr("del", second)
	d.wait(t, n, StateFault)
	waitAddrAny(t, h, "eth0", vip, false)

	n = d.moves()
	back := time.Now()
	addr("add", first)
	d.wait(t, n, StateMaster)
	waitAddrAny(t, h, "eth0", vip, true)
	time.Sleep(2500 * time.Millisecond)

	var fromSecond, fromFirstAfter, zero int
	var zeroFrom []string
	for _, p := range packets(c.stop(t)) {
		switch {
		case p.prio == 0:
			if p.at.After(gone) && p.at.Before(back) {
				zero++
				zeroFrom = append(zeroFrom, fmt.Sprintf("%v at +%v", p.src, p.at.Sub(gone).Round(time.Millisecond)))
			}
		case p.at.After(switched.Add(1200*time.Millisecond)) && p.at.Before(gone):
			if p.src != second.Addr() {
				t.Errorf("%s: advert from %v at +%v after the switch, want from %v", d.name, p.src, p.at.Sub(switched), second.Addr())
			}
			fromSecond++
		case p.at.After(back):
			if p.src != first.Addr() {
				t.Errorf("%s: advert from %v once %v was back, want from it", d.name, p.src, first.Addr())
			}
			fromFirstAfter++
		}
	}
	if fromSecond < 2 || fromFirstAfter < 1 {
		t.Errorf("%s: %d adverts from %v after the switch, %d from %v once back; want 2 or more and 1 or more", d.name, fromSecond, second.Addr(), fromFirstAfter, first.Addr())
	}
	if (zero > 0) != resigns {
		t.Errorf("%s: %d priority 0 adverts when the last address went, want some: %v", d.name, zero, resigns)
	}
	t.Logf("%s: %d adverts from %v after the switch; priority 0 %v when none was left; %d adverts from %v once back",
		d.name, fromSecond, second.Addr(), zeroFrom, fromFirstAfter, first.Addr())
}

// TestIntegrationConfiguredSourceStays deletes the configured source
// (mcast_src_ip) of keepalived and of the router, each alone as MASTER in
// a topology of its own: both stay MASTER and go on advertising from it.
func TestIntegrationConfiguredSourceStays(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "keepalived", "tcpdump")
	src := svcAddr(0)
	t.Run("keepalived", func(t *testing.T) {
		_, hs := articleHosts(t, 1)
		conf := strings.Replace(keepalivedConf(150, ""), "\tadvert_int 1\n", "\tadvert_int 1\n\tmcast_src_ip "+src.String()+"\n", 1)
		k := startKeepalived(t, hs[0], conf)
		k.waitLog(t, "", "(VI_1) Entering MASTER STATE", 20*time.Second)
		configuredSourceScenario(t, hs[0], keepalivedSource(k))
	})
	t.Run("router", func(t *testing.T) {
		_, hs := articleHosts(t, 1)
		c := articleConfig(150)
		c.UnicastSrc = src
		s := startSpeaker(t, hs[0], c)
		s.waitState(t, StateMaster, 20*time.Second)
		configuredSourceScenario(t, hs[0], routerSource(s))
		if st := s.r.Stats().Instances[0]; st.SendErrors != 0 {
			t.Errorf("router: %d failed sends", st.SendErrors)
		}
	})
}

func configuredSourceScenario(t *testing.T, h *netnstest.NS, d sourceDaemon) {
	src := svcAddr(0)
	waitAddr(t, h, "eth0", articleVIP, true)
	c := startCapture(t, h, "eth1")
	n := d.moves()
	gone := time.Now()
	h.Run(t, "ip", "addr", "del", src.String()+"/24", "dev", "eth1")
	time.Sleep(3500 * time.Millisecond)
	if got := d.moves(); got != n {
		t.Errorf("%s: %d transitions once the configured source was deleted, want none", d.name, got-n)
	}
	if !hasAddr(t, h, "eth0", articleVIP) {
		t.Errorf("%s: the VIP is gone", d.name)
	}
	var after int
	for _, p := range vrrpPackets(c.stop(t)) {
		if p.at.After(gone) {
			if p.src != src || p.prio != 150 {
				t.Errorf("%s: advert from %v, priority %d after the deletion, want from %v, priority 150", d.name, p.src, p.prio, src)
			}
			after++
		}
	}
	if after < 3 {
		t.Errorf("%s: %d adverts in the 3.5 s after the deletion, want 3 or more", d.name, after)
	}
	t.Logf("%s: %d adverts from %v after its deletion", d.name, after, src)
}

// TestIntegrationStartWithoutAddress starts keepalived and the router,
// each alone in a topology of its own, with no address on the advert
// interface: both are FAULT, and MASTER with the VIP once one is added.
func TestIntegrationStartWithoutAddress(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "keepalived")
	addr := svcAddr(0).String() + "/24"
	t.Run("keepalived", func(t *testing.T) {
		_, hs := articleHosts(t, 1)
		hs[0].Run(t, "ip", "addr", "del", addr, "dev", "eth1")
		k := startKeepalived(t, hs[0], keepalivedConf(150, ""))
		k.waitLog(t, "", "(VI_1) entering FAULT state (no IPv4 address for interface)", 20*time.Second)
		time.Sleep(3500 * time.Millisecond)
		if hasAddr(t, hs[0], "eth0", articleVIP) || strings.Contains(k.p.Output(), "Entering MASTER STATE") {
			t.Fatalf("keepalived MASTER without an address:\n%s", k.p.Output())
		}
		hs[0].Run(t, "ip", "addr", "add", addr, "dev", "eth1")
		k.waitLog(t, "entering FAULT state (no IPv4 address", "(VI_1) Entering MASTER STATE", 15*time.Second)
		waitAddr(t, hs[0], "eth0", articleVIP, true)
	})
	t.Run("router", func(t *testing.T) {
		_, hs := articleHosts(t, 1)
		hs[0].Run(t, "ip", "addr", "del", addr, "dev", "eth1")
		s := startSpeaker(t, hs[0], articleConfig(150))
		s.waitState(t, StateFault, 20*time.Second)
		if c := s.last().Cause; c.Kind != CauseNoSource {
			t.Errorf("FAULT for %v, want for want of a source", c)
		}
		s.holdState(t, StateFault, 3500*time.Millisecond)
		if hasAddr(t, hs[0], "eth0", articleVIP) {
			t.Error("FAULT with the VIP")
		}
		hs[0].Run(t, "ip", "addr", "add", addr, "dev", "eth1")
		s.waitState(t, StateMaster, 15*time.Second)
		waitAddr(t, hs[0], "eth0", articleVIP, true)
	})
}
