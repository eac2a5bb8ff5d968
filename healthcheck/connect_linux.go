package healthcheck

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lvskit/lvskit/internal/rawpoll"
)

// connectOnly opens a TCP connection to addr and closes it again, the
// whole of a TCP check without Send or Expect, the way keepalived's
// TCP_CHECK does: a non-blocking connect, a wait for the socket to become
// writable, its SO_ERROR. Its system calls are raw and the wait is in
// package rawpoll, so that a check costs an idle daemon no runtime
// overhead (see rawpoll's doc). ok is false when that poller is
// unavailable; the caller then dials with package net.
func (b Bind) connectOnly(ctx context.Context, addr netip.AddrPort) (ok bool, err error) {
	p, perr := rawpoll.Shared()
	if perr != nil {
		return false, nil
	}
	fail := func(op string, e syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: os.NewSyscallError(op, e)}
	}
	dst := addr.Addr().Unmap()
	family := unix.AF_INET
	if dst.Is6() {
		family = unix.AF_INET6
	}
	r, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if e != 0 {
		return true, fail("socket", e)
	}
	fd := int(r)
	defer unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)

	if b.Interface != "" {
		name := append([]byte(b.Interface), 0)
		if e := setsockopt(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, unsafe.Pointer(&name[0]), len(name)); e != 0 {
			return true, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr),
				Err: fmt.Errorf("bind to interface %q: %w", b.Interface, e)}
		}
	}
	if b.Source.IsValid() {
		src := b.Source.Unmap()
		if src.Is6() != dst.Is6() {
			return true, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr),
				Err: fmt.Errorf("source address %s and target %s are of different families", b.Source, addr.Addr())}
		}
		one := int32(1)
		// Best effort, as in dial: the port is picked at connect.
		_ = setsockopt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, unsafe.Pointer(&one), 4)
		sa, n := sockaddr(netip.AddrPortFrom(src, 0))
		if _, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(n)); e != 0 {
			return true, fail("bind", e)
		}
	}
	sa, n := sockaddr(netip.AddrPortFrom(dst, addr.Port()))
	for {
		_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(n))
		if e != unix.EINTR {
			break
		}
	}
	switch e {
	case 0:
		return true, nil
	case unix.EINPROGRESS:
	default:
		return true, fail("connect", e)
	}
	// To a local or nearby server the handshake is often over by the time
	// connect returns: then there is nothing to wait for.
	if !ready(fd, unix.POLLOUT) {
		if _, err := p.Wait(ctx, fd, unix.EPOLLOUT); err != nil {
			return true, err
		}
	}
	var soerr int32
	size := uint32(4)
	if _, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR,
		uintptr(unsafe.Pointer(&soerr)), uintptr(unsafe.Pointer(&size)), 0); e != 0 {
		return true, fail("getsockopt", e)
	}
	if soerr != 0 {
		return true, fail("connect", syscall.Errno(soerr))
	}
	return true, nil
}

// ready reports whether fd has any of events (or an error or hang-up)
// now, without waiting.
func ready(fd int, events int16) bool {
	pfd := unix.PollFd{Fd: int32(fd), Events: events}
	var zero unix.Timespec
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
	return e == 0 && n == 1
}

func setsockopt(fd, level, name int, val unsafe.Pointer, n int) syscall.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), uintptr(n), 0)
	return e
}

// sockaddr encodes ap as a struct sockaddr_in or sockaddr_in6 and returns
// its length.
func sockaddr(ap netip.AddrPort) (sa [unix.SizeofSockaddrInet6]byte, n int) {
	port := ap.Port()
	if ap.Addr().Is4() {
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa[0]))
		in.Family = unix.AF_INET
		in.Port = port>>8 | port<<8
		in.Addr = ap.Addr().As4()
		return sa, unix.SizeofSockaddrInet4
	}
	in := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sa[0]))
	in.Family = unix.AF_INET6
	in.Port = port>>8 | port<<8
	in.Addr = ap.Addr().As16()
	if z := ap.Addr().Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			in.Scope_id = uint32(ifi.Index)
		}
	}
	return sa, unix.SizeofSockaddrInet6
}
