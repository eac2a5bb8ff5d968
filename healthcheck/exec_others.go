//go:build !linux

package healthcheck

import "os/exec"

// setProcessGroup keeps exec.CommandContext's default: only the program
// itself is killed on timeout outside Linux.
func setProcessGroup(*exec.Cmd) {}
