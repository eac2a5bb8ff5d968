package ipvs

import (
	"encoding/binary"
	"fmt"
	"iter"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvskit/lvskit/internal/rawpoll"
)

// receiveSize is the initial size of a socket's receive buffer. The kernel
// sizes the datagrams of a dump after the largest buffer a reader offered,
// up to a little under 32 KiB, so this many bytes hold any of them and ask
// for the fewest. A larger datagram grows the buffer.
const receiveSize = 32 << 10

// nlmsgAlignTo is the alignment of netlink messages in a datagram.
const nlmsgAlignTo = 4

func nlmsgAlign(n int) int { return (n + nlmsgAlignTo - 1) &^ (nlmsgAlignTo - 1) }

// rawSocket is a generic netlink socket that sends and receives with raw
// system calls. It implements what netlink.NewConn wants of a socket:
// Send, SendMessages, Receive, ReceiveIter and Close.
//
// The socket is non-blocking and registered in the runtime's poller through
// an os.File. Each sendmsg and recvmsg is a raw system call with
// MSG_DONTWAIT inside a callback of the file's RawConn: when the kernel has
// nothing to read (or no room to write) the callback says so and the
// goroutine waits in the poller, with no thread blocked. A raw call does
// not enter the scheduler's system call path, which would wake the
// runtime's monitor thread and have it poll every 20 µs for as long as the
// program runs; for a program that reads the IPVS table every few seconds
// and is idle in between, that polling was a real share of its CPU time.
// Only the setup at dial time (socket, bind, getsockname, setsockopt,
// setns) and Close use the ordinary wrappers.
type rawSocket struct {
	f      *os.File        // owns the descriptor
	rc     syscall.RawConn // f's
	closed atomic.Bool

	// Send state, on the heap so that the kernel gets stable pointers.
	wmu   sync.Mutex
	wname unix.RawSockaddrNetlink
	wiov  unix.Iovec
	wmsg  unix.Msghdr

	// Receive state: a buffer reused for every datagram, whose messages
	// are copied out to memory of their own.
	rmu  sync.Mutex
	rbuf []byte
	riov unix.Iovec
	rmsg unix.Msghdr
}

// dialRawSocket opens a NETLINK_GENERIC socket, in the network namespace
// of the file descriptor netns when it is not zero and in the calling
// thread's otherwise, binds it to a port ID the kernel chooses, and returns
// it with that port ID. The calling thread never changes namespace.
// Errors name the step that failed; for a failed system call they wrap its
// *os.SyscallError.
func dialRawSocket(netns int) (*rawSocket, uint32, error) {
	var fd int
	open := func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
		if err != nil {
			return fmt.Errorf("creating a generic netlink socket: %w", os.NewSyscallError("socket", err))
		}
		return nil
	}
	var err error
	if netns != 0 {
		err = inNetNS(netns, open)
	} else {
		err = open()
	}
	if err != nil {
		return nil, 0, err
	}
	pid, err := bindNetlink(fd)
	if err != nil {
		unix.Close(fd)
		return nil, 0, err
	}
	// A non-blocking descriptor is registered in the runtime's poller.
	f := os.NewFile(uintptr(fd), "netlink")
	// Only a descriptor in the poller supports deadlines: without this
	// check a failed registration would show only as errors on every read.
	if err := f.SetDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("waiting for the netlink socket in the runtime's poller: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("netlink socket: %w", err)
	}
	return &rawSocket{f: f, rc: rc, rbuf: make([]byte, receiveSize)}, pid, nil
}

// bindNetlink binds fd with port ID 0, so that the kernel assigns one, and
// returns the one it assigned.
func bindNetlink(fd int) (uint32, error) {
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("binding the netlink socket: %w", os.NewSyscallError("bind", err))
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, fmt.Errorf("reading the netlink port ID: %w", os.NewSyscallError("getsockname", err))
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		return 0, fmt.Errorf("reading the netlink port ID: getsockname returned a %T", sa)
	}
	return nl.Pid, nil
}

// threadNetNS is the network namespace of the calling thread.
const threadNetNS = "/proc/thread-self/ns/net"

// inNetNS runs fn on an OS thread of its own inside the network namespace
// of the file descriptor netns, so that the sockets fn creates belong to
// it. The thread goes back to its namespace before it serves other
// goroutines; if it cannot, it stays locked to the goroutine, which ends,
// and the runtime ends the thread with it.
func inNetNS(netns int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("saving the thread's network namespace: %w", &os.PathError{Op: "open", Path: threadNetNS, Err: err})
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(netns, unix.CLONE_NEWNET); err != nil {
			// A failed setns leaves the thread where it was.
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering network namespace fd %d: %w", netns, os.NewSyscallError("setns", err))
			return
		}
		err = fn()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		// Otherwise the thread stays locked and ends with this goroutine;
		// the socket fn made is in its namespace all the same.
		errc <- err
	}()
	return <-errc
}

// setsockoptInt sets an integer socket option on the descriptor.
func (s *rawSocket) setsockoptInt(level, name, value int) error {
	var serr error
	err := s.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), level, name, value)
	})
	if err != nil {
		return s.closedErr(err)
	}
	if serr != nil {
		return os.NewSyscallError("setsockopt", serr)
	}
	return nil
}

// Send sends m to the kernel.
func (s *rawSocket) Send(m netlink.Message) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return s.sendmsg(b)
}

// SendMessages sends ms to the kernel in one datagram, which the kernel
// processes message by message.
func (s *rawSocket) SendMessages(ms []netlink.Message) error {
	var b []byte
	for _, m := range ms {
		mb, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		b = append(b, mb...)
	}
	return s.sendmsg(b)
}

// sendmsg sends b as one datagram to the kernel (port ID 0).
func (s *rawSocket) sendmsg(b []byte) error {
	if s.closed.Load() {
		return errSocketClosed
	}
	if len(b) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wname = unix.RawSockaddrNetlink{Family: unix.AF_NETLINK}
	s.wiov.Base = &b[0]
	s.wiov.SetLen(len(b))
	s.wmsg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.wname)), Namelen: unix.SizeofSockaddrNetlink, Iov: &s.wiov}
	s.wmsg.SetIovlen(1)
	defer func() { s.wiov = unix.Iovec{} }() // do not keep b alive
	n, err := rawpoll.SendMsg(s.rc, &s.wmsg)
	switch {
	case err != nil:
		return s.closedErr(err)
	case n != len(b):
		return fmt.Errorf("sendmsg: sent %d of %d bytes", n, len(b))
	}
	return nil
}

// Receive waits for the next datagram and returns its messages, which own
// their memory.
func (s *rawSocket) Receive() ([]netlink.Message, error) {
	if s.closed.Load() {
		return nil, errSocketClosed
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	var (
		n   int
		err error
	)
	rerr := s.rc.Read(func(fd uintptr) bool {
		var ok bool
		n, ok, err = s.recvmsg(fd)
		return ok
	})
	if rerr != nil {
		return nil, s.closedErr(rerr)
	}
	if err != nil {
		return nil, err
	}
	// Zeros pad the last message to its alignment.
	b := make([]byte, nlmsgAlign(n))
	copy(b, s.rbuf[:n])
	return splitMessages(b)
}

// recvmsg reads the next datagram into s.rbuf, first growing it to the
// datagram's size when that is larger. It reports false, with no error,
// when there is nothing to read yet.
func (s *rawSocket) recvmsg(fd uintptr) (n int, ok bool, err error) {
	// A buffer of receiveSize holds any datagram the kernel sends (see
	// receiveSize): then there is no need to learn the size first. A
	// smaller one, which only a test makes, grows after a peek that copies
	// nothing.
	if len(s.rbuf) < receiveSize {
		s.rmsg = unix.Msghdr{}
		size, e := rawRecvmsg(fd, &s.rmsg, unix.MSG_PEEK|unix.MSG_TRUNC)
		switch e {
		case 0:
		case unix.EAGAIN:
			return 0, false, nil
		default:
			return 0, true, os.NewSyscallError("recvmsg", e)
		}
		if size > len(s.rbuf) {
			s.rbuf = make([]byte, nlmsgAlign(size))
		}
	}
	s.riov.Base = &s.rbuf[0]
	s.riov.SetLen(len(s.rbuf))
	s.rmsg = unix.Msghdr{Iov: &s.riov}
	s.rmsg.SetIovlen(1)
	// MSG_TRUNC: the result is the datagram's length even if it did not
	// fit, which only another reader of the socket could cause.
	n, e := rawRecvmsg(fd, &s.rmsg, unix.MSG_TRUNC)
	switch e {
	case 0:
	case unix.EAGAIN:
		return 0, false, nil // another reader took it
	default:
		return 0, true, os.NewSyscallError("recvmsg", e)
	}
	if s.rmsg.Flags&unix.MSG_TRUNC != 0 || n > len(s.rbuf) {
		return 0, true, fmt.Errorf("recvmsg: datagram of %d bytes truncated to %d", n, len(s.rbuf))
	}
	return n, true, nil
}

// rawRecvmsg is recvmsg(2) with MSG_DONTWAIT as a raw system call,
// repeated when a signal interrupts it.
func rawRecvmsg(fd uintptr, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(msg)), uintptr(flags|unix.MSG_DONTWAIT))
		if e != unix.EINTR {
			return int(r), e
		}
	}
}

// ReceiveIter yields the messages of the next datagram, as Receive returns
// them, or Receive's error.
func (s *rawSocket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		msgs, err := s.Receive()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// Close closes the socket, ending a Receive that waits. Closing it again
// does nothing.
func (s *rawSocket) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.f.Close()
}

var errSocketClosed = fmt.Errorf("netlink socket: %w", net.ErrClosed)

// closedErr returns errSocketClosed for an error of the RawConn after
// Close (which says only "use of closed file"), and err otherwise.
func (s *rawSocket) closedErr(err error) error {
	if s.closed.Load() {
		return errSocketClosed
	}
	return err
}

// splitMessages splits a datagram into its netlink messages. Each message
// starts at a 4-byte boundary and its nlmsg_len counts its header and
// payload but not its padding; the messages alias b. A length that is
// shorter than a header or runs past the end of b is an error.
func splitMessages(b []byte) ([]netlink.Message, error) {
	var msgs []netlink.Message
	for off := 0; off < len(b); {
		rest := len(b) - off
		if rest < unix.NLMSG_HDRLEN {
			return nil, fmt.Errorf("netlink datagram of %d bytes: %d bytes at offset %d, fewer than a %d-byte message header", len(b), rest, off, unix.NLMSG_HDRLEN)
		}
		l := binary.NativeEndian.Uint32(b[off:])
		switch {
		case l < unix.NLMSG_HDRLEN:
			return nil, fmt.Errorf("netlink datagram of %d bytes: message at offset %d has length %d, shorter than its %d-byte header", len(b), off, l, unix.NLMSG_HDRLEN)
		case nlmsgAlign64(l) > uint64(rest):
			return nil, fmt.Errorf("netlink datagram of %d bytes: message at offset %d has length %d (%d padded), more than the %d bytes left", len(b), off, l, nlmsgAlign64(l), rest)
		}
		end := off + nlmsgAlign(int(l))
		var m netlink.Message
		// Capped, so that appending to one message's data cannot
		// overwrite the next.
		if err := m.UnmarshalBinary(b[off:end:end]); err != nil {
			return nil, fmt.Errorf("netlink datagram of %d bytes: message at offset %d: %w", len(b), off, err)
		}
		msgs = append(msgs, m)
		off = end
	}
	return msgs, nil
}

// nlmsgAlign64 aligns a 32-bit length without overflow on any platform.
func nlmsgAlign64(l uint32) uint64 {
	return (uint64(l) + nlmsgAlignTo - 1) &^ (nlmsgAlignTo - 1)
}
