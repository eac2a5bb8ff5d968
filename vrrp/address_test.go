package vrrp_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

var (
	excluded4 = netip.MustParsePrefix("192.168.0.101/24")
	excluded6 = netip.MustParsePrefix("fd00::101/64")
	onEth2    = netip.MustParsePrefix("10.2.0.100/24")
)

// withAddresses gives the instance an excluded IPv4 and IPv6 address, a
// VIP on eth2 and a label, scope and broadcast address on the first VIP.
func withAddresses(c *vrrp.Config) {
	c.VIPs = append(c.VIPs, onEth2)
	c.ExcludedVIPs = []netip.Prefix{excluded4, excluded6}
	c.AddrOptions = []vrrp.AddrOptions{
		{Addr: vip.Addr(), Label: "eth0:vip", Scope: 253, Broadcast: netip.MustParseAddr("192.168.0.255")},
		{Addr: onEth2.Addr(), Interface: "eth2"},
	}
}

func TestConfigAddresses(t *testing.T) {
	c := baseConfig()
	withAddresses(&c)
	n, err := c.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := []vrrp.Address{
		{Prefix: vip, Interface: "eth0", Label: "eth0:vip", Scope: 253, Broadcast: netip.MustParseAddr("192.168.0.255")},
		{Prefix: onEth2, Interface: "eth2"},
		{Prefix: excluded4, Interface: "eth0"},
		{Prefix: excluded6, Interface: "eth0"},
	}
	if diff := cmp.Diff(want, n.Addresses(), cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})); diff != "" {
		t.Errorf("Addresses (-want +got):\n%s", diff)
	}
}

func TestConfigAddressesRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*vrrp.Config)
		field string
	}{
		{"options of an unknown address", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: netip.MustParseAddr("192.168.0.7")}}
		}, "AddrOptions"},
		{"options twice", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr()}, {Addr: vip.Addr(), Label: "x"}}
		}, "AddrOptions"},
		{"excluded and VIP", func(c *vrrp.Config) { c.ExcludedVIPs = []netip.Prefix{vip} }, "ExcludedVIPs"},
		{"bad interface", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Interface: "a/b"}}
		}, "AddrOptions.Interface"},
		{"long label", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Label: "eth0:0123456789ab"}}
		}, "AddrOptions.Label"},
		{"IPv6 label", func(c *vrrp.Config) {
			c.ExcludedVIPs = []netip.Prefix{excluded6}
			c.AddrOptions = []vrrp.AddrOptions{{Addr: excluded6.Addr(), Label: "eth0:6"}}
		}, "AddrOptions.Label"},
		{"IPv6 broadcast", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Broadcast: netip.MustParseAddr("fd00::ff")}}
		}, "AddrOptions.Broadcast"},
		{"peer of the other family", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Peer: netip.MustParsePrefix("fd00::1/64")}}
		}, "AddrOptions.Peer"},
		{"peer and broadcast", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Peer: netip.MustParsePrefix("192.168.0.2/24"), Broadcast: netip.MustParseAddr("192.168.0.255")}}
		}, "AddrOptions.Peer"},
		{"a flag of the kernel's own", func(c *vrrp.Config) {
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Flags: 0x80}} // IFA_F_PERMANENT
		}, "AddrOptions.Flags"},
		{"other interface with VMAC", func(c *vrrp.Config) {
			c.VIPInterface = ""
			c.VMAC = &vrrp.VMAC{}
			c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Interface: "eth2"}}
		}, "AddrOptions.Interface"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.edit(&c)
			_, err := c.Normalize()
			var fe *vrrp.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("Normalize: %v, want a *FieldError on %s", err, tc.field)
			}
		})
	}
}

// With VMAC, an address given the base interface goes on the VMAC, as the
// VIPs do.
func TestConfigAddressOnBaseGoesOnVMAC(t *testing.T) {
	c := baseConfig()
	c.VIPInterface = ""
	c.VMAC = &vrrp.VMAC{}
	c.AddrOptions = []vrrp.AddrOptions{{Addr: vip.Addr(), Interface: "eth1", Label: "vrrp.1:x"}}
	n, err := c.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Addresses()[0]; got.Interface != "vrrp.1" || got.Label != "vrrp.1:x" {
		t.Errorf("address %+v, want it on vrrp.1 with its label", got)
	}
}

// A MASTER adds every address on its interface with its attributes and
// announces each there; the adverts carry the VIPs only; all go when it
// leaves MASTER.
func TestRouterAddressesFollowTheState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		m := start(t, b, "172.16.0.2", func(c *vrrp.Config) { c.Priority = 150; withAddresses(c) })
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if m.state() != vrrp.StateMaster {
			t.Fatalf("state %v, want MASTER", m.state())
		}
		want := map[string][]vrrp.Address{
			"eth0": {{Prefix: vip, Interface: "eth0", Label: "eth0:vip", Scope: 253, Broadcast: netip.MustParseAddr("192.168.0.255")},
				{Prefix: excluded4, Interface: "eth0"}, {Prefix: excluded6, Interface: "eth0"}},
			"eth2": {{Prefix: onEth2, Interface: "eth2"}},
		}
		for ifname, w := range want {
			if diff := cmp.Diff(w, m.host.Addresses(ifname), cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})); diff != "" {
				t.Errorf("addresses on %s (-want +got):\n%s", ifname, diff)
			}
		}
		// Two bursts of 5 frames per address, each on its interface.
		var on0, on2 []netip.Addr
		for range 2 {
			for range 5 {
				on0 = append(on0, vip.Addr(), excluded4.Addr(), excluded6.Addr())
				on2 = append(on2, onEth2.Addr())
			}
		}
		if diff := cmp.Diff(on0, m.host.GARPsOn("eth0"), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("announcements on eth0 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(on2, m.host.GARPsOn("eth2"), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("announcements on eth2 (-want +got):\n%s", diff)
		}
		sent := b.Sent(m.addr)
		if len(sent) == 0 {
			t.Fatal("no advert sent")
		}
		var ad vrrp.Advert
		if err := ad.Unmarshal(sent[len(sent)-1].Data, vrrp.Pseudo{Src: m.addr, Dst: vrrp.MulticastGroup}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]netip.Addr{vip.Addr(), onEth2.Addr()}, ad.Addrs, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("advert's addresses (-want +got):\n%s", diff)
		}

		m.stop()
		for _, ifname := range []string{"eth0", "eth2"} {
			if got := m.host.Addresses(ifname); len(got) != 0 {
				t.Errorf("stopped: %s still has %v", ifname, got)
			}
		}
	})
}

// The interface of an address is tracked unless NoTrack: the instance is
// FAULT while it is down.
func TestRouterAddressInterfaceTracked(t *testing.T) {
	for _, noTrack := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			b := vrrptest.NewBus()
			m := start(t, b, "172.16.0.2", func(c *vrrp.Config) {
				c.Priority = 150
				c.VIPs = append(c.VIPs, onEth2)
				c.AddrOptions = []vrrp.AddrOptions{{Addr: onEth2.Addr(), Interface: "eth2", NoTrack: noTrack}}
			})
			time.Sleep(5 * time.Second)
			m.host.SetLink("eth2", false)
			time.Sleep(time.Second)
			synctest.Wait()
			want := vrrp.StateFault
			if noTrack {
				want = vrrp.StateMaster
			}
			if got := m.state(); got != want {
				t.Errorf("no_track %v: eth2 down: state %v, want %v", noTrack, got, want)
			}
		})
	}
}

// With GARPExtraInterval a MASTER announces the first address of each
// interface other than the adverts' one every interval; none when every
// address is on the adverts' interface.
func TestRouterExtraGARPs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		m := start(t, b, "172.16.0.2", func(c *vrrp.Config) {
			c.Priority = 150
			c.GARPExtraInterval = 10 * time.Second
			c.VIPs = append(c.VIPs, onEth2, netip.MustParsePrefix("10.2.0.101/24"))
			c.AddrOptions = []vrrp.AddrOptions{{Addr: onEth2.Addr(), Interface: "eth2"}, {Addr: netip.MustParseAddr("10.2.0.101"), Interface: "eth2"}}
		})
		time.Sleep(4 * time.Second) // MASTER at 3.4 s
		synctest.Wait()
		before0, before2 := len(m.host.GARPsOn("eth0")), len(m.host.GARPsOn("eth2"))
		time.Sleep(35 * time.Second)
		synctest.Wait()
		if m.state() != vrrp.StateMaster {
			t.Fatalf("state %v", m.state())
		}
		// The second burst (5 s) and three extra rounds of one frame.
		if got := m.host.GARPsOn("eth0")[before0:]; len(got) != 5+3 {
			t.Errorf("eth0: %d more frames after the first burst, want 5 of the second and 3 extra: %v", len(got), got)
		}
		got2 := m.host.GARPsOn("eth2")[before2:]
		want2 := []netip.Addr{onEth2.Addr(), netip.MustParseAddr("10.2.0.101")}
		var want []netip.Addr
		for range 5 {
			want = append(want, want2...)
		}
		want = append(want, onEth2.Addr(), onEth2.Addr(), onEth2.Addr())
		if diff := cmp.Diff(want, got2, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("eth2 after the first burst (-want +got):\n%s", diff)
		}
		m.stop()
	})
}

func TestConfigExtraGARPs(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*vrrp.Config)
		want []string // interface of each
	}{
		{"all on the adverts' interface", func(c *vrrp.Config) { c.VIPInterface = "eth1" }, nil},
		{"VIPs on another", func(c *vrrp.Config) {}, []string{"eth0"}},
		{"VMAC", func(c *vrrp.Config) { c.VIPInterface = ""; c.VMAC = &vrrp.VMAC{} }, nil},
		{"VMAC sending from its base", func(c *vrrp.Config) { c.VIPInterface = ""; c.VMAC = &vrrp.VMAC{XmitBase: true} }, []string{"vrrp.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.edit(&c)
			n, err := c.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range n.ExtraGARPs() {
				got = append(got, a.Interface)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A MASTER whose address someone deletes resigns and comes back after
// Skew_Time with its addresses again, as keepalived does; with NoTrack it
// stays MASTER without the address. A lower-priority BACKUP stays BACKUP.
func TestRouterAddressDeleted(t *testing.T) {
	for _, noTrack := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			b := vrrptest.NewBus()
			o := start(t, b, "172.16.0.1", withPrio(100))
			m := start(t, b, "172.16.0.2", func(c *vrrp.Config) {
				c.Priority = 150
				c.ExcludedVIPs = []netip.Prefix{excluded4}
				c.AddrOptions = []vrrp.AddrOptions{{Addr: excluded4.Addr(), NoTrack: noTrack}}
			})
			time.Sleep(5 * time.Second)
			synctest.Wait()
			at := time.Now()
			m.host.DeleteAddr("eth0", excluded4.Addr())
			time.Sleep(5 * time.Second)
			synctest.Wait()
			checkOneMaster(t, m, o, m)
			has := slices.Contains(m.host.VIPs("eth0"), excluded4)
			if noTrack {
				if has || len(m.history()) != 2 {
					t.Errorf("no_track: %v present %v, history %v; want it absent and MASTER throughout", excluded4, has, m.history())
				}
				return
			}
			if !has {
				t.Errorf("%v not added again", excluded4)
			}
			want := []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateBackup, vrrp.StateMaster}
			if diff := cmp.Diff(want, m.history()); diff != "" {
				t.Fatalf("history (-want +got):\n%s", diff)
			}
			m.mu.Lock()
			resign, back := m.trans[2], m.trans[3]
			m.mu.Unlock()
			if resign.Cause.Kind != vrrp.CauseAddrDeleted || resign.Cause.Addr != excluded4.Addr() || !resign.At.Equal(at) {
				t.Errorf("resigned %+v, want at the deletion for it", resign)
			}
			if got, want := back.At.Sub(at), vrrp.SkewTime(150); got != want {
				t.Errorf("back as MASTER %v after the deletion, want Skew_Time %v", got, want)
			}
			if sent := b.Sent(m.addr); !slices.ContainsFunc(sent, func(s vrrptest.Sent) bool { return s.Priority == 0 && s.At.Equal(at) }) {
				t.Errorf("no priority 0 advert at the deletion")
			}
		})
	}
}

// BeforeAddVIPs runs before the addresses are on the host and
// AfterRemoveVIPs once they are gone.
func TestRouterAddressHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		addr := netip.MustParseAddr("172.16.0.2")
		host := vrrptest.NewHost(addr)
		var calls []string
		hook := func(what string) func(string) {
			return func(name string) {
				calls = append(calls, fmt.Sprintf("%s %s VIP present %v", what, name, host.HasVIP("eth0")))
			}
		}
		cfg := baseConfig()
		cfg.Priority = 150
		runFor(t, 5*time.Second, cfg, b.Port(addr), host, &vrrp.Options{BeforeAddVIPs: hook("before add"), AfterRemoveVIPs: hook("after remove")})
		// BACKUP at the start removes stale VIPs; MASTER adds them; the
		// stop removes them.
		want := []string{"after remove VI_1 VIP present false", "before add VI_1 VIP present false", "after remove VI_1 VIP present false"}
		if diff := cmp.Diff(want, calls); diff != "" {
			t.Errorf("hooks (-want +got):\n%s", diff)
		}
	})
}

// A GARPGroup paces the ARPs on its interfaces together, at its own
// interval, and sends what it gives no interval for (here the neighbour
// advertisements) at once.
func TestRouterGARPGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		addr := netip.MustParseAddr("172.16.0.2")
		host := vrrptest.NewHost(addr)
		cfg := baseConfig()
		cfg.Priority, cfg.GARPRepeat, cfg.GARPDelay = 150, 2, -1
		cfg.GARPInterval = time.Second // the group's interval applies instead
		cfg.VIPs = append(cfg.VIPs, onEth2)
		cfg.ExcludedVIPs = []netip.Prefix{excluded6}
		cfg.AddrOptions = []vrrp.AddrOptions{{Addr: onEth2.Addr(), Interface: "eth2"}}
		groups := []vrrp.GARPGroup{{Interfaces: []string{"eth0", "eth2"}, GARPInterval: 100 * time.Millisecond}}
		var elected time.Time
		runFor(t, 5*time.Second, cfg, b.Port(addr), host, &vrrp.Options{GARPGroups: groups, OnTransition: func(tr vrrp.Transition) {
			if tr.To == vrrp.StateMaster {
				elected = tr.At
			}
		}})
		got := host.GARPs()
		ms := func(d time.Duration) time.Time { return elected.Add(d * time.Millisecond) }
		want := []time.Time{ms(0), ms(0), ms(0), ms(100), ms(200), ms(300)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("frames (-want +got):\n%s", diff)
		}
		eq := cmpopts.EquateComparable(netip.Addr{})
		if diff := cmp.Diff([]netip.Addr{excluded6.Addr(), excluded6.Addr(), vip.Addr(), vip.Addr()}, host.GARPsOn("eth0"), eq); diff != "" {
			t.Errorf("eth0 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]netip.Addr{onEth2.Addr(), onEth2.Addr()}, host.GARPsOn("eth2"), eq); diff != "" {
			t.Errorf("eth2 (-want +got):\n%s", diff)
		}
		if _, err := vrrp.New([]vrrp.Config{cfg}, b.Port(netip.MustParseAddr("172.16.0.3")), host, &vrrp.Options{GARPGroups: append(groups, vrrp.GARPGroup{Interfaces: []string{"eth2"}})}); err == nil {
			t.Error("an interface in two groups accepted")
		}
	})
}

// runFor runs a Router of the one instance cfg for d, then stops it.
func runFor(t *testing.T, d time.Duration, cfg vrrp.Config, conn vrrp.Conn, host vrrp.Host, opts *vrrp.Options) {
	t.Helper()
	r, err := vrrp.New([]vrrp.Config{cfg}, conn, host, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	time.Sleep(d)
	synctest.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.Close()
}
