package agent

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/vrrp"
)

// A stopping node keeps its DNAT rule, refuses the other balancers' checks
// on its real-server ports for as long as their checks take to notice
// (nodeYAML: delay_loop 6 s, TCP_CHECK's one retry after 1 s, a second of
// margin: 9 s), and only then stops nginx and removes the rules.
func TestRunStopDrainsBeforeStoppingNginx(t *testing.T) {
	for _, tc := range []struct {
		name      string
		drain     time.Duration
		wantCalls []string
		wantAfter time.Duration
	}{
		{"computed", 0, []string{"backup", "drain [tcp/80 udp/53]", "undrain", "master", "close"}, 9 * time.Second},
		{"bounded by Options.Drain", 2 * time.Second, []string{"backup", "drain [tcp/80 udp/53]", "undrain", "master", "close"}, 2 * time.Second},
		{"off", -1, []string{"backup", "master", "close"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newTestNode(t)
				n.opts.Drain = tc.drain
				n.start(nodeYAML)
				sleep(5 * time.Second)
				if n.state() != vrrp.StateMaster {
					t.Fatalf("state %v, want MASTER", n.state())
				}
				before := len(n.nat.Calls())
				stopAt := time.Now()
				if err := n.stop(); err != nil {
					t.Fatalf("Run = %v", err)
				}
				if got := n.nat.Calls()[before:]; !cmp.Equal(got, tc.wantCalls) {
					t.Errorf("NAT calls at stop %q, want %q", got, tc.wantCalls)
				}
				n.nginx.mu.Lock()
				took := n.nginx.stoppedAt.Sub(stopAt)
				n.nginx.mu.Unlock()
				if took < tc.wantAfter || took > tc.wantAfter+time.Second {
					t.Errorf("nginx stopped %v after the stop began, want %v", took, tc.wantAfter)
				}
			})
		})
	}
}

func TestDrainPortsAndTime(t *testing.T) {
	cfg := &config.Config{VirtualServers: []config.VirtualServer{
		{Protocol: config.TCP, DelayLoop: 6 * time.Second, RealServers: []config.RealServer{
			{Addr: netip.MustParseAddrPort("172.16.0.1:80"), Checkers: []config.Checker{{Kind: config.TCPCheck, Retry: 1, DelayBeforeRetry: time.Second}}},
			{Addr: netip.MustParseAddrPort("172.16.0.2:80"), DelayLoop: 10 * time.Second, Checkers: []config.Checker{{Kind: config.HTTPGet, ConnectPort: 8080, Retry: 3, DelayBeforeRetry: 3 * time.Second}}},
		}},
		{Protocol: config.UDP, DelayLoop: 6 * time.Second, RealServers: []config.RealServer{
			{Addr: netip.MustParseAddrPort("172.16.0.1:53"), Checkers: []config.Checker{{Kind: config.MiscCheck}}},
		}},
	}}
	want := []nat.Port{{Proto: "tcp", Port: 80}, {Proto: "tcp", Port: 8080}, {Proto: "udp", Port: 53}}
	if got := drainPorts(cfg); !cmp.Equal(got, want) {
		t.Errorf("drainPorts = %v, want %v", got, want)
	}
	// The HTTP check: 10 s loop, 3 retries of 3 s pause and 1 s each, and
	// a second of margin.
	if got, want := drainTime(cfg), 10*time.Second+3*4*time.Second+time.Second; got != want {
		t.Errorf("drainTime = %v, want %v", got, want)
	}
	cfg.VirtualServers[0].RealServers[1].DelayLoop = time.Hour
	if got := drainTime(cfg); got != maxDrain {
		t.Errorf("drainTime with an hour's delay loop = %v, want the bound %v", got, maxDrain)
	}
	if got := drainTime(&config.Config{}); got != 0 {
		t.Errorf("drainTime without virtual servers = %v, want 0", got)
	}
}
