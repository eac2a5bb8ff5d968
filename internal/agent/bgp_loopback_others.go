//go:build !linux

package agent

import (
	"fmt"
	"net/netip"
	"runtime"
)

// hostLoopback is Linux only.
func hostLoopback(add bool, p netip.Prefix) error {
	return fmt.Errorf("loopback: putting %s on lo: not implemented on %s/%s", p, runtime.GOOS, runtime.GOARCH)
}
