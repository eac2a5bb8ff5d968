package healthcheck

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in a new process group and makes cancellation
// kill that whole group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
