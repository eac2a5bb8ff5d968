package proxyconf

import (
	"context"
	"os/exec"
)

// netnsCommand runs name inside the named network namespace with
// `ip netns exec`.
func netnsCommand(ctx context.Context, netns, name string, args []string) (*exec.Cmd, error) {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", netns, name}, args...)...), nil
}
