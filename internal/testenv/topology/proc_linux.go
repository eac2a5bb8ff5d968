package topology

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/childproc"
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
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child that outlives the program holds its output open: Wait stops
	// reading a second after the program exits, so that Stop returns and
	// the child can be killed with KillChildren.
	cmd.WaitDelay = time.Second
	err := childproc.Start(cmd, func() {
		err := cmd.Wait()
		if errors.Is(err, exec.ErrWaitDelay) {
			err = nil // exit status 0
		}
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	})
	if err != nil {
		return nil, fmt.Errorf("in %s: starting %s: %w", ns.Name, name, err)
	}
	p.pid = cmd.Process.Pid
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

// KillChildren sends SIGKILL to the processes left in the program's process
// group other than the program itself: the children it forked, which may
// outlive it, as keepalived's VRRP child can when its parent is killed. It
// finds them by reading /proc and signals each by its PID; a child that
// moved to a group of its own is not found. Call it once the program has
// been stopped.
func (p *Proc) KillChildren() error {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == p.pid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if pgrp, ok := statPgrp(string(b)); !ok || pgrp != p.pid {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("killing pid %d, a child of %s (pid %d): %w", pid, p.name, p.pid, err))
		}
	}
	return errors.Join(errs...)
}

// statPgrp returns the process group ID in the contents of /proc/PID/stat,
// whose fields are counted from the last ')': the command name before it
// may hold spaces and parentheses.
func statPgrp(stat string) (int, bool) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, false
	}
	// state ppid pgrp ...
	f := strings.Fields(stat[end+1:])
	if len(f) < 3 {
		return 0, false
	}
	pgrp, err := strconv.Atoi(f[2])
	return pgrp, err == nil
}
