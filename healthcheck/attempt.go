package healthcheck

import (
	"context"
	"sync"
	"time"
)

// attemptCtx is the context of one attempt of a Monitor. Its deadline is
// kept by the Monitor's loop, on the one timer that also keeps the
// schedule, which ends it when the deadline passes: an attempt costs no
// timer of its own.
//
// Values come from the parent; cancellation is the loop's: it ends the
// context at the deadline, when the target is removed, when the Monitor
// stops, and when the attempt returns.
type attemptCtx struct {
	parent   context.Context
	deadline time.Time
	done     chan struct{}

	mu    sync.Mutex
	err   error
	funcs []*func()
}

func newAttemptCtx(parent context.Context, deadline time.Time) *attemptCtx {
	return &attemptCtx{parent: parent, deadline: deadline, done: make(chan struct{})}
}

func (c *attemptCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *attemptCtx) Done() <-chan struct{}       { return c.done }
func (c *attemptCtx) Value(key any) any           { return c.parent.Value(key) }

func (c *attemptCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// end ends the context with err (context.DeadlineExceeded or
// context.Canceled), once, and runs the functions registered with
// AfterFunc, each in its own goroutine as context.AfterFunc does.
func (c *attemptCtx) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, f := range funcs {
		go (*f)()
	}
}

// AfterFunc arranges for f to run once the context ends. The context
// package looks for this method: with it, context.AfterFunc, WithCancel and
// WithTimeout on an attempt's context cost no goroutine each while the
// attempt runs. stop unregisters f and reports whether it did so before f
// was started.
func (c *attemptCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	p := &f
	c.funcs = append(c.funcs, p)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, q := range c.funcs {
			if q == p {
				c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
				return true
			}
		}
		return false
	}
}
