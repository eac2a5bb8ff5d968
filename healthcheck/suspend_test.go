package healthcheck_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
)

// A suspended target runs no attempt and sends no event while its rounds
// pass, keeps its state, and picks up on its schedule once resumed; it
// may be suspended before Run. Unknown names are refused.
func TestMonitorSuspend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var attempts []time.Duration
		start := time.Now()
		checker := healthcheck.CheckerFunc(func(ctx context.Context) healthcheck.Result {
			mu.Lock()
			attempts = append(attempts, time.Since(start))
			mu.Unlock()
			return healthcheck.Result{Reason: "refused"} // down
		})
		m, err := healthcheck.New(&healthcheck.Config{NoSpread: true}, healthcheck.Target{
			Name: "web", Checker: checker, Interval: time.Second, Timeout: 100 * time.Millisecond, Rise: 1, Fall: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Suspend("web", true); err != nil {
			t.Fatal(err)
		}
		if err := m.Suspend("nope", true); !errors.Is(err, healthcheck.ErrUnknownTarget) {
			t.Errorf("Suspend(nope) before Run = %v, want ErrUnknownTarget", err)
		}
		var events []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range m.Events() {
				events = append(events, fmt.Sprintf("%v %s", ev.Time.Sub(start), ev.Kind))
			}
		}()
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error, 1)
		go func() { ran <- m.Run(ctx) }()
		time.Sleep(3500 * time.Millisecond) // rounds 0-3 suspended
		if err := m.Suspend("web", false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // rounds 4 and 5 run
		if err := m.Suspend("web", true); err != nil {
			t.Fatal(err)
		}
		if err := m.Suspend("nope", false); !errors.Is(err, healthcheck.ErrUnknownTarget) {
			t.Errorf("Suspend(nope) while running = %v, want ErrUnknownTarget", err)
		}
		time.Sleep(3 * time.Second) // rounds 6-8 suspended again
		synctest.Wait()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
		<-done
		want := []time.Duration{4 * time.Second, 5 * time.Second}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(attempts) != fmt.Sprint(want) {
			t.Errorf("attempts at %v, want %v (only the rounds while resumed)", attempts, want)
		}
		if want := "[0s up 4s down]"; fmt.Sprint(events) != want {
			t.Errorf("events %v, want %s", events, want)
		}
	})
}
