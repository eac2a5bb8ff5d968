package healthcheck

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type ctxKey struct{}

// Contexts derived from an attempt's context see its values, end with its
// error, and cost no goroutine each while it runs.
func TestAttemptContextDerived(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	dl := time.Now().Add(time.Hour)
	c := newAttemptCtx(parent, dl)
	if got, ok := c.Deadline(); !ok || !got.Equal(dl) {
		t.Fatalf("Deadline() = %v, %v; want %v", got, ok, dl)
	}
	before := runtime.NumGoroutine()
	var derived []context.Context
	for range 100 {
		d, cancel := context.WithCancel(c)
		defer cancel()
		derived = append(derived, d)
	}
	// A longer timeout than the attempt's deadline keeps that deadline.
	long, cancel := context.WithTimeout(c, 2*time.Hour)
	defer cancel()
	if got, _ := long.Deadline(); !got.Equal(dl) {
		t.Fatalf("WithTimeout(2h) deadline %v; want the attempt's %v", got, dl)
	}
	derived = append(derived, long)
	var ran atomic.Int32
	stop := context.AfterFunc(c, func() { ran.Add(1) })
	stopped := context.AfterFunc(c, func() { ran.Add(100) })
	if !stopped() {
		t.Fatal("stopping an AfterFunc before the end returned false")
	}
	if n := runtime.NumGoroutine() - before; n > 5 {
		t.Fatalf("%d goroutines more with 101 derived contexts and an AfterFunc: the context package did not find AfterFunc", n)
	}
	if v := derived[0].Value(ctxKey{}); v != "v" {
		t.Fatalf("derived Value = %v; want the parent's", v)
	}
	if c.Err() != nil {
		t.Fatalf("Err() = %v before the end", c.Err())
	}

	c.end(context.DeadlineExceeded)
	c.end(context.Canceled) // a second end changes nothing
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err() = %v; want the deadline", c.Err())
	}
	for i, d := range derived {
		select {
		case <-d.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("derived context %d not done 5s after the attempt's end", i)
		}
		if !errors.Is(d.Err(), context.DeadlineExceeded) {
			t.Fatalf("derived context %d: Err() = %v; want the deadline", i, d.Err())
		}
	}
	for end := time.Now().Add(5 * time.Second); ran.Load() == 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if stop() {
		t.Fatal("stop after the end returned true")
	}
	if n := ran.Load(); n != 1 {
		t.Fatalf("AfterFuncs ran for %d; want 1 (the stopped one must not run)", n)
	}
	late := make(chan struct{})
	context.AfterFunc(c, func() { close(late) })
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("an AfterFunc registered after the end did not run")
	}
}

// In real time, with the deadlines the loop keeps: attempts
// that ignore nothing but their context end at their deadline with
// DeadlineExceeded, are reported as timed out, and do not delay a fast
// target.
func TestMonitorDeadlinesRealTime(t *testing.T) {
	const timeout = 40 * time.Millisecond
	type seen struct {
		ok         bool
		err        error
		dl, st, ed time.Time
	}
	var mu sync.Mutex
	var slow []seen
	var fast int
	var reasons []string
	m, err := New(&Config{NoSpread: true, Observe: func(o Observation) {
		mu.Lock()
		defer mu.Unlock()
		if want := map[string]time.Duration{"fast": 50 * time.Millisecond, "slow": 100 * time.Millisecond}[o.Target]; o.Interval != want {
			t.Errorf("%s: observed interval %v, want %v", o.Target, o.Interval, want)
		}
		if o.Target == "fast" {
			fast++
		} else {
			reasons = append(reasons, o.Result.Reason)
		}
	}},
		Target{Name: "slow", Interval: 100 * time.Millisecond, Timeout: timeout, Checker: CheckerFunc(func(ctx context.Context) Result {
			s := seen{st: time.Now()}
			s.dl, s.ok = ctx.Deadline()
			<-ctx.Done()
			s.ed, s.err = time.Now(), ctx.Err()
			mu.Lock()
			slow = append(slow, s)
			mu.Unlock()
			return Result{Up: true, Reason: "answered late"}
		})},
		Target{Name: "fast", Interval: 50 * time.Millisecond, Checker: CheckerFunc(func(context.Context) Result {
			return Result{Up: true}
		})},
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	go func() {
		for range m.Events() {
		}
	}()
	m.Run(ctx)

	mu.Lock()
	defer mu.Unlock()
	if len(slow) < 5 || fast < 10 {
		t.Fatalf("in 1s: %d slow attempts (want >= 5, one per 100ms), %d fast ones (want >= 10, one per 50ms)", len(slow), fast)
	}
	for i, s := range slow[:len(slow)-1] { // the last may have been cut by the stop
		if !s.ok || s.dl.Sub(s.st) > timeout || s.dl.Sub(s.st) < timeout-10*time.Millisecond {
			t.Errorf("attempt %d: deadline %v after its start (ok %v); want %v", i, s.dl.Sub(s.st), s.ok, timeout)
		}
		if !errors.Is(s.err, context.DeadlineExceeded) {
			t.Errorf("attempt %d: ended with %v; want the deadline", i, s.err)
		}
		if s.ed.Before(s.dl) {
			t.Errorf("attempt %d: ended %v before its deadline", i, s.dl.Sub(s.ed))
		}
		if s.ed.Sub(s.dl) > 500*time.Millisecond {
			t.Errorf("attempt %d: ended %v after its deadline; the loop did not end it", i, s.ed.Sub(s.dl))
		}
	}
	for i, r := range reasons[:len(reasons)-1] {
		if !strings.HasPrefix(r, "timed out after 40ms") {
			t.Errorf("attempt %d reported %q; want a time-out", i, r)
		}
	}
}
