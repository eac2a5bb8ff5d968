//go:build !linux

package healthcheck

import (
	"fmt"
	"syscall"
)

func control(b Bind, _ bool) func(network, address string, c syscall.RawConn) error {
	if b.Interface == "" && b.Mark == 0 {
		return nil
	}
	return func(string, string, syscall.RawConn) error {
		if b.Mark != 0 {
			return fmt.Errorf("set firewall mark %d: %w", b.Mark, ErrUnsupported)
		}
		return fmt.Errorf("bind to interface %q: %w", b.Interface, ErrUnsupported)
	}
}
