package netnstest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a program started by [NS.Start]. Its output is kept in memory.
type Proc struct {
	name string
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

// Start runs name with args inside the namespace in the background. At
// cleanup the process, identified by its PID, gets SIGTERM and, if it has not
// exited within five seconds, SIGKILL. Its output is logged when the test
// fails.
func (ns *NS) Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	cmd := ns.Command(name, args...)
	p := &Proc{name: name, done: make(chan struct{})}
	cmd.Stdout = procWriter{p}
	cmd.Stderr = procWriter{p}
	// Own process group, so that a terminal's Ctrl-C reaches the test
	// binary first and cleanup stays in charge; ip netns exec execs the
	// program, so the PID is the program's own.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("in %s: starting %s: %v", ns.Name, name, err)
	}
	p.pid = cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s (pid %d) in %s:\n%s", name, p.pid, ns.Name, p.Output())
		}
	})
	return p
}

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

// WaitOutput waits until the output contains substr, failing t after
// timeout or when the process exits without writing it.
func (p *Proc) WaitOutput(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(p.Output(), substr) {
			return
		}
		if p.Exited() {
			t.Fatalf("%s (pid %d) exited (%v) without printing %q; output:\n%s", p.name, p.pid, p.exitErr(), substr, p.Output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) did not print %q within %v; output:\n%s", p.name, p.pid, substr, timeout, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
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
		return p.exitErr()
	case <-time.After(timeout):
		return fmt.Errorf("%s (pid %d) still running after %v", p.name, p.pid, timeout)
	}
}

func (p *Proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *Proc) stop() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(5 * time.Second):
	}
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return
	}
	<-p.done
}
