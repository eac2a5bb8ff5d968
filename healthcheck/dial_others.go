//go:build !linux

package healthcheck

import (
	"fmt"
	"syscall"
)

func control(iface string, _, _ bool) func(network, address string, c syscall.RawConn) error {
	if iface == "" {
		return nil
	}
	return func(string, string, syscall.RawConn) error {
		return fmt.Errorf("bind to interface %q: %w", iface, ErrUnsupported)
	}
}
