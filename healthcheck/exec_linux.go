package healthcheck

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setProcessGroup starts cmd in a new process group and makes cancellation
// kill that whole group. It returns the wait to call between Start and
// Wait.
func setProcessGroup(cmd *exec.Cmd) (waitExit func(context.Context)) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return func(ctx context.Context) { awaitExit(ctx, cmd.Process.Pid) }
}

// awaitExit waits until the started child pid has exited or ctx is done.
// It waits in the runtime's poller, on a pidfd of its own that becomes
// readable when the child exits, rather than in a blocking wait syscall,
// which would hold a thread and keep the runtime's monitor polling while
// the program runs. Cmd.Wait, called next, then reaps the child at once.
// Without pidfds (Linux before 5.3) it returns at once and Cmd.Wait blocks.
func awaitExit(ctx context.Context, pid int) {
	// A pidfd of its own: the open file description os/exec's pidfd shares
	// must stay blocking, as its wait relies on that. The child is not
	// reaped yet, so its pid cannot name another process.
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err != nil || n > 0 // exited, or cannot tell: Cmd.Wait decides
	})
}
