package healthcheck

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// control sets the socket options of b (and IP_RECVERR with recvErr)
// before the socket is bound and connected, in the runtime's RawConn
// callback.
func control(b Bind, recvErr bool) func(network, address string, c syscall.RawConn) error {
	iface, bound := b.Interface, b.Source.IsValid() && b.SourcePort == 0
	if iface == "" && !recvErr && !bound && b.SourcePort == 0 && b.Mark == 0 {
		return nil
	}
	return func(network, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if b.Mark != 0 {
				if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(b.Mark)); err != nil {
					serr = fmt.Errorf("set firewall mark %d: %w", b.Mark, err)
					return
				}
			}
			if iface != "" {
				if err := unix.BindToDevice(int(fd), iface); err != nil {
					serr = fmt.Errorf("bind to interface %q: %w", iface, err)
					return
				}
			}
			if b.SourcePort != 0 {
				if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
					serr = fmt.Errorf("reuse source port %d: %w", b.SourcePort, err)
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
