package vrrp_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

// dualNode runs an IPv4 and an IPv6 VRRPv3 instance, both VRID 1, in one
// Router over one Port.
type dualNode struct {
	host *vrrptest.Host
	r    *vrrp.Router
	mu   sync.Mutex
	last map[bool]vrrp.State // by IPv6
}

func startDual(t *testing.T, b *vrrptest.Bus, v4, v6 string, prio4, prio6 uint8) (*dualNode, context.CancelFunc, chan error) {
	t.Helper()
	a4, a6 := netip.MustParseAddr(v4), netip.MustParseAddr(v6)
	n := &dualNode{host: vrrptest.NewHost(a4, a6), last: map[bool]vrrp.State{}}
	c4 := vrrp.Config{Name: "v4", Interface: "eth1", VRID: 1, Priority: prio4, Version: 3, AdvertInterval: 10 * time.Millisecond,
		VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}, VIPInterface: "eth0"}
	c6 := vrrp.Config{Name: "v6", Interface: "eth1", VRID: 1, Priority: prio6, AdvertInterval: 10 * time.Millisecond,
		VIPs: []netip.Prefix{netip.MustParsePrefix("fd00::100/64")}, VIPInterface: "eth0"}
	r, err := vrrp.New([]vrrp.Config{c4, c6}, b.Port(a4, a6), n.host, &vrrp.Options{OnTransition: func(tr vrrp.Transition) {
		n.mu.Lock()
		n.last[tr.Instance == "v6"] = tr.To
		n.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	n.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return n, cancel, done
}

func (n *dualNode) state(ipv6 bool) vrrp.State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last[ipv6]
}

// IPv4 and IPv6 instances with the same VRID share a Router and a Port;
// each family elects on its own (VRID spaces are separate), the adverts
// of one never count for the other, and the IPv6 ones go from the
// link-local address to ff02::12.
func TestRouterV3MixedFamilies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		// Node A wins IPv4, node B wins IPv6.
		a, stopA, doneA := startDual(t, b, "172.16.0.1", "fe80::1", 150, 100)
		bn, stopB, doneB := startDual(t, b, "172.16.0.2", "fe80::2", 100, 150)
		time.Sleep(2 * time.Second)
		want := map[string]vrrp.State{
			"A v4": vrrp.StateMaster, "A v6": vrrp.StateBackup,
			"B v4": vrrp.StateBackup, "B v6": vrrp.StateMaster,
		}
		got := map[string]vrrp.State{
			"A v4": a.state(false), "A v6": a.state(true),
			"B v4": bn.state(false), "B v6": bn.state(true),
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %v, want %v", k, got[k], w)
			}
		}
		if vs := a.host.VIPs("eth0"); len(vs) != 1 || !vs[0].Addr().Is4() {
			t.Errorf("A's VIPs %v, want the IPv4 one only", vs)
		}
		if vs := bn.host.VIPs("eth0"); len(vs) != 1 || !vs[0].Addr().Is6() {
			t.Errorf("B's VIPs %v, want the IPv6 one only", vs)
		}
		for _, s := range b.Sent(netip.MustParseAddr("fe80::2")) {
			if s.Dst != vrrp.MulticastGroup6 {
				t.Errorf("IPv6 advert to %v, want ff02::12", s.Dst)
			}
		}
		if n := len(b.Sent(netip.MustParseAddr("fe80::2"))); n < 150 {
			t.Errorf("%d IPv6 adverts from B in 2 s at 10 ms, want about 200", n)
		}
		for _, n := range []*dualNode{a, bn} {
			for _, st := range n.r.Stats().Instances {
				if st.DroppedTotal() != 0 {
					t.Errorf("%s: drops %v", st.Instance, st.Dropped)
				}
			}
		}
		stopA()
		stopB()
		<-doneA
		<-doneB
		a.r.Close()
		bn.r.Close()
	})
}

// Two instances of one family and VRID are refused; of two families not.
func TestNewV3VRIDPerFamily(t *testing.T) {
	c4 := vrrp.Config{Interface: "eth1", VRID: 1, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}}
	c6 := vrrp.Config{Interface: "eth1", VRID: 1, VIPs: []netip.Prefix{netip.MustParsePrefix("fd00::100/64")}}
	c6b := c6
	c6b.Name = "other"
	h := vrrptest.NewHost(netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("fe80::1"))
	p := vrrptest.NewBus().Port(netip.MustParseAddr("172.16.0.1"))
	if _, err := vrrp.New([]vrrp.Config{c4, c6}, p, h, nil); err != nil {
		t.Errorf("IPv4 and IPv6 VRID 1: %v", err)
	}
	if _, err := vrrp.New([]vrrp.Config{c6, c6b}, p, h, nil); err == nil {
		t.Errorf("two IPv6 VRID 1: no error")
	}
}
