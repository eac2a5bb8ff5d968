package main

import (
	"context"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/lvskit/lvskit/vrrp"
)

// notifier runs the notify program for each transition, one at a time, in
// the order of the transitions, so that a slow program never reorders or
// blocks the VRRP loop.
type notifier struct {
	prog    string
	timeout time.Duration
	log     *slog.Logger

	mu     sync.Mutex
	queue  []vrrp.Transition
	wake   chan struct{}
	closed bool
	done   chan struct{}
}

func newNotifier(prog string, timeout time.Duration, log *slog.Logger) *notifier {
	return &notifier{prog: prog, timeout: timeout, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// enqueue is the Router's OnTransition: it never blocks.
func (n *notifier) enqueue(t vrrp.Transition) {
	if n.prog == "" {
		return
	}
	n.mu.Lock()
	n.queue = append(n.queue, t)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) run() {
	defer close(n.done)
	for {
		n.mu.Lock()
		if len(n.queue) == 0 {
			closed := n.closed
			n.mu.Unlock()
			if closed {
				return
			}
			<-n.wake
			continue
		}
		t := n.queue[0]
		n.queue = n.queue[1:]
		n.mu.Unlock()
		n.exec(t)
	}
}

// args are keepalived's: INSTANCE NAME STATE PRIORITY.
func notifyArgs(t vrrp.Transition) []string {
	return []string{"INSTANCE", t.Instance, t.To.String(), strconv.Itoa(int(t.Priority))}
}

func (n *notifier) exec(t vrrp.Transition) {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.prog, notifyArgs(t)...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		n.log.Warn("notify failed", "prog", n.prog, "state", t.To.String(), "err", err, "output", string(out))
		return
	}
	n.log.Info("notify", "prog", n.prog, "state", t.To.String())
}

// close lets the queued notifications run (the last being STOP) and waits
// for them, at most wait.
func (n *notifier) close(wait time.Duration) {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
	select {
	case <-n.done:
	case <-time.After(wait):
	}
}
