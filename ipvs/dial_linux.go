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

// Dial opens a generic netlink socket (in cfg.NetNS when set) and resolves
// the IPVS family. It needs CAP_NET_ADMIN for every request, reads included,
// and CAP_SYS_ADMIN to enter another network namespace; the calling thread
// stays in its namespace. The socket waits for replies in the runtime's
// poller and makes its system calls raw, without the runtime's system call
// path, so that a program that only reads the table now and then stays
// cheap while idle.
//
// An error opening the socket is an *OpError with Op "dial", Target the
// system call that failed (such as "socket" or "setns") and Err its errno,
// or the error itself when it has none. An error matches ErrNotAvailable
// when the kernel has no IPVS.
func Dial(cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	s, pid, err := dialRawSocket(cfg.NetNS)
	if err != nil {
		return nil, &OpError{Op: "dial", Target: failedCall(err), Err: errnoOf(err)}
	}
	configure(s)
	return New(netlink.NewConn(s, pid), cfg)
}

// configure sets Dial's socket options, best effort: NETLINK_CAP_ACK, so
// that failures carry only the header and not the whole request, and the
// receive buffer.
func configure(s *rawSocket) {
	_ = s.setsockoptInt(unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	forceReceiveBuffer(s, receiveBuffer)
}

// forceReceiveBuffer raises the receive buffer, beyond rmem_max when the
// process may (CAP_NET_ADMIN), best effort.
func forceReceiveBuffer(s *rawSocket, size int) {
	if s.setsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
		_ = s.setsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUF, size)
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
