package rawpoll

import (
	"testing"
	"time"
)

// timerKinds runs f on a Timer of each kind this system has.
func timerKinds(t *testing.T, f func(t *testing.T, tm *Timer)) {
	for _, kernel := range []bool{true, false} {
		name := map[bool]string{true: "kernel", false: "runtime"}[kernel]
		t.Run(name, func(t *testing.T) {
			tm := newTimer(kernel)
			if kernel && tm.k == nil {
				tm.Close()
				if hasKernelTimer {
					t.Fatal("no timerfd-backed Timer on a system that has timerfd")
				}
				t.Skip("no kernel timer on this system")
			}
			if !kernel && tm.k != nil {
				t.Fatal("a runtime Timer asked for, a kernel one made")
			}
			defer tm.Close()
			f(t, tm)
		})
	}
}

// fired waits up to d for a firing.
func fired(tm *Timer, d time.Duration) bool {
	select {
	case <-tm.C():
		return true
	case <-time.After(d):
		return false
	}
}

func TestTimerFiresOnceAfterItsDuration(t *testing.T) {
	timerKinds(t, func(t *testing.T, tm *Timer) {
		const d = 30 * time.Millisecond
		start := time.Now()
		tm.Reset(d)
		if !fired(tm, 5*time.Second) {
			t.Fatal("did not fire within 5s")
		}
		if el := time.Since(start); el < d {
			t.Fatalf("fired after %v, before its %v", el, d)
		}
		if fired(tm, 3*d) {
			t.Fatal("a one-shot timer fired twice")
		}
	})
}

func TestTimerResetReplacesTheEarlierArming(t *testing.T) {
	timerKinds(t, func(t *testing.T, tm *Timer) {
		start := time.Now()
		tm.Reset(20 * time.Millisecond)
		tm.Reset(300 * time.Millisecond)
		if !fired(tm, 5*time.Second) {
			t.Fatal("did not fire within 5s")
		}
		if el := time.Since(start); el < 300*time.Millisecond {
			t.Fatalf("fired after %v: the earlier arming (20ms) was kept", el)
		}
		// Moved earlier, it fires at the earlier time.
		start = time.Now()
		tm.Reset(time.Hour)
		tm.Reset(10 * time.Millisecond)
		if !fired(tm, 5*time.Second) {
			t.Fatalf("moved from 1h to 10ms, it had not fired after 5s")
		}
		if el := time.Since(start); el < 10*time.Millisecond {
			t.Fatalf("fired after %v, before its 10ms", el)
		}
	})
}

func TestTimerStopAndZero(t *testing.T) {
	timerKinds(t, func(t *testing.T, tm *Timer) {
		tm.Reset(20 * time.Millisecond)
		tm.Stop()
		if fired(tm, 100*time.Millisecond) {
			t.Fatal("fired after Stop")
		}
		tm.Reset(0)
		if !fired(tm, 5*time.Second) {
			t.Fatal("Reset(0) did not fire")
		}
		tm.Reset(-time.Second)
		if !fired(tm, 5*time.Second) {
			t.Fatal("Reset(-1s) did not fire")
		}
	})
}

func TestTimerEvery(t *testing.T) {
	timerKinds(t, func(t *testing.T, tm *Timer) {
		const d = 20 * time.Millisecond
		start := time.Now()
		tm.Every(d)
		for i := 1; i <= 4; i++ {
			if !fired(tm, 5*time.Second) {
				t.Fatalf("firing %d did not come within 5s", i)
			}
		}
		if el := time.Since(start); el < 4*d {
			t.Fatalf("4 firings every %v took %v", d, el)
		}
		tm.Stop()
		// One firing may have been under way.
		fired(tm, 3*d)
		if fired(tm, 5*d) {
			t.Fatal("a periodic timer still fires after Stop")
		}
		// Every replaces a one-shot arming, and Reset a periodic one.
		tm.Every(d)
		tm.Reset(d)
		if !fired(tm, 5*time.Second) {
			t.Fatal("did not fire")
		}
		if fired(tm, 5*d) {
			t.Fatal("Reset after Every left it periodic")
		}
	})
}

// Firings that come while one is waiting merge into it; the owner is
// never blocked behind them.
func TestTimerFiringsMerge(t *testing.T) {
	timerKinds(t, func(t *testing.T, tm *Timer) {
		tm.Every(time.Millisecond)
		time.Sleep(50 * time.Millisecond)
		tm.Stop()
		n := 0
		for fired(tm, 20*time.Millisecond) {
			n++
		}
		if n < 1 || n > 2 {
			t.Fatalf("%d firings waiting after 50 periods; want 1 (2 if one was under way at Stop)", n)
		}
	})
}

func TestTimerCloseTwice(t *testing.T) {
	timerKinds(t, func(t *testing.T, tm *Timer) {
		tm.Reset(time.Hour)
		if err := tm.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tm.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}
