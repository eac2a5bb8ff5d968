package topology

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a program started by [NS.Start]. Its output is kept in memory.
type Proc struct {
	name string
	ns   string
	pid  int
	done chan struct{}

	mu  sync.Mutex
	out bytes.Buffer
	err error // exit status, valid once done is closed
}

type procWriter struct{ p *Proc }

func (w procWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// Start runs name with args inside the namespace in the background, in a
// process group of its own, collecting its output. The process is killed if
// the calling process dies. Stop it with [Proc.Stop].
func (ns *NS) Start(name string, args ...string) (*Proc, error) {
	cmd := ns.Command(name, args...)
	p := &Proc{name: name, ns: ns.Name, done: make(chan struct{})}
	cmd.Stdout = procWriter{p}
	cmd.Stderr = procWriter{p}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the OS thread that forked the child exits, not
	// the process, and a thread can exit under us (a goroutine that locked
	// it into a namespace ends, as NS.Do's do). The child is therefore
	// started and waited for on a thread locked for its whole life.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.pid = cmd.Process.Pid
		started <- nil
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("in %s: starting %s: %w", ns.Name, name, err)
	}
	return p, nil
}

// Name returns the program's name.
func (p *Proc) Name() string { return p.name }

// Pid returns the process ID.
func (p *Proc) Pid() int { return p.pid }

// Output returns everything the process has written so far to stdout and
// stderr.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// WaitOutput waits until the output contains substr. It fails when ctx ends
// first or the process exits without writing it.
func (p *Proc) WaitOutput(ctx context.Context, substr string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if strings.Contains(p.Output(), substr) {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%s (pid %d) exited (%v) without printing %q", p.name, p.pid, p.ExitErr(), substr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (pid %d) did not print %q: %w", p.name, p.pid, substr, ctx.Err())
		case <-tick.C:
		}
	}
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error {
	if p.Exited() {
		return fmt.Errorf("%s (pid %d) has already exited", p.name, p.pid)
	}
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("signal %v is not a syscall.Signal", sig)
	}
	return syscall.Kill(p.pid, s)
}

// Wait waits up to timeout for the process to exit and returns its exit
// status (nil for exit code 0).
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.ExitErr()
	case <-time.After(timeout):
		return fmt.Errorf("%s (pid %d) still running after %v", p.name, p.pid, timeout)
	}
}

// ExitErr returns the exit status once the process has exited.
func (p *Proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends SIGTERM to the process (its PID alone) and, if it has not
// exited within grace, SIGKILL; it returns once the process is gone.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return
	}
	<-p.done
}
