package healthcheck_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
)

// A TCP check, as keepalived's TCP_CHECK: up while something listens.
func ExampleTCP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	check := &healthcheck.TCP{Addr: netip.MustParseAddrPort(ln.Addr().String()), Timeout: 2 * time.Second}
	fmt.Println(check.Check(context.Background()))
	ln.Close()
	fmt.Println(check.Check(context.Background()))
	// Output:
	// up: connected
	// down: connect: connection refused
}

// A Monitor with one target that fails twice in a row (fall 2).
func ExampleMonitor() {
	calls := 0
	flaky := healthcheck.CheckerFunc(func(ctx context.Context) healthcheck.Result {
		calls++
		if calls >= 2 {
			return healthcheck.Result{Reason: "status 503"}
		}
		return healthcheck.Result{Up: true, Reason: "status 200"}
	})
	m, err := healthcheck.New(&healthcheck.Config{NoSpread: true},
		healthcheck.Target{Name: "web1", Checker: flaky, Interval: 10 * time.Millisecond, Fall: 2})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	for ev := range m.Events() {
		fmt.Println(ev)
		if ev.Kind == healthcheck.EventDown {
			cancel()
		}
	}
	// Output:
	// web1 up (initial): initial state
	// web1 down: status 503
}
