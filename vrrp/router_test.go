package vrrp_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

var (
	local = netip.MustParseAddr("172.16.0.1")
	vip   = netip.MustParsePrefix("192.168.0.100/24")
)

func baseConfig() vrrp.Config {
	return vrrp.Config{Interface: "eth1", VRID: 1, Priority: 100, VIPs: []netip.Prefix{vip}, VIPInterface: "eth0"}
}

type node struct {
	addr   netip.Addr
	port   *vrrptest.Port
	host   *vrrptest.Host
	r      *vrrp.Router
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	trans  []vrrp.Transition
	lowers []vrrp.LowerPriority // adverts of lower priority heard as MASTER
}

func start(t *testing.T, b *vrrptest.Bus, addr string, edit func(*vrrp.Config)) *node {
	t.Helper()
	n := &node{addr: netip.MustParseAddr(addr), done: make(chan error, 1)}
	n.port = b.Port(n.addr)
	n.host = vrrptest.NewHost(n.addr)
	cfg := baseConfig()
	if edit != nil {
		edit(&cfg)
	}
	r, err := vrrp.New([]vrrp.Config{cfg}, n.port, n.host, &vrrp.Options{OnTransition: func(tr vrrp.Transition) {
		n.mu.Lock()
		n.trans = append(n.trans, tr)
		n.mu.Unlock()
	}, OnLowerPriority: func(l vrrp.LowerPriority) {
		n.mu.Lock()
		n.lowers = append(n.lowers, l)
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

// stop shuts the node down gracefully and waits for Run to return.
func (n *node) stop() {
	n.cancel()
	if err := <-n.done; err != nil {
		panic(err)
	}
	n.done <- nil // later stops return at once
	n.r.Close()
}

func (n *node) state() vrrp.State {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.trans) == 0 {
		return vrrp.StateInit
	}
	return n.trans[len(n.trans)-1].To
}

func (n *node) last() vrrp.Transition {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.trans[len(n.trans)-1]
}

func (n *node) history() []vrrp.State {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s []vrrp.State
	for _, t := range n.trans {
		s = append(s, t.To)
	}
	return s
}

func withPrio(p uint8) func(*vrrp.Config) { return func(c *vrrp.Config) { c.Priority = p } }

// checkOneMaster checks that exactly want is MASTER with the VIP, the
// others BACKUP without it.
func checkOneMaster(t *testing.T, want *node, all ...*node) {
	t.Helper()
	for _, n := range all {
		wantState := vrrp.StateBackup
		if n == want {
			wantState = vrrp.StateMaster
		}
		if got := n.state(); got != wantState {
			t.Errorf("%v: state %v, want %v (history %v)", n.addr, got, wantState, n.history())
		}
		if got := n.host.HasVIP("eth0"); got != (n == want) {
			t.Errorf("%v: VIP present = %v, want %v", n.addr, got, n == want)
		}
	}
}

func TestRouterElectsHighestOfThree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		t0 := time.Now()
		a := start(t, b, "172.16.0.1", withPrio(100))
		c := start(t, b, "172.16.0.3", withPrio(120))
		m := start(t, b, "172.16.0.2", withPrio(150))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, a, c, m)
		// The highest priority has the shortest Master_Down_Interval and wins
		// exactly when it expires; the others hear it in time.
		if got, want := m.last().At.Sub(t0), vrrp.MasterDownInterval(time.Second, 150); got != want {
			t.Errorf("master elected after %v, want Master_Down_Interval %v", got, want)
		}
		for _, n := range []*node{a, c} {
			if diff := cmp.Diff([]vrrp.State{vrrp.StateBackup}, n.history()); diff != "" {
				t.Errorf("%v history (-want +got):\n%s", n.addr, diff)
			}
		}
		// Two bursts of 5: at the takeover and garp_delay (5 s) later.
		elected := m.last().At
		var wantGARP []time.Time
		for _, at := range []time.Time{elected, elected.Add(5 * time.Second)} {
			for range 5 {
				wantGARP = append(wantGARP, at)
			}
		}
		if diff := cmp.Diff(wantGARP, m.host.GARPs()); diff != "" {
			t.Errorf("gratuitous ARPs (-want +got):\n%s", diff)
		}
		st := m.r.Stats().Instances[0]
		if st.State != vrrp.StateMaster || st.BecameMaster != 1 || st.GARPSent != 10 || st.AdvertsSent < 6 {
			t.Errorf("master stats %+v", st)
		}
		if st := a.r.Stats().Instances[0]; st.AdvertsReceived < 6 || st.DroppedTotal() != 0 || st.AdvertsSent != 0 {
			t.Errorf("backup stats %+v", st)
		}
	})
}

func TestRouterGracefulStopHandsOverAfterSkewTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(100))
		c := start(t, b, "172.16.0.3", withPrio(120))
		m := start(t, b, "172.16.0.2", withPrio(150))
		time.Sleep(10 * time.Second)
		stopAt := time.Now()
		m.stop()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		checkOneMaster(t, c, a, c)
		if m.state() != vrrp.StateStopped || m.host.HasVIP("eth0") {
			t.Errorf("stopped node: state %v, VIP %v", m.state(), m.host.HasVIP("eth0"))
		}
		ads := b.Sent(m.addr)
		if last := ads[len(ads)-1]; last.Priority != 0 || !last.At.Equal(stopAt) {
			t.Errorf("last advert of the stopped master: %+v, want priority 0 at the stop", last)
		}
		tr := c.last()
		want := vrrp.Transition{Instance: "VI_1", VRID: 1, Priority: 120, From: vrrp.StateBackup, To: vrrp.StateMaster,
			Cause: vrrp.Cause{Kind: vrrp.CausePriorityZero, From: m.addr}, At: stopAt.Add(vrrp.SkewTime(120))}
		if diff := cmp.Diff(want, tr, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("takeover (-want +got):\n%s", diff)
		}
	})
}

func TestRouterAbruptFailureHandsOverAfterMasterDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(100))
		c := start(t, b, "172.16.0.3", withPrio(120))
		m := start(t, b, "172.16.0.2", withPrio(150))
		time.Sleep(10*time.Second + 100*time.Millisecond)
		b.SetGroup(m.port, 1) // the master's cable is cut
		ads := b.Sent(m.addr)
		lastHeard := ads[len(ads)-1].At
		time.Sleep(10 * time.Second)
		synctest.Wait()
		checkOneMaster(t, c, a, c)
		if got, want := c.last().At, lastHeard.Add(vrrp.MasterDownInterval(time.Second, 120)); !got.Equal(want) {
			t.Errorf("takeover at %v after the last advert, want Master_Down_Interval %v", got.Sub(lastHeard), want.Sub(lastHeard))
		}
		if got := c.last().Cause; got.Kind != vrrp.CauseMasterDown {
			t.Errorf("cause %v, want master down", got)
		}
		// Heal: the isolated master (higher priority) takes the role back
		// and the interim master yields at once.
		healAt := time.Now()
		b.SetGroup(m.port, 0)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, a, c, m)
		if got := c.last(); got.Cause.Kind != vrrp.CauseHigherPriority || got.At.Sub(healAt) > time.Second {
			t.Errorf("interim master yielded %v after heal (%v), want within one advert interval", got.At.Sub(healAt), got.Cause)
		}
	})
}

func TestRouterPartitionAndHeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(100))
		c := start(t, b, "172.16.0.3", withPrio(120))
		m := start(t, b, "172.16.0.2", withPrio(150))
		time.Sleep(5 * time.Second)
		// {m, a} | {c}: c becomes master on its side.
		b.SetGroup(c.port, 1)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if m.state() != vrrp.StateMaster || c.state() != vrrp.StateMaster || a.state() != vrrp.StateBackup {
			t.Fatalf("partitioned: states m=%v c=%v a=%v, want MASTER MASTER BACKUP", m.state(), c.state(), a.state())
		}
		// Two masters meet again: the lower one yields as soon as either
		// speaks, because the higher one answers the lower one at once.
		healAt := time.Now()
		b.SetGroup(c.port, 0)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, a, c, m)
		firstAfter := func(n *node) time.Time {
			for _, ad := range b.Sent(n.addr) {
				if !ad.At.Before(healAt) {
					return ad.At
				}
			}
			return healAt.Add(time.Hour)
		}
		fm, fc := firstAfter(m), firstAfter(c)
		want := min(fm.UnixNano(), fc.UnixNano())
		if got := c.last().At.UnixNano(); got != want {
			t.Errorf("c yielded %v after heal, want at the first advert after heal (%v)", time.Duration(got-healAt.UnixNano()), time.Duration(want-healAt.UnixNano()))
		}
		if diff := cmp.Diff([]vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateBackup}, c.history()); diff != "" {
			t.Errorf("c history (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]vrrp.State{vrrp.StateBackup, vrrp.StateMaster}, m.history()); diff != "" {
			t.Errorf("m history (-want +got):\n%s", diff)
		}
		// m, the MASTER that stayed, reported c's adverts of lower
		// priority (keepalived's notify_master_rx_lower_pri); nobody else
		// did.
		m.mu.Lock()
		lowers := slices.Clone(m.lowers)
		m.mu.Unlock()
		if len(lowers) == 0 {
			t.Error("m reported no advert of lower priority after the heal")
		}
		for _, l := range lowers {
			if want := (vrrp.LowerPriority{Instance: "VI_1", VRID: 1, Priority: 150, Heard: 120, From: c.addr, At: l.At}); l != want || l.At.Before(healAt) {
				t.Errorf("m reported %+v, want %+v after the heal at %v", l, want, healAt)
			}
		}
		for _, n := range []*node{a, c} {
			n.mu.Lock()
			if len(n.lowers) > 0 {
				t.Errorf("%v reported %+v, want nothing", n.addr, n.lowers)
			}
			n.mu.Unlock()
		}
	})
}

func TestRouterFlappingLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(100))
		m := start(t, b, "172.16.0.2", withPrio(150))
		time.Sleep(5 * time.Second)
		// The master's cable flaps: 5 s off, 5 s on, 4 times.
		for range 4 {
			b.SetGroup(m.port, 1)
			time.Sleep(5 * time.Second)
			synctest.Wait()
			if a.state() != vrrp.StateMaster || m.state() != vrrp.StateMaster {
				t.Fatalf("cut: a=%v m=%v, want both MASTER", a.state(), m.state())
			}
			b.SetGroup(m.port, 0)
			time.Sleep(5 * time.Second)
			synctest.Wait()
			checkOneMaster(t, m, a, m)
		}
		want := []vrrp.State{vrrp.StateBackup}
		for range 4 {
			want = append(want, vrrp.StateMaster, vrrp.StateBackup)
		}
		if diff := cmp.Diff(want, a.history()); diff != "" {
			t.Errorf("a history (-want +got):\n%s", diff)
		}
		if st := a.r.Stats().Instances[0]; st.BecameMaster != 4 || st.Transitions != 9 {
			t.Errorf("a stats: BecameMaster %d Transitions %d, want 4 and 9", st.BecameMaster, st.Transitions)
		}
		// Short glitches below Master_Down_Interval change nothing.
		for range 5 {
			b.SetGroup(m.port, 1)
			time.Sleep(2 * time.Second)
			b.SetGroup(m.port, 0)
			time.Sleep(2 * time.Second)
		}
		synctest.Wait()
		if got := len(a.history()); got != len(want) {
			t.Errorf("glitches caused transitions: %v", a.history()[len(want):])
		}
	})
}

func TestRouterNoPreempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		low := start(t, b, "172.16.0.1", func(c *vrrp.Config) { c.Priority = 100; c.NoPreempt = true })
		time.Sleep(5 * time.Second)
		high := start(t, b, "172.16.0.2", func(c *vrrp.Config) { c.Priority = 150; c.NoPreempt = true })
		time.Sleep(20 * time.Second)
		synctest.Wait()
		checkOneMaster(t, low, low, high)
	})
}

func TestRouterPreemptsByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		low := start(t, b, "172.16.0.1", withPrio(100))
		time.Sleep(5 * time.Second)
		joined := time.Now()
		high := start(t, b, "172.16.0.2", withPrio(150))
		time.Sleep(20 * time.Second)
		synctest.Wait()
		checkOneMaster(t, high, low, high)
		if got, want := high.last().At.Sub(joined), vrrp.MasterDownInterval(time.Second, 150); got != want {
			t.Errorf("preempted after %v, want %v", got, want)
		}
		if got := high.last().Cause; got.Kind != vrrp.CausePreempt || got.Priority != 100 {
			t.Errorf("cause %v, want preempting priority 100", got)
		}
	})
}

func TestRouterUnicast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", func(c *vrrp.Config) { c.UnicastPeers = []netip.Addr{netip.MustParseAddr("172.16.0.2")} })
		m := start(t, b, "172.16.0.2", func(c *vrrp.Config) {
			c.Priority = 150
			c.UnicastSrc = netip.MustParseAddr("172.16.0.2")
			c.UnicastPeers = []netip.Addr{netip.MustParseAddr("172.16.0.1")}
		})
		// A stranger multicasting a higher priority is not a peer.
		stranger := start(t, b, "172.16.0.9", withPrio(200))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if a.state() != vrrp.StateBackup || m.state() != vrrp.StateMaster {
			t.Fatalf("a=%v m=%v, want BACKUP MASTER", a.state(), m.state())
		}
		for _, ad := range b.Sent(m.addr) {
			if ad.Dst != a.addr {
				t.Fatalf("unicast advert sent to %v, want %v", ad.Dst, a.addr)
			}
		}
		if got := m.r.Stats().Instances[0].Dropped[vrrp.ReasonPeer]; got == 0 {
			t.Errorf("adverts of a non-peer not counted as dropped")
		}
		_ = stranger
	})
}

func TestRouterTrackedInterfaceFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(100))
		m := start(t, b, "172.16.0.2", func(c *vrrp.Config) { c.Priority = 150; c.TrackInterfaces = []string{"eth0"} })
		time.Sleep(5 * time.Second)
		downAt := time.Now()
		m.host.SetLink("eth0", false)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if m.state() != vrrp.StateFault || m.host.HasVIP("eth0") {
			t.Fatalf("m state %v VIP %v, want FAULT without VIP", m.state(), m.host.HasVIP("eth0"))
		}
		if got := m.last().Cause.String(); got != "interface eth0 down" {
			t.Errorf("cause %q", got)
		}
		checkOneMaster(t, a, a)
		if got, want := a.last().At, downAt.Add(vrrp.SkewTime(100)); !got.Equal(want) {
			t.Errorf("a took over %v after the fault, want Skew_Time %v", got.Sub(downAt), vrrp.SkewTime(100))
		}
		m.host.SetLink("eth0", true)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		checkOneMaster(t, m, a, m)
		if diff := cmp.Diff([]vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateBackup, vrrp.StateMaster}, m.history()); diff != "" {
			t.Errorf("m history (-want +got):\n%s", diff)
		}
	})
}

func TestRouterSeveralInstances(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		mk := func(addr string, p1, p2 uint8) (*node, *vrrptest.Host) {
			n := &node{addr: netip.MustParseAddr(addr), done: make(chan error, 1)}
			n.port = b.Port(n.addr)
			n.host = vrrptest.NewHost(n.addr)
			c1, c2 := baseConfig(), baseConfig()
			c1.Priority, c2.Priority = p1, p2
			c2.VRID, c2.VIPInterface, c2.VIPs = 2, "eth2", []netip.Prefix{netip.MustParsePrefix("192.168.0.200/24")}
			r, err := vrrp.New([]vrrp.Config{c1, c2}, n.port, n.host, nil)
			if err != nil {
				t.Fatal(err)
			}
			n.r = r
			ctx, cancel := context.WithCancel(context.Background())
			n.cancel = cancel
			go func() { n.done <- r.Run(ctx) }()
			t.Cleanup(n.stop)
			return n, n.host
		}
		x, hx := mk("172.16.0.1", 150, 100)
		y, hy := mk("172.16.0.2", 100, 150)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if !hx.HasVIP("eth0") || hx.HasVIP("eth2") || hy.HasVIP("eth0") || !hy.HasVIP("eth2") {
			t.Errorf("VIPs: x eth0=%v eth2=%v, y eth0=%v eth2=%v; want each master of one VRID",
				hx.HasVIP("eth0"), hx.HasVIP("eth2"), hy.HasVIP("eth0"), hy.HasVIP("eth2"))
		}
		sx := x.r.Stats()
		if sx.Instances[0].State != vrrp.StateMaster || sx.Instances[1].State != vrrp.StateBackup || sx.Unmatched != 0 {
			t.Errorf("x stats %+v", sx)
		}
		if sy := y.r.Stats(); sy.Instances[1].State != vrrp.StateMaster || sy.Instances[0].DroppedTotal() != 0 {
			t.Errorf("y stats %+v", sy)
		}
	})
}

func TestNewRejectsBadInstances(t *testing.T) {
	h := vrrptest.NewHost(local)
	other := baseConfig()
	other.Interface = "eth9"
	for name, cfgs := range map[string][]vrrp.Config{
		"none":            nil,
		"duplicate VRID":  {baseConfig(), baseConfig()},
		"other interface": {baseConfig(), func() vrrp.Config { c := other; c.VRID = 2; return c }()},
		"invalid":         {{Interface: "eth1"}},
	} {
		if _, err := vrrp.New(cfgs, vrrptest.NewBus().Port(local), h, nil); err == nil {
			t.Errorf("%s: vrrp.New accepted %+v", name, cfgs)
		}
	}
}

// failingConn fails reads after a while, as a socket whose interface
// vanished would.
type failingConn struct {
	*vrrptest.Port
	fail, closed chan struct{}
}

func (c *failingConn) ReadFrom(b []byte) (int, vrrp.PacketInfo, error) {
	select {
	case <-c.fail:
		return 0, vrrp.PacketInfo{}, errors.New("interface gone")
	case <-c.closed:
		return 0, vrrp.PacketInfo{}, net.ErrClosed
	}
}

func (c *failingConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return c.Port.Close()
}

func TestRouterRunReturnsReadErrorsAfterStopping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		c := &failingConn{Port: b.Port(local), fail: make(chan struct{}), closed: make(chan struct{})}
		h := vrrptest.NewHost(local)
		var got []vrrp.Transition
		cfg := baseConfig()
		cfg.Priority = 255
		r, err := vrrp.New([]vrrp.Config{cfg}, c, h, &vrrp.Options{OnTransition: func(tr vrrp.Transition) { got = append(got, tr) }})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()
		time.Sleep(2 * time.Second)
		close(c.fail)
		err = <-done
		if err == nil || !strings.Contains(err.Error(), "interface gone") {
			t.Fatalf("Run error %v, want the read error", err)
		}
		if len(got) != 2 || got[1].To != vrrp.StateStopped || h.HasVIP("eth0") {
			t.Errorf("transitions %+v, VIP %v; want MASTER then STOP without the VIP", got, h.HasVIP("eth0"))
		}
		if err := r.Run(context.Background()); err == nil {
			t.Errorf("second Run succeeded")
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// TestRouterPacesGARPs: with GARPInterval the gratuitous ARPs of a burst go
// one per interval on the VIP interface (keepalived's vrrp_garp_interval),
// and those of an instance that leaves MASTER are not sent.
func TestRouterPacesGARPs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		paced := func(c *vrrp.Config) {
			c.Priority = 150
			c.GARPInterval = 100 * time.Millisecond
			c.GARPRepeat = 3
			c.GARPDelay = -1
			c.VIPs = append(c.VIPs, netip.MustParsePrefix("192.168.0.101/24"))
		}
		m := start(t, b, "172.16.0.2", paced)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		elected := m.last().At
		var want []time.Time
		for i := range 6 { // 3 per VIP
			want = append(want, elected.Add(time.Duration(i)*100*time.Millisecond))
		}
		if diff := cmp.Diff(want, m.host.GARPs()); diff != "" {
			t.Errorf("gratuitous ARPs (-want +got):\n%s", diff)
		}
		if st := m.r.Stats().Instances[0]; st.GARPSent != 6 {
			t.Errorf("GARPSent %d, want 6", st.GARPSent)
		}
		// A higher priority takes over in the middle of a slower burst:
		// the rest of it is not sent.
		b2 := vrrptest.NewBus()
		slow := start(t, b2, "172.16.0.2", func(c *vrrp.Config) {
			paced(c)
			c.GARPInterval = 2 * time.Second
		})
		time.Sleep(5 * time.Second) // MASTER after about 3 s, 1 frame sent
		start(t, b2, "172.16.0.3", func(c *vrrp.Config) {
			paced(c)
			c.Priority, c.GARPInterval = 200, 0
		})
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := slow.history(); len(got) != 3 || got[2] != vrrp.StateBackup {
			t.Fatalf("slow master's history %v, want BACKUP, MASTER, BACKUP", got)
		}
		yielded := slow.last().At
		for _, at := range slow.host.GARPs() {
			if at.After(yielded) {
				t.Errorf("gratuitous ARP at %v, after yielding at %v", at, yielded)
			}
		}
		if got := len(slow.host.GARPs()); got == 0 || got >= 6 {
			t.Errorf("slow master sent %d of its 6 gratuitous ARPs, want some, not all", got)
		}
	})
}

// The advert interface is tracked unless DontTrackPrimary (keepalived's
// dont_track_primary).
func TestRouterDontTrackPrimary(t *testing.T) {
	for _, dont := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			b := vrrptest.NewBus()
			m := start(t, b, "172.16.0.2", func(c *vrrp.Config) { c.Priority = 150; c.DontTrackPrimary = dont })
			time.Sleep(5 * time.Second)
			m.host.SetLink("eth1", false)
			time.Sleep(time.Second)
			synctest.Wait()
			want := vrrp.StateFault
			if dont {
				want = vrrp.StateMaster
			}
			if got := m.state(); got != want {
				t.Errorf("dont_track_primary %v: eth1 down: state %v, want %v", dont, got, want)
			}
		})
	}
}
