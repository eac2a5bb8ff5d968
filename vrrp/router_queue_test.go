package vrrp_test

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

// stampedConn is a vrrp.Conn whose packets carry the arrival time the test
// gives them, as a kernel receive timestamp does. Writes are dropped.
type stampedConn struct {
	in   chan stamped
	done chan struct{}
	once sync.Once
}

type stamped struct {
	data []byte
	info vrrp.PacketInfo
}

func newStampedConn() *stampedConn {
	return &stampedConn{in: make(chan stamped), done: make(chan struct{})}
}

func (c *stampedConn) ReadFrom(b []byte) (int, vrrp.PacketInfo, error) {
	select {
	case p := <-c.in:
		return copy(b, p.data), p.info, nil
	case <-c.done:
		return 0, vrrp.PacketInfo{}, net.ErrClosed
	}
}

func (c *stampedConn) WriteTo([]byte, netip.Addr, netip.Addr) error { return nil }

func (c *stampedConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// TestRouterCountsAQueuedAdvertBeforeItsTimer holds the Router's loop (in
// its OnTransition) past the BACKUP's Master_Down deadline while a
// higher-priority advert that arrived before the deadline is queued, as
// when the process is descheduled with both ready. On its next turn the
// loop finds the timer and the advert ready at once; the advert must count
// first, restarting the timer from its arrival, whichever case select
// picks: no transition to MASTER. Without that rule a round that picks
// the timer takes over; twenty rounds make that all but certain.
func TestRouterCountsAQueuedAdvertBeforeItsTimer(t *testing.T) {
	peer := netip.MustParseAddr("172.16.0.2")
	ad := vrrp.Advert{VRID: 1, Priority: 150, AuthType: vrrp.AuthNone, Interval: time.Second, Addrs: []netip.Addr{vip.Addr()}}
	data, err := ad.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		synctest.Test(t, func(t *testing.T) {
			conn := newStampedConn()
			held := make(chan struct{})
			release := make(chan struct{})
			var mu sync.Mutex
			var states []vrrp.State
			r, err := vrrp.New([]vrrp.Config{baseConfig()}, conn, vrrptest.NewHost(local), &vrrp.Options{OnTransition: func(tr vrrp.Transition) {
				mu.Lock()
				states = append(states, tr.To)
				first := len(states) == 1
				mu.Unlock()
				if first {
					close(held)
					<-release
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- r.Run(ctx) }()
			<-held // INIT -> BACKUP, the loop held in its callback
			down := vrrp.MasterDownInterval(time.Second, 100)
			time.Sleep(down + 10*time.Millisecond)
			conn.in <- stamped{data, vrrp.PacketInfo{Src: peer, Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, At: start.Add(down - 10*time.Millisecond)}}
			synctest.Wait() // the reader has queued it
			close(release)
			synctest.Wait()
			mu.Lock()
			got := append([]vrrp.State(nil), states...)
			mu.Unlock()
			if len(got) != 1 || got[0] != vrrp.StateBackup {
				t.Errorf("round %d: transitions %v, want only BACKUP: the advert queued before the deadline did not count first", round, got)
			}
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
			r.Close()
		})
	}
}
