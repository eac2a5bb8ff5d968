// Package notify runs notify programs the way keepalived does: directly,
// without a shell, one at a time in the order of the transitions that
// caused them, each bounded by a timeout, so that a slow or hanging program
// never blocks or reorders the VRRP loop.
package notify

import (
	"context"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultTimeout bounds one program run unless Runner.Timeout says
// otherwise.
const DefaultTimeout = 10 * time.Second

// Runner runs queued commands in order on its own goroutine.
type Runner struct {
	timeout time.Duration
	log     *slog.Logger
	cred    *syscall.Credential

	mu     sync.Mutex
	queue  [][]string
	wake   chan struct{}
	closed bool
	done   chan struct{}
}

// New starts a runner. A zero timeout means DefaultTimeout; log may be nil.
// The programs run as cred's user and groups (keepalived's script_user),
// or as the caller when cred is nil.
func New(timeout time.Duration, log *slog.Logger, cred *syscall.Credential) *Runner {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{timeout: timeout, log: log, cred: cred, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go r.run()
	return r
}

// Enqueue adds argv (program and arguments) to the queue. It never
// blocks. Calls after Close are ignored.
func (r *Runner) Enqueue(argv []string) {
	if len(argv) == 0 {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, argv)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) run() {
	defer close(r.done)
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return
			}
			<-r.wake
			continue
		}
		argv := r.queue[0]
		r.queue = r.queue[1:]
		r.mu.Unlock()
		r.exec(argv)
	}
}

func (r *Runner) exec(argv []string) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// Its own process group, killed whole on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: r.cred}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	args := []any{"argv", strings.Join(argv, " "), "took", time.Since(start).Round(time.Millisecond)}
	if len(out) > 0 {
		args = append(args, "output", strings.TrimSpace(string(out)))
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		r.log.Warn("notify program failed", append(args, "err", err)...)
		return
	}
	r.log.Info("notify program ran", args...)
}

// Close lets the queued programs run and waits for them, at most wait.
// It is safe to call more than once.
func (r *Runner) Close(wait time.Duration) {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	select {
	case <-r.done:
	case <-time.After(wait):
	}
}

// EnqueueAll enqueues each command in order.
func (r *Runner) EnqueueAll(cmds [][]string) {
	for _, c := range cmds {
		r.Enqueue(c)
	}
}

// KeepalivedArgs are the arguments keepalived gives a vrrp_instance's
// notify program: INSTANCE NAME STATE PRIORITY, STATE being MASTER, BACKUP,
// FAULT or STOP.
func KeepalivedArgs(instance, state string, priority int) []string {
	return []string{"INSTANCE", instance, state, strconv.Itoa(priority)}
}
