package healthcheck

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scripted returns a checker that answers ups[i] on its i-th call (the last
// one once exhausted), each attempt taking took.
func scripted(took time.Duration, ups ...bool) Checker {
	var n atomic.Int64
	return CheckerFunc(func(ctx context.Context) Result {
		i := int(n.Add(1)) - 1
		select {
		case <-time.After(took):
		case <-ctx.Done():
			return Result{Reason: "canceled"}
		}
		up := ups[min(i, len(ups)-1)]
		return Result{Up: up, Reason: fmt.Sprintf("attempt %d", i+1)}
	})
}

// monitorRun runs a Monitor in a synctest bubble for d, and returns the
// events as "OFFSET TARGET KIND" lines and the observations.
func monitorRun(t *testing.T, cfg Config, d time.Duration, targets ...Target) (events []string, obs []Observation) {
	t.Helper()
	var mu sync.Mutex
	cfg.Observe = func(o Observation) {
		mu.Lock()
		obs = append(obs, o)
		mu.Unlock()
	}
	m, err := New(&cfg, targets...)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range m.Events() {
			events = append(events, fmt.Sprintf("%v %s %s", ev.Time.Sub(start), ev.Target, ev.Kind))
		}
	}()
	go m.Run(ctx)
	time.Sleep(d)
	synctest.Wait()
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return events, obs
}

func TestMonitorRiseFall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, _ := monitorRun(t, Config{NoSpread: true}, 10500*time.Millisecond,
			Target{Name: "web1", Interval: time.Second, Fall: 2, Rise: 3,
				Checker: scripted(10*time.Millisecond, true, false, false, true, true, false, true, true, true, true)},
			Target{Name: "web2", Interval: 2 * time.Second, InitialDown: true,
				Checker: scripted(0, true)},
		)
		want := []string{
			"0s web1 up", "0s web2 down", // initial states
			"0s web2 up",      // rise 1: first success at 0s
			"2.01s web1 down", // failures at 1s and 2s (fall 2)
			"8.01s web1 up",   // successes at 6, 7, 8s (rise 3), the one at 5s was undone
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestMonitorFlappingIsDamped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Alternating results never make two in a row: with rise 2 and
		// fall 2 the target stays up; with fall 1 and rise 1 every round is
		// a transition.
		flap := func() Checker {
			return scripted(0, false, true, false, true, false, true, false, true, false, true)
		}
		got, _ := monitorRun(t, Config{NoSpread: true}, 9500*time.Millisecond,
			Target{Name: "damped", Interval: time.Second, Rise: 2, Fall: 2, Checker: flap()},
			Target{Name: "raw", Interval: time.Second, Checker: flap()},
		)
		want := []string{"0s damped up", "0s raw up",
			"0s raw down", "1s raw up", "2s raw down", "3s raw up", "4s raw down",
			"5s raw up", "6s raw down", "7s raw up", "8s raw down", "9s raw up"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestMonitorRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, obs := monitorRun(t, Config{NoSpread: true}, 12*time.Second,
			Target{Name: "dns1", Interval: 6 * time.Second, Timeout: time.Second, Retries: 2, RetryDelay: 500 * time.Millisecond,
				Checker: scripted(100*time.Millisecond, false, false, true, false, false, false)},
		)
		want := []string{"0s dns1 up", "7.3s dns1 down"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		var attempts []string
		for _, o := range obs {
			attempts = append(attempts, fmt.Sprintf("%d@%v", o.Attempt, o.Started.Sub(obs[0].Started)))
		}
		// Round 1 at 0s: fails, retries 0.6s later (0.1s + 0.5s delay), fails,
		// succeeds at 1.2s. Round 2 at 6s: three failures, down at 7.3s. The
		// attempt started at 12s is canceled by the stop and not observed.
		wantAttempts := []string{"1@0s", "2@600ms", "3@1.2s", "1@6s", "2@6.6s", "3@7.2s"}
		if diff := cmp.Diff(wantAttempts, attempts); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
	})
}

func TestMonitorTimeoutCancelsAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, obs := monitorRun(t, Config{NoSpread: true}, 1500*time.Millisecond,
			Target{Name: "slow", Interval: 5 * time.Second, Timeout: time.Second, Checker: scripted(time.Hour, true)})
		if diff := cmp.Diff([]string{"0s slow up", "1s slow down"}, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if len(obs) != 1 || obs[0].Latency != time.Second {
			t.Errorf("observations = %+v, want one attempt cut at 1s", obs)
		}
	})
}

func TestMonitorWatchdogAndNoBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		frozen := CheckerFunc(func(ctx context.Context) Result {
			<-release // ignores ctx: a frozen checker
			return Result{Reason: "finally"}
		})
		var goodRuns atomic.Int64
		good := CheckerFunc(func(ctx context.Context) Result {
			goodRuns.Add(1)
			return Result{Up: true}
		})
		time.AfterFunc(20*time.Second, func() { close(release) })
		got, _ := monitorRun(t, Config{NoSpread: true, Concurrency: 1}, 25*time.Second,
			Target{Name: "frozen", Interval: time.Second, Timeout: time.Second, Checker: frozen},
			Target{Name: "good", Interval: time.Second, Timeout: time.Second, Checker: good, StallAfter: 10 * time.Second},
		)
		// frozen's StallAfter = 2*1s + 1s = 3s. Its attempt holds the only
		// slot until its timeout plus a grace of 1s (seen by the watchdog at
		// 3s), then "good" runs again.
		want := []string{
			"0s frozen up", "0s good up",
			"3s frozen stalled",
			"20s frozen resumed", "20s frozen down",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if n := goodRuns.Load(); n < 20 {
			t.Errorf("good target ran %d times in 25s, want at least 20: the frozen check blocked it", n)
		}
	})
}

// The watchdog looks only when a target can stall while slots are free:
// a frozen checker is still reported at exactly its StallAfter, and a
// target that keeps completing never is.
func TestMonitorStallWithFreeSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int64
		frozen := CheckerFunc(func(ctx context.Context) Result {
			if calls.Add(1) <= 3 { // at 0s, 2s and 4s; the one at 6s hangs
				return Result{Up: true}
			}
			<-release
			return Result{Reason: "finally"}
		})
		time.AfterFunc(30*time.Second, func() { close(release) })
		got, _ := monitorRun(t, Config{NoSpread: true}, 35*time.Second,
			Target{Name: "frozen", Interval: 2 * time.Second, Timeout: time.Second, StallAfter: 7 * time.Second, Checker: frozen},
			Target{Name: "good", Interval: 6 * time.Second, Checker: scripted(0, true)},
		)
		want := []string{
			"0s frozen up", "0s good up",
			"11s frozen stalled", // 7s after the completion at 4s
			"30s frozen resumed", "30s frozen down",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestMonitorStopCancelsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		canceled := make(chan error, 1)
		m, err := New(&Config{NoSpread: true}, Target{Name: "a", Timeout: time.Hour, Checker: CheckerFunc(func(ctx context.Context) Result {
			<-ctx.Done()
			canceled <- ctx.Err()
			return Result{Reason: "canceled"}
		})})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error)
		go func() { ran <- m.Run(ctx) }()
		go func() {
			for range m.Events() {
			}
		}()
		time.Sleep(time.Minute)
		start := time.Now()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run = %v", err)
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("Run returned %v after the stop, want at once", el)
		}
		if err := <-canceled; err != context.Canceled {
			t.Errorf("check context ended with %v, want context.Canceled", err)
		}
		if err := m.Add(Target{Name: "b", Checker: scripted(0, true)}); err == nil {
			t.Error("Add after Run returned succeeded")
		}
		if err := m.Run(ctx); err == nil {
			t.Error("second Run succeeded")
		}
	})
}

func TestMonitorSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var targets []Target
		for i := range 200 {
			targets = append(targets, Target{Name: fmt.Sprint(i), Interval: 10 * time.Second, Checker: scripted(0, true)})
		}
		start := time.Now()
		// The offsets are drawn from [0, 10s) to the nanosecond: watch the
		// whole interval but its last nanosecond.
		_, obs := monitorRun(t, Config{}, 10*time.Second-time.Nanosecond, targets...)
		if len(obs) != 200 {
			t.Fatalf("%d first attempts in the first interval, want 200", len(obs))
		}
		var buckets [10]int
		for _, o := range obs {
			off := o.Scheduled.Sub(start)
			if off < 0 || off >= 10*time.Second {
				t.Fatalf("first attempt of %s at %v, want within the 10s interval", o.Target, off)
			}
			buckets[off/time.Second]++
		}
		for i, n := range buckets {
			if n == 0 || n > 60 {
				t.Errorf("second %d has %d of 200 first attempts; want them spread out (buckets %v)", i, n, buckets)
			}
		}
	})
}

func TestMonitorConcurrencyBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inflight, peak atomic.Int64
		slow := CheckerFunc(func(ctx context.Context) Result {
			n := inflight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
			inflight.Add(-1)
			return Result{Up: true}
		})
		var targets []Target
		for i := range 10 {
			targets = append(targets, Target{Name: fmt.Sprint(i), Interval: time.Second, Checker: slow})
		}
		_, obs := monitorRun(t, Config{NoSpread: true, Concurrency: 3}, 2500*time.Millisecond, targets...)
		if p := peak.Load(); p != 3 {
			t.Errorf("peak attempts in flight = %d, want the limit 3", p)
		}
		// Ten 100ms attempts through three slots: the last starts 300ms late.
		var late time.Duration
		for _, o := range obs {
			late = max(late, o.Started.Sub(o.Scheduled))
		}
		if late != 300*time.Millisecond {
			t.Errorf("worst lateness %v, want 300ms", late)
		}
	})
}

func TestMonitorAddRemoveWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := New(&Config{NoSpread: true})
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range m.Events() {
				events = append(events, ev.String())
			}
		}()
		ctx, cancel := context.WithCancel(t.Context())
		go m.Run(ctx)
		time.Sleep(time.Second)
		if err := m.Add(Target{Name: "a", Interval: time.Second, Checker: scripted(0, false)}); err != nil {
			t.Fatal(err)
		}
		if err := m.Add(Target{Name: "a", Checker: scripted(0, false)}); err == nil {
			t.Error("adding a duplicate name succeeded")
		}
		time.Sleep(1500 * time.Millisecond)
		if err := m.Remove("a"); err != nil {
			t.Fatal(err)
		}
		if err := m.Remove("a"); err == nil {
			t.Error("removing an unknown name succeeded")
		}
		time.Sleep(5 * time.Second)
		cancel()
		<-done
		want := []string{"a up (initial): initial state", "a down: attempt 1"}
		if diff := cmp.Diff(want, events); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestNewRejectsBadInput(t *testing.T) {
	if _, err := New(&Config{Concurrency: -1}); err == nil {
		t.Error("negative concurrency accepted")
	}
	if _, err := New(nil, Target{Name: "a", Checker: scripted(0, true)}, Target{Name: "a", Checker: scripted(0, true)}); err == nil {
		t.Error("duplicate names accepted")
	}
	if _, err := New(nil, Target{Name: "a"}); err == nil {
		t.Error("nil checker accepted")
	}
}

func TestMonitorRemoveCancelsAttemptInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ended := make(chan error, 1)
		m, err := New(&Config{NoSpread: true}, Target{Name: "a", Timeout: time.Hour, Checker: CheckerFunc(func(ctx context.Context) Result {
			<-ctx.Done()
			ended <- ctx.Err()
			return Result{}
		})})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go m.Run(ctx)
		go func() {
			for range m.Events() {
			}
		}()
		time.Sleep(time.Minute)
		if err := m.Remove("a"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		select {
		case err := <-ended:
			if err != context.Canceled {
				t.Errorf("attempt ended with %v, want context.Canceled", err)
			}
		default:
			t.Error("removing the target left its attempt running")
		}
	})
}

// With Rounds, the targets of one interval begin their rounds together,
// those added later included, on an instant the first one drew at random;
// a target of another interval keeps a schedule of its own, and a failing
// target's retries do not move its rounds.
func TestMonitorRounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		due := map[string][]time.Duration{}
		start := time.Now()
		cfg := Config{Rounds: true, Observe: func(o Observation) {
			mu.Lock()
			defer mu.Unlock()
			if o.Attempt == 1 {
				due[o.Target] = append(due[o.Target], o.Scheduled.Sub(start))
			}
		}}
		const iv = 3 * time.Second
		m, err := New(&cfg,
			Target{Name: "a", Interval: iv, Checker: scripted(10*time.Millisecond, true)},
			Target{Name: "b", Interval: iv, Checker: scripted(20*time.Millisecond, false), RetryDelay: 500 * time.Millisecond, Retries: 2},
			Target{Name: "c", Interval: 7 * time.Second, Checker: scripted(0, true)},
		)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for range m.Events() {
			}
		}()
		go m.Run(ctx)
		time.Sleep(4500 * time.Millisecond)
		if err := m.Add(Target{Name: "late", Interval: iv, Checker: scripted(0, true)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		cancel()
		synctest.Wait()

		mu.Lock()
		defer mu.Unlock()
		a := due["a"]
		if len(a) < 4 {
			t.Fatalf("a began %d rounds in 14.5s, want at least 4: %v", len(a), a)
		}
		for i := 1; i < len(a); i++ {
			if a[i]-a[i-1] != iv {
				t.Errorf("a's rounds at %v: want %v apart", a, iv)
			}
		}
		for _, name := range []string{"b", "late"} {
			if len(due[name]) == 0 {
				t.Fatalf("%s began no round", name)
			}
			for _, d := range due[name] {
				if (d-a[0])%iv != 0 {
					t.Errorf("%s's rounds at %v, a's at %v: want the same instants", name, due[name], a)
					break
				}
			}
		}
		if first := due["late"][0]; first < 4500*time.Millisecond || first >= 4500*time.Millisecond+iv {
			t.Errorf("late, added at 4.5s, began its first round at %v: want the next of a's rounds", first)
		}
		if c := due["c"]; len(c) >= 2 && c[1]-c[0] != 7*time.Second {
			t.Errorf("c's rounds at %v: want 7s apart", c)
		}
	})
}
