package rawpoll

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SendMsg sends msg on rc's socket with a raw sendmsg(2) (MSG_DONTWAIT),
// waiting in the runtime's poller while the socket has no room, and returns
// the bytes sent. rc's own error (the socket closed) comes back as it is; a
// failed sendmsg as an *os.SyscallError. The socket must be non-blocking
// and registered in the runtime's poller (a net or os value's RawConn).
func SendMsg(rc syscall.RawConn, msg *unix.Msghdr) (int, error) {
	return msgIO(rc.Write, unix.SYS_SENDMSG, "sendmsg", msg, 0)
}

// RecvMsg is SendMsg's counterpart: it receives into msg with a raw
// recvmsg(2) and the given flags (MSG_DONTWAIT added), waiting in the
// runtime's poller while nothing is there to read.
func RecvMsg(rc syscall.RawConn, msg *unix.Msghdr, flags int) (int, error) {
	return msgIO(rc.Read, unix.SYS_RECVMSG, "recvmsg", msg, flags)
}

func msgIO(io func(func(uintptr) bool) error, trap uintptr, name string, msg *unix.Msghdr, flags int) (int, error) {
	var (
		n   int
		err error
	)
	ioErr := io(func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(trap, fd, uintptr(unsafe.Pointer(msg)), uintptr(flags|unix.MSG_DONTWAIT))
			switch e {
			case 0:
				n = int(r)
				return true
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait in the poller
			default:
				err = os.NewSyscallError(name, e)
				return true
			}
		}
	})
	if ioErr != nil {
		return 0, ioErr
	}
	return n, err
}
