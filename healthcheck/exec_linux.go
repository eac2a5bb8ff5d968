package healthcheck

import (
	"os/exec"
	"syscall"
)

// setSysProcAttr starts cmd in a process group of its own, as the user of
// cred if it is set, and makes cancellation kill that whole group. The
// process's PID names the group until it is reaped.
func setSysProcAttr(cmd *exec.Cmd, cred *syscall.Credential) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
