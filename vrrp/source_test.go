package vrrp_test

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

// Without a configured source, the adverts follow the interface's
// addresses: the next one takes over when the source is deleted; when
// none is left the MASTER resigns and the instance is FAULT, without its
// VIPs, until an address is added again, as keepalived does.
func TestRouterSourceFollowsTheInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		// VRRPv3: the source is chosen, not the system's.
		o := start(t, b, "172.16.0.1", func(c *vrrp.Config) { c.Version = vrrp.Version3 })
		m := start(t, b, "172.16.0.2", func(c *vrrp.Config) {
			c.Priority = 150
			c.Version = vrrp.Version3
		})
		other := netip.MustParseAddr("172.17.0.2")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, o, m)

		m.host.AddOwn("eth1", other)
		m.host.DeleteOwn("eth1", m.addr)
		switched := time.Now()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, o, m)
		for _, s := range b.Sent(other) {
			if s.At.Before(switched) {
				t.Errorf("advert from %v before the switch: %+v", other, s)
			}
		}
		if n := len(b.Sent(other)); n < 3 {
			t.Errorf("%d adverts from %v in the 3 s after the switch, want 3 or more", n, other)
		}
		if h := m.history(); len(h) != 2 {
			t.Errorf("history %v, want BACKUP then MASTER throughout", h)
		}

		m.host.DeleteOwn("eth1", other)
		gone := time.Now()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := m.last(); got.To != vrrp.StateFault || got.Cause.Kind != vrrp.CauseNoSource || got.Cause.Addr != other || !got.At.Equal(gone) {
			t.Errorf("after the last address went: %+v, want FAULT at once for the source %v", got, other)
		}
		if m.host.HasVIP("eth0") {
			t.Error("FAULT with the VIP")
		}
		if !slices.ContainsFunc(b.Sent(other), func(s vrrptest.Sent) bool { return s.Priority == 0 && s.At.Equal(gone) }) {
			t.Error("no priority 0 advert when the source went")
		}
		if o.state() != vrrp.StateMaster {
			t.Errorf("the other router is %v, want MASTER", o.state())
		}

		m.host.AddOwn("eth1", m.addr)
		back := time.Now()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, o, m)
		want := []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateBackup, vrrp.StateMaster}
		if diff := cmp.Diff(want, m.history()); diff != "" {
			t.Fatalf("history (-want +got):\n%s", diff)
		}
		m.mu.Lock()
		up := m.trans[3]
		m.mu.Unlock()
		if up.Cause.Kind != vrrp.CauseSourceBack || up.Cause.Addr != m.addr || !up.At.Equal(back) {
			t.Errorf("left FAULT %+v, want at once for the source %v", up, m.addr)
		}
		if !slices.ContainsFunc(b.Sent(m.addr), func(s vrrptest.Sent) bool { return s.At.After(back) && s.Priority == 150 }) {
			t.Errorf("no advert from %v once it was back", m.addr)
		}
	})
}

// A configured source stays the source when it is deleted, as in
// keepalived: the instance stays as it is.
func TestRouterConfiguredSourceStays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		o := start(t, b, "172.16.0.1", withPrio(100))
		m := start(t, b, "172.16.0.2", func(c *vrrp.Config) {
			c.Priority = 150
			c.UnicastSrc = netip.MustParseAddr("172.16.0.2")
		})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, o, m)
		m.host.AddOwn("eth1", netip.MustParseAddr("172.17.0.2"))
		m.host.DeleteOwn("eth1", m.addr)
		gone := time.Now()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, o, m)
		if h := m.history(); len(h) != 2 {
			t.Errorf("history %v, want BACKUP then MASTER throughout", h)
		}
		if !slices.ContainsFunc(b.Sent(m.addr), func(s vrrptest.Sent) bool { return s.At.After(gone) }) {
			t.Errorf("no advert from %v once deleted", m.addr)
		}
	})
}

// An instance held in FAULT for want of a source stays there when its
// interface comes back up or its tracking recovers, and leaves it only
// once nothing holds it.
func TestMachineNoSourceHoldsFault(t *testing.T) {
	at := time.Unix(1000, 0)
	cfg := baseConfig()
	m, err := vrrp.NewMachine(cfg, netip.MustParseAddr("172.16.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddr("172.16.0.2")
	steps := []struct {
		ev   vrrp.Event
		want vrrp.State
	}{
		{vrrp.Event{Kind: vrrp.EventStart}, vrrp.StateBackup},
		{vrrp.Event{Kind: vrrp.EventLink, Interface: "eth1", Up: false}, vrrp.StateFault},
		{vrrp.Event{Kind: vrrp.EventSource, Interface: "eth1", Addr: src}, vrrp.StateFault},
		{vrrp.Event{Kind: vrrp.EventLink, Interface: "eth1", Up: true}, vrrp.StateFault},
		{vrrp.Event{Kind: vrrp.EventTrack, Fault: true}, vrrp.StateFault},
		{vrrp.Event{Kind: vrrp.EventTrack, Fault: false}, vrrp.StateFault},
		{vrrp.Event{Kind: vrrp.EventSource, Interface: "eth1", Addr: src, Up: true}, vrrp.StateBackup},
	}
	for i, s := range steps {
		s.ev.Now = at.Add(time.Duration(i) * time.Second)
		m.Step(s.ev)
		if got := m.State(); got != s.want {
			t.Fatalf("step %d (%+v): %v, want %v", i, s.ev, got, s.want)
		}
	}
}

// An instance whose interface has no address at start is FAULT until
// one is added, as keepalived's "no IPv4 address for interface".
func TestRouterStartsWithoutAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		addr := netip.MustParseAddr("172.16.0.2")
		host := vrrptest.NewHost(addr)
		host.SetOwn("eth1")
		var mu sync.Mutex
		var trans []vrrp.Transition
		cfg := baseConfig()
		cfg.Priority, cfg.Version = 150, vrrp.Version3
		r, err := vrrp.New([]vrrp.Config{cfg}, b.Port(addr), host, &vrrp.Options{OnTransition: func(tr vrrp.Transition) {
			mu.Lock()
			trans = append(trans, tr)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		mu.Lock()
		got := slices.Clone(trans)
		mu.Unlock()
		if len(got) != 1 || got[0].To != vrrp.StateFault || got[0].Cause.Kind != vrrp.CauseNoSource || got[0].Cause.Interface != "eth1" {
			t.Fatalf("transitions %+v, want FAULT for want of a source", got)
		}
		if got[0].Cause.String() != "no address on eth1 to send from" {
			t.Errorf("cause %q", got[0].Cause)
		}
		if len(b.Sent(addr)) != 0 || host.HasVIP("eth0") {
			t.Errorf("FAULT: sent %d adverts, VIP present %v", len(b.Sent(addr)), host.HasVIP("eth0"))
		}
		host.AddOwn("eth1", addr)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var states []vrrp.State
		for _, tr := range trans {
			states = append(states, tr.To)
		}
		if diff := cmp.Diff([]vrrp.State{vrrp.StateFault, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateStopped}, states); diff != "" {
			t.Errorf("states (-want +got):\n%s", diff)
		}
		sent := b.Sent(addr)
		if len(sent) == 0 || sent[0].Priority != 150 {
			t.Errorf("adverts from %v once it was added: %+v", addr, sent)
		}
	})
}
