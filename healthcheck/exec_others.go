//go:build !linux

package healthcheck

import (
	"os/exec"
	"syscall"
)

// setSysProcAttr runs cmd as the user of cred if it is set. Cancellation
// keeps exec.CommandContext's default: outside Linux only the program
// itself is killed on timeout.
func setSysProcAttr(cmd *exec.Cmd, cred *syscall.Credential) {
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
}
