//go:build linux

package ipvs

import (
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// receiveBuffer is the socket receive buffer Dial asks for, so that the
// failures of a whole batch fit in it.
const receiveBuffer = 4 << 20

// Dial opens a generic netlink socket (in cfg.NetNS when set) and resolves
// the IPVS family. It needs CAP_NET_ADMIN for every request, reads included,
// and CAP_SYS_ADMIN to enter another network namespace. An error matches
// ErrNotAvailable when the kernel has no IPVS.
func Dial(cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	nc, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{NetNS: cfg.NetNS})
	if err != nil {
		return nil, &OpError{Op: "dial", Err: errnoOf(err)}
	}
	// Failures carry only the header, not the whole request.
	_ = nc.SetOption(netlink.CapAcknowledge, true)
	forceReceiveBuffer(nc, receiveBuffer)
	return New(nc, cfg)
}

// forceReceiveBuffer raises the receive buffer, beyond rmem_max when the
// process may (CAP_NET_ADMIN), best effort.
func forceReceiveBuffer(nc *netlink.Conn, size int) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return
	}
	var serr error
	_ = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
	})
	if serr != nil {
		_ = nc.SetReadBuffer(size)
	}
}
