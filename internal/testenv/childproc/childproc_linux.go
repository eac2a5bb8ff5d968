package childproc

import (
	"os/exec"
	"syscall"
)

// setDeathSignal adds the parent-death signal SIGKILL to cmd's attributes.
func setDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
