package vrrp_test

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

// startAwaiting runs one instance VI_1 whose tracked state comes from the
// test (Options.AwaitTracking).
func startAwaiting(t *testing.T, b *vrrptest.Bus, addr string, await []string) *node {
	t.Helper()
	n := &node{addr: netip.MustParseAddr(addr), done: make(chan error, 1)}
	n.port = b.Port(n.addr)
	n.host = vrrptest.NewHost(n.addr)
	cfg := baseConfig()
	cfg.Name = "VI_1"
	r, err := vrrp.New([]vrrp.Config{cfg}, n.port, n.host, &vrrp.Options{AwaitTracking: await, OnTransition: func(tr vrrp.Transition) {
		n.mu.Lock()
		n.trans = append(n.trans, tr)
		n.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	n.r = r
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.done <- r.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

// An instance whose tracker says FAULT at start goes from INIT straight
// to FAULT, as keepalived's "Entering FAULT STATE (init)": it never
// advertises, never holds the VIP; when the tracker clears it, it starts
// as an instance does.
func TestRouterStartsInFaultWhenTrackerSaysSo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		n := startAwaiting(t, b, "172.16.0.1", []string{"VI_1", "not-here"})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := n.history(); len(got) != 0 {
			t.Fatalf("started before its tracked state was given: %v", got)
		}
		if err := n.r.SetTracking(context.Background(), "VI_1", 0, true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff([]vrrp.State{vrrp.StateFault}, n.history()); diff != "" {
			t.Fatalf("history (-want +got):\n%s", diff)
		}
		tr := n.last()
		if tr.From != vrrp.StateInit || tr.Cause.Kind != vrrp.CauseTrackFault {
			t.Errorf("first transition %v -> %v (%v), want INIT -> FAULT by tracking", tr.From, tr.To, tr.Cause)
		}
		if sent := b.Sent(n.addr); len(sent) != 0 || n.host.HasVIP("eth0") {
			t.Errorf("in FAULT: %d adverts sent, VIP %v; want none", len(sent), n.host.HasVIP("eth0"))
		}
		if err := n.r.SetTracking(context.Background(), "VI_1", 0, false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff([]vrrp.State{vrrp.StateFault, vrrp.StateBackup, vrrp.StateMaster}, n.history()); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}

// A weighted priority given before the start is the one the instance
// starts with: its first advert carries it.
func TestRouterStartsWithTrackedPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		n := startAwaiting(t, b, "172.16.0.1", []string{"VI_1"})
		if err := n.r.SetTracking(context.Background(), "VI_1", 80, false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		sent := b.Sent(n.addr)
		if len(sent) == 0 {
			t.Fatal("no advert sent")
		}
		if sent[0].Priority != 80 {
			t.Errorf("first advert priority %d, want 80", sent[0].Priority)
		}
	})
}

// Without its tracked state an instance still starts, after
// AwaitTrackingLimit, and a Router not told to wait starts at once.
func TestRouterAwaitTrackingIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		start := time.Now()
		n := startAwaiting(t, b, "172.16.0.1", []string{"VI_1"})
		m := startAwaiting(t, b, "172.16.0.2", nil)
		time.Sleep(vrrp.AwaitTrackingLimit + time.Second)
		synctest.Wait()
		if got := n.history(); len(got) == 0 || n.trans[0].At.Sub(start) != vrrp.AwaitTrackingLimit {
			t.Errorf("history %v, want a start %v after Run", got, vrrp.AwaitTrackingLimit)
		}
		if got := m.history(); len(got) == 0 || !m.trans[0].At.Equal(start) {
			t.Errorf("history %v, want a start at once", got)
		}
	})
}
