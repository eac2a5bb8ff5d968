package healthcheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lvskit/lvskit/internal/rawpoll"
)

// setProcessGroup starts cmd in a new process group and makes cancellation
// kill that whole group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// spawnSupport is whether run can use spawn: the shared raw poller, and
// pidfds from clone (Linux 5.3 and later have both), and /dev/null open
// for the programs' standard input, kept for the process's life.
var spawnSupport = sync.OnceValues(func() (devNull int, ok bool) {
	if _, err := rawpoll.Shared(); err != nil {
		return -1, false
	}
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return -1, false
	}
	unix.Close(fd)
	devNull, err = unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	return devNull, err == nil
})

// run runs the program and returns its exit status, with spawn where it
// can and with os/exec otherwise.
func (e *Exec) run(ctx context.Context, out *headBuffer) (int, error) {
	devNull, ok := spawnSupport()
	if !ok {
		return e.command(ctx, out)
	}
	return e.spawn(ctx, out, devNull)
}

// spawn does what command does with raw system calls where it matters:
// the program is forked by forkExec (in a process group of its own, its
// pidfd from clone, standard input /dev/null, standard output and error
// one pipe), and its output and its exit are waited for in package
// rawpoll; it is reaped with a raw waitid. os/exec would make some twenty
// calls through the runtime's system-call path per run, each costing an
// idle daemon a wake of the runtime's monitor (see rawpoll's doc); this
// makes none on linux/amd64, and the three of syscall.ForkExec elsewhere.
//
// Output written after the program exited, by children it left running
// with the pipe open, is not waited for.
func (e *Exec) spawn(ctx context.Context, out *headBuffer, devNull int) (int, error) {
	argv0 := e.Argv[0]
	if !strings.Contains(argv0, "/") {
		lp, err := exec.LookPath(argv0)
		if err != nil {
			return -1, err
		}
		argv0 = lp
	}
	env := e.Env
	if env == nil {
		env = os.Environ()
		if e.Dir != "" {
			if pwd, err := filepath.Abs(e.Dir); err == nil {
				env = append(env, "PWD="+pwd)
			}
		}
	}
	var pipe [2]int32
	if _, _, errno := unix.RawSyscall(unix.SYS_PIPE2, uintptr(unsafe.Pointer(&pipe)), unix.O_CLOEXEC, 0); errno != 0 {
		return -1, os.NewSyscallError("pipe2", errno)
	}
	r, w := int(pipe[0]), int(pipe[1])
	defer closeRaw(r)
	// Only the reading end is non-blocking: the program writes as usual.
	if _, _, errno := unix.RawSyscall(unix.SYS_FCNTL, uintptr(r), unix.F_SETFL, unix.O_NONBLOCK); errno != 0 {
		closeRaw(w)
		return -1, os.NewSyscallError("fcntl", errno)
	}
	pid, pidfd, err := forkExec(argv0, e.Argv, env, e.Dir, devNull, w, e.Credential)
	if err != nil {
		closeRaw(w)
		return -1, &os.PathError{Op: "fork/exec", Path: argv0, Err: err}
	}
	// The writing end stays open here until the program is reaped: the
	// pipe then reports output only, never its end, and a program that
	// exits costs one wake, for its pidfd, instead of one for the end of
	// its output and often a second for its exit, which comes a moment
	// later.
	defer closeRaw(w)
	defer closeRaw(pidfd)

	p, _ := rawpoll.Shared()
	events := make(chan rawpoll.Event, 2)
	if err := p.Arm(pidfd, unix.EPOLLIN, events); err != nil {
		killGroup(pid)
		return reap(pidfd, pid, true)
	}
	defer p.Disarm(pidfd)
	reading := p.Arm(r, unix.EPOLLIN, events) == nil
	defer p.Disarm(r)
	for {
		select {
		case ev := <-events:
			if ev.FD == pidfd {
				drain(r, out)
				return reap(pidfd, pid, false)
			}
			if drain(r, out) && reading {
				reading = p.Arm(r, unix.EPOLLIN, events) == nil
			}
		case <-ctx.Done():
			killGroup(pid)
			return reap(pidfd, pid, true)
		}
	}
}

// drain reads what the pipe holds into out, and says whether more may
// come (not at end of file or error).
func drain(fd int, out *headBuffer) bool {
	var buf [4096]byte
	for {
		n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN:
			return true
		case errno != 0 || n == 0:
			return false
		}
		out.Write(buf[:n])
	}
}

// reap collects the program's exit status. When block is set the program
// was just killed and reap waits for it; otherwise it has exited already.
func reap(pidfd, pid int, block bool) (int, error) {
	var info unix.Siginfo
	opts := unix.WEXITED
	if !block {
		opts |= unix.WNOHANG
	}
	for {
		var errno syscall.Errno
		if block {
			// Waiting for a SIGKILLed process is short; the runtime's
			// system-call path is fine here.
			_, _, errno = unix.Syscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(pidfd), uintptr(unsafe.Pointer(&info)), uintptr(opts), 0, 0)
		} else {
			_, _, errno = unix.RawSyscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(pidfd), uintptr(unsafe.Pointer(&info)), uintptr(opts), 0, 0)
		}
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return -1, &os.SyscallError{Syscall: "waitid", Err: errno}
		}
		break
	}
	if info.Signo == 0 && !block {
		// The pidfd said it exited, yet nothing to reap: wait for it.
		return reap(pidfd, pid, true)
	}
	return exitStatus(info)
}

// exitStatus reads a waitid result as os/exec would: the exit code, or an
// error naming the signal that ended the program.
func exitStatus(info unix.Siginfo) (int, error) {
	// For SIGCHLD the union after si_code holds si_pid, si_uid, si_status:
	// si_status is at offset 24 on 64-bit platforms and 20 on 32-bit ones.
	off := 20
	if unsafe.Sizeof(uintptr(0)) == 8 {
		off = 24
	}
	status := int(*(*int32)(unsafe.Add(unsafe.Pointer(&info), off)))
	if info.Code == cldExited {
		return status, nil
	}
	return -1, &signalError{syscall.Signal(status)} // CLD_KILLED, CLD_DUMPED
}

// cldExited is si_code CLD_EXITED: the program exited (rather than being
// killed, CLD_KILLED, or dumping core, CLD_DUMPED).
const cldExited = 1

// signalError reads like os/exec's error for a program a signal ended.
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string { return "signal: " + e.sig.String() }

// forkExecStd is forkExec done by syscall.ForkExec.
func forkExecStd(argv0 string, argv, env []string, dir string, stdin, stdout int, cred *syscall.Credential) (pid, pidfd int, err error) {
	pidfd = -1
	pid, err = syscall.ForkExec(argv0, argv, &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{uintptr(stdin), uintptr(stdout), uintptr(stdout)},
		Sys:   &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd, Credential: cred},
	})
	return pid, pidfd, err
}

// killGroup kills the program's process group; the program is not reaped
// yet, so its pid still names that group.
func killGroup(pid int) {
	_, _, _ = unix.RawSyscall(unix.SYS_KILL, uintptr(-pid), uintptr(unix.SIGKILL), 0)
}

func closeRaw(fd int) {
	_, _, _ = unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}
