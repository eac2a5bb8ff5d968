package healthcheck

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

func control(iface string, recvErr, bound bool) func(network, address string, c syscall.RawConn) error {
	if iface == "" && !recvErr && !bound {
		return nil
	}
	return func(network, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if iface != "" {
				if err := unix.BindToDevice(int(fd), iface); err != nil {
					serr = fmt.Errorf("bind to interface %q: %w", iface, err)
					return
				}
			}
			if bound {
				// Best effort: older kernels lack it and bind as usual.
				_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			}
			if recvErr {
				if network == "udp6" {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
				} else {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}
