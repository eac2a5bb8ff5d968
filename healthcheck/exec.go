package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Exec runs a program, like keepalived's MISC_CHECK: Argv is executed
// directly, without a shell; exit status 0 means up, anything else down. On
// timeout the program's whole process group is killed (it runs in a group of
// its own), so children it started cannot outlive the check.
//
// Its standard input is /dev/null; the first line of its standard output
// and error, which share a pipe, ends the Result's reason. A program that
// exits while children it started keep that pipe open is judged by its exit
// status a second later, without waiting for them.
//
// With Dynamic set, exit codes follow keepalived's misc_dynamic: 0 up with
// the weight unchanged, 1 down, 2-255 up with weight (status - 2).
type Exec struct {
	// Argv is the program and its arguments; Argv[0] is looked up in PATH
	// when it has no slash.
	Argv []string
	// Timeout bounds the run; zero means DefaultTimeout.
	Timeout time.Duration
	// Dynamic enables misc_dynamic exit codes.
	Dynamic bool
	// Env, if non-nil, is the program's whole environment.
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Credential, if non-nil, is the user and groups the program runs as
	// (keepalived's script_user); nil runs it as the caller. Switching
	// needs the privilege to, as root has.
	Credential *syscall.Credential
}

// execWaitDelay bounds how long Check waits for the end of the program's
// output once the program has exited (children it left running may hold
// it open) or its process group was killed.
const execWaitDelay = time.Second

// Check implements Checker.
func (e *Exec) Check(ctx context.Context) Result {
	if len(e.Argv) == 0 || e.Argv[0] == "" {
		err := errors.New("healthcheck: exec argv is empty: want a program and its arguments")
		return Result{Reason: err.Error(), Err: err}
	}
	ctx, cancel, timeout := withTimeout(ctx, e.Timeout)
	defer cancel()
	out := &headBuffer{max: 4096}
	code, killed, err := e.run(ctx, out)
	if ctx.Err() != nil {
		r := down(ctx, "program", ctx.Err(), timeout)
		if killed {
			r.Reason += ", process group killed"
		}
		return r
	}
	if err != nil {
		return Result{Reason: "program: " + err.Error(), Err: err}
	}
	reason := fmt.Sprintf("exit status %d", code)
	if line := out.firstLine(); line != "" {
		reason += ": " + line
	}
	switch {
	case code == 0:
		return up(reason)
	case !e.Dynamic || code == 1:
		return Result{Reason: reason}
	default:
		return Result{Up: true, Reason: reason, Weight: code - 2, HasWeight: true}
	}
}

// run runs the program with os/exec and returns its exit status, or an
// error when it could not run or a signal ended it. Standard input is
// /dev/null; standard output and error share one pipe whose first bytes
// go to out. The program runs in a process group of its own, which is
// killed if ctx ends while the program runs (outside Linux, only the
// program is); killed reports that it was.
func (e *Exec) run(ctx context.Context, out *headBuffer) (code int, killed bool, err error) {
	cmd := exec.CommandContext(ctx, e.Argv[0], e.Argv[1:]...)
	cmd.Env = e.Env
	cmd.Dir = e.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = execWaitDelay
	setSysProcAttr(cmd, e.Credential)
	kill := cmd.Cancel
	cmd.Cancel = func() error {
		killed = true // read after Wait, which waits for this call
		return kill()
	}
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, killed, nil
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), killed, nil
	case errors.Is(err, exec.ErrWaitDelay):
		// The program exited 0, but something it left running kept its
		// output open past execWaitDelay; what it wrote until then counts.
		return 0, killed, nil
	}
	return -1, killed, err
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *headBuffer) firstLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	line, _, _ := strings.Cut(strings.TrimSpace(b.buf.String()), "\n")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return strings.TrimSpace(line)
}
