//go:build linux

package ipvs

import (
	"errors"
	"os"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// receiveBuffer is the socket receive buffer Dial asks for, so that the
// failures of a whole batch fit in it.
const receiveBuffer = 4 << 20

// messageBufferSize is the size of the buffer each datagram is read into.
// The kernel sizes the datagrams of a dump after the largest buffer a
// reader offered, up to a little under 32 KiB, so a buffer this large holds
// any datagram IPVS or the generic netlink controller sends.
const messageBufferSize = 32 << 10

// Dial opens a generic netlink connection (in the network namespace
// cfg.NetNS when set) and resolves the IPVS family. It opens no other
// netlink family. Every IPVS request, reads included, needs CAP_NET_ADMIN,
// and entering another network namespace needs CAP_SYS_ADMIN; the caller
// stays in its own namespace.
//
// An error opening the connection is an *OpError with Op "dial", Target the
// system call that failed (such as "socket" or "setns") and Err its errno,
// or the error itself when it has none. An error matches ErrNotAvailable
// when the kernel has no IPVS.
func Dial(cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c, err := dialConn(cfg.NetNS)
	if err != nil {
		return nil, &OpError{Op: "dial", Target: failedCall(err), Err: errnoOf(err)}
	}
	return New(c, cfg)
}

// dialConn opens Dial's generic netlink connection in the network namespace
// of the file descriptor netns, or the caller's when it is zero.
func dialConn(netns int) (*netlink.Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{
		NetNS:             netns,
		MessageBufferSize: messageBufferSize,
	})
	if err != nil {
		return nil, err
	}
	configure(c)
	return c, nil
}

// configure sets Dial's socket options, best effort: NETLINK_CAP_ACK, so
// that failures carry only the header and not the whole request, and a
// receive buffer that holds the failures of a whole batch.
func configure(c *netlink.Conn) {
	_ = c.SetOption(netlink.CapAcknowledge, true)
	forceReceiveBuffer(c, receiveBuffer)
}

// forceReceiveBuffer raises the receive buffer, beyond rmem_max when the
// process may (CAP_NET_ADMIN), best effort.
func forceReceiveBuffer(c *netlink.Conn, size int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
	}); err != nil || serr != nil {
		_ = c.SetReadBuffer(size)
	}
}

// failedCall names the system call or file operation that failed in err,
// or returns "".
func failedCall(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path
	}
	return ""
}
