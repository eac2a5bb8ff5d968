package rawpoll

import (
	"sync"
	"time"
)

// Timer wakes its owner once after a duration (Reset) or periodically
// (Every), through the channel C.
//
// On Linux it is a timerfd on CLOCK_MONOTONIC, which a goroutine of its
// own waits for in the runtime's poller: arming it is one raw
// timerfd_settime, and no runtime timer exists for it. A time.Timer that
// is stopped, or moved later, keeps its old expiry in the runtime's timer
// heap until that passes: the runtime's poller thread and its monitor
// thread both wake then for nothing, and a daemon that re-arms a deadline
// for every event pays that for each one.
// Elsewhere, or if the timerfd cannot be made, it is a time.Timer.
//
// Its methods are safe for concurrent use. A firing already under way when
// Reset, Every or Stop is called may still be delivered: C is a wake-up,
// and its receiver decides from the clock what is due.
type Timer struct {
	c chan struct{}
	k *kernelTimer // nil: rt is used

	mu     sync.Mutex
	rt     *time.Timer
	period time.Duration
}

// NewTimer returns a stopped Timer. Close it when done.
func NewTimer() *Timer { return newTimer(true) }

// NewRuntimeTimer returns a stopped Timer over a time.Timer, on every
// system: for code run under testing/synctest, whose fake clock a timerfd
// does not follow.
func NewRuntimeTimer() *Timer { return newTimer(false) }

func newTimer(kernel bool) *Timer {
	t := &Timer{c: make(chan struct{}, 1)}
	if kernel {
		if k, err := newKernelTimer(t.fire); err == nil {
			t.k = k
			return t
		}
	}
	t.rt = time.AfterFunc(time.Hour, t.runtimeFired)
	t.rt.Stop()
	return t
}

// C receives a value when the timer fires. Firings that come while one is
// waiting in C are merged into it.
func (t *Timer) C() <-chan struct{} { return t.c }

// Reset arms the timer to fire once after d, replacing any earlier
// arming; d <= 0 fires at once.
func (t *Timer) Reset(d time.Duration) { t.set(d, 0) }

// Every arms the timer to fire after d and then every d; d must be
// positive.
func (t *Timer) Every(d time.Duration) { t.set(d, max(d, 1)) }

// Stop disarms the timer.
func (t *Timer) Stop() {
	if t.k != nil {
		t.k.set(0, 0)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.period = 0
	t.rt.Stop()
}

// Close stops the timer and releases its descriptor.
func (t *Timer) Close() error {
	if t.k != nil {
		return t.k.close()
	}
	t.Stop()
	return nil
}

func (t *Timer) set(d, period time.Duration) {
	if t.k != nil {
		// A zero value would disarm the timerfd: the soonest is 1 ns.
		t.k.set(max(d, 1), period)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.period = period
	t.rt.Reset(max(d, 0))
}

func (t *Timer) fire() {
	select {
	case t.c <- struct{}{}:
	default: // one is waiting already
	}
}

// runtimeFired is the time.Timer's function: it fires, and re-arms a
// periodic timer.
func (t *Timer) runtimeFired() {
	t.fire()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.period > 0 {
		t.rt.Reset(t.period)
	}
}
