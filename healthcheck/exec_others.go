//go:build !linux

package healthcheck

import (
	"context"
	"os/exec"
)

// setProcessGroup keeps exec.CommandContext's default: only the program
// itself is killed on timeout outside Linux.
func setProcessGroup(*exec.Cmd) {}

// run runs the program with os/exec.
func (e *Exec) run(ctx context.Context, out *headBuffer) (int, error) {
	return e.command(ctx, out)
}
