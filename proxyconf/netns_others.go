//go:build !linux

package proxyconf

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
)

// netnsCommand reports that network namespaces are Linux only.
func netnsCommand(ctx context.Context, netns, name string, args []string) (*exec.Cmd, error) {
	return nil, fmt.Errorf("proxyconf: Nginx.NetNS %q: network namespaces are not supported on %s/%s", netns, runtime.GOOS, runtime.GOARCH)
}
