package healthcheck_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
)

// record runs m in the current synctest bubble for d of fake time and
// returns its events as "OFFSET TARGET KIND" and its observations, OFFSET
// counted from when Run began.
func record(t *testing.T, cfg healthcheck.Config, d time.Duration, targets ...healthcheck.Target) ([]string, []healthcheck.Observation) {
	t.Helper()
	var mu sync.Mutex
	var obs []healthcheck.Observation
	cfg.Observe = func(o healthcheck.Observation) {
		mu.Lock()
		obs = append(obs, o)
		mu.Unlock()
	}
	m, err := healthcheck.New(&cfg, targets...)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var events []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range m.Events() {
			events = append(events, fmt.Sprintf("%v %s %s", ev.Time.Sub(start), ev.Target, ev.Kind))
		}
	}()
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	time.Sleep(d)
	synctest.Wait()
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	return events, obs
}

// A Monitor runs on synctest's fake clock: rounds begin exactly one
// interval apart, an answer's latency is the fake time the checker took,
// and rise and fall count whole rounds.
func TestMonitorOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Rounds 0-1 up, 2-4 down, 5 on up.
		var n int
		checker := healthcheck.CheckerFunc(func(ctx context.Context) healthcheck.Result {
			i := n
			n++
			time.Sleep(100 * time.Millisecond)
			if i >= 2 && i <= 4 {
				return healthcheck.Result{Reason: fmt.Sprintf("round %d failed", i)}
			}
			return healthcheck.Result{Up: true, Reason: "fine"}
		})
		start := time.Now()
		events, obs := record(t, healthcheck.Config{NoSpread: true}, 14900*time.Millisecond, healthcheck.Target{
			Name: "web", Checker: checker, Interval: 2 * time.Second, Timeout: time.Second, Rise: 2, Fall: 2,
		})
		want := []string{
			"0s web up",     // initial
			"6.1s web down", // second failed round (3) ends
			"12.1s web up",  // second good round (6) ends
		}
		if !slices.Equal(events, want) {
			t.Errorf("events:\n%q\nwant\n%q", events, want)
		}
		if len(obs) != 8 { // rounds at 0, 2, ..., 14s
			t.Fatalf("%d observations in 14.9s at a 2s interval, want 8", len(obs))
		}
		for i, o := range obs {
			due := start.Add(time.Duration(i) * 2 * time.Second)
			if !o.Scheduled.Equal(due) || !o.Started.Equal(due) || o.Latency != 100*time.Millisecond || o.Interval != 2*time.Second || o.Attempt != 1 {
				t.Errorf("observation %d: scheduled %v, started %v, latency %v, interval %v, attempt %d; want all at %v, 100ms, 2s, attempt 1",
					i, o.Scheduled.Sub(start), o.Started.Sub(start), o.Latency, o.Interval, o.Attempt, due.Sub(start))
			}
		}
	})
}

// An attempt's context ends at its deadline, Timeout after it started, on
// the fake clock; a checker that ignores it and answers up late is reported
// as timed out; and neither delays another target's rounds.
func TestMonitorTimeoutsOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type ended struct {
			after time.Duration
			err   error
		}
		var mu sync.Mutex
		var waits []ended
		waiter := healthcheck.CheckerFunc(func(ctx context.Context) healthcheck.Result {
			begin := time.Now()
			dl, ok := ctx.Deadline()
			if !ok || dl.Sub(begin) != 300*time.Millisecond {
				t.Errorf("attempt deadline %v after its start (set %v), want 300ms", dl.Sub(begin), ok)
			}
			<-ctx.Done()
			mu.Lock()
			waits = append(waits, ended{time.Since(begin), ctx.Err()})
			mu.Unlock()
			return healthcheck.Result{Reason: "gave up", Err: ctx.Err()}
		})
		late := healthcheck.CheckerFunc(func(context.Context) healthcheck.Result {
			time.Sleep(700 * time.Millisecond)
			return healthcheck.Result{Up: true, Reason: "answered late"}
		})
		fast := healthcheck.CheckerFunc(func(context.Context) healthcheck.Result {
			return healthcheck.Result{Up: true}
		})
		events, obs := record(t, healthcheck.Config{NoSpread: true}, 4900*time.Millisecond,
			healthcheck.Target{Name: "waiter", Checker: waiter, Interval: time.Second, Timeout: 300 * time.Millisecond},
			healthcheck.Target{Name: "late", Checker: late, Interval: time.Second, Timeout: 500 * time.Millisecond},
			healthcheck.Target{Name: "fast", Checker: fast, Interval: 250 * time.Millisecond},
		)
		want := []string{"0s waiter up", "0s late up", "0s fast up", "300ms waiter down", "700ms late down"}
		if !slices.Equal(events, want) {
			t.Errorf("events:\n%q\nwant\n%q", events, want)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(waits) != 5 {
			t.Errorf("%d attempts of waiter in 4.9s, want 5", len(waits))
		}
		for i, w := range waits {
			if w.after != 300*time.Millisecond || !errors.Is(w.err, context.DeadlineExceeded) {
				t.Errorf("waiter attempt %d ended after %v with %v; want 300ms, deadline exceeded", i, w.after, w.err)
			}
		}
		count := map[string]int{}
		for _, o := range obs {
			count[o.Target]++
			switch o.Target {
			case "waiter":
				if o.Latency != 300*time.Millisecond || o.Result.Up {
					t.Errorf("waiter: %v after %v, want down after 300ms", o.Result, o.Latency)
				}
			case "late":
				if o.Latency != 700*time.Millisecond || o.Result.Up || o.Result.Reason != "timed out after 500ms" {
					t.Errorf("late: %v after %v, want down: timed out after 500ms, after 700ms", o.Result, o.Latency)
				}
			}
		}
		if want := map[string]int{"waiter": 5, "late": 5, "fast": 20}; !maps.Equal(count, want) {
			t.Errorf("attempts per target %v, want %v", count, want)
		}
	})
}
