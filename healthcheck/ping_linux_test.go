package healthcheck

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// pingHosts builds lb (10.0.0.1, fd00::1) and srv (10.0.0.2, fd00::2) on
// one bridge and waits until srv answers lb's echo requests on both.
func pingHosts(t *testing.T) (lb, srv *netnstest.NS) {
	netnstest.RequirePrivileged(t)
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	lb, srv = tp.Host("lb"), tp.Host("srv")
	tp.Connect(lb, "eth0", "lan", "10.0.0.1/24", "fd00::1/64")
	tp.Connect(srv, "eth0", "lan", "10.0.0.2/24", "fd00::2/64")
	for _, a := range []string{"10.0.0.2", "fd00::2"} {
		p := &Ping{Addr: netip.MustParseAddr(a), Timeout: 500 * time.Millisecond}
		netnstest.WaitFor(t, a+" answers lb", 20*time.Second, func() bool {
			r, _ := checkIn(t, lb, p)
			return r.Up
		})
	}
	return lb, srv
}

func TestIntegrationPing(t *testing.T) {
	lb, srv := pingHosts(t)
	tests := []struct {
		name string
		addr string
		want resultWant
	}{
		{"IPv4 host answers", "10.0.0.2", resultWant{true, "echo reply"}},
		{"IPv6 host answers", "fd00::2", resultWant{true, "echo reply"}},
		{"absent IPv4 host is down", "10.0.0.3", resultWant{false, "no echo reply within 300ms"}},
		{"absent IPv6 host is down", "fd00::3", resultWant{false, "no echo reply within 300ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := 300 * time.Millisecond // the absent hosts'
			if tt.want.up {
				timeout = 5 * time.Second
			}
			r, _ := checkIn(t, lb, &Ping{Addr: netip.MustParseAddr(tt.addr), Timeout: timeout})
			checkResult(t, r, tt.want)
		})
	}

	// A host that stops answering is down, and up again once it answers.
	srv.Run(t, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
	r, _ := checkIn(t, lb, &Ping{Addr: netip.MustParseAddr("10.0.0.2"), Timeout: 300 * time.Millisecond})
	checkResult(t, r, resultWant{false, "no echo reply"})
	srv.Run(t, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=0")
	r, _ = checkIn(t, lb, &Ping{Addr: netip.MustParseAddr("10.0.0.2"), Timeout: 2 * time.Second})
	checkResult(t, r, resultWant{true, "echo reply"})
}

// TestIntegrationPingSockets checks both kinds of socket: a raw socket
// while the namespace's ping_group_range leaves root's group out (its
// default), a ping socket once it includes it.
func TestIntegrationPingSockets(t *testing.T) {
	lb, _ := pingHosts(t)
	kind := func() bool {
		t.Helper()
		var dgram bool
		if err := lb.Do(func() error {
			c, d, err := listenICMP(false)
			if err == nil {
				c.Close()
			}
			dgram = d
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return dgram
	}
	lb.Run(t, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
	if kind() {
		t.Error("ping socket opened with root's group outside ping_group_range")
	}
	for _, a := range []string{"10.0.0.2", "fd00::2"} {
		r, _ := checkIn(t, lb, &Ping{Addr: netip.MustParseAddr(a), Timeout: 2 * time.Second})
		checkResult(t, r, resultWant{true, "echo reply"})
	}
	lb.Run(t, "sysctl", "-qw", "net.ipv4.ping_group_range=0 0")
	if !kind() {
		t.Error("raw socket opened with root's group inside ping_group_range")
	}
	for _, a := range []string{"10.0.0.2", "fd00::2"} {
		r, _ := checkIn(t, lb, &Ping{Addr: netip.MustParseAddr(a), Timeout: 2 * time.Second})
		checkResult(t, r, resultWant{true, "echo reply"})
	}
}

// TestIntegrationPingCanceled checks that a canceled check ends at once,
// down, well before its timeout.
func TestIntegrationPingCanceled(t *testing.T) {
	lb, _ := pingHosts(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var r Result
	lb.Do(func() error {
		r = (&Ping{Addr: netip.MustParseAddr("10.0.0.3"), Timeout: time.Minute}).Check(ctx)
		return nil
	})
	checkResult(t, r, resultWant{false, "read echo reply canceled"})
}
