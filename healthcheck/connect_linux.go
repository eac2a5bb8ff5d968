package healthcheck

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
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
	fd, inProgress, err := b.rawSocket(unix.SOCK_STREAM, addr, false)
	if err != nil {
		return true, err
	}
	defer closeRaw(fd)
	// To a local or nearby server the handshake is often over by the time
	// connect returns: then there is nothing to wait for.
	if inProgress && !ready(fd, unix.POLLOUT) {
		if _, err := p.Wait(ctx, fd, unix.EPOLLOUT); err != nil {
			return true, err
		}
	}
	var soerr int32
	size := uint32(4)
	if _, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR,
		uintptr(unsafe.Pointer(&soerr)), uintptr(unsafe.Pointer(&size)), 0); e != 0 {
		return true, opError("dial", "tcp", addr, "getsockopt", e)
	}
	if soerr != 0 {
		return true, opError("dial", "tcp", addr, "connect", syscall.Errno(soerr))
	}
	return true, nil
}

// opError describes a failed system call as package net would.
func opError(op, network string, addr netip.AddrPort, call string, e syscall.Errno) error {
	var a net.Addr = net.TCPAddrFromAddrPort(addr)
	if network == "udp" {
		a = net.UDPAddrFromAddrPort(addr)
	}
	return &net.OpError{Op: op, Net: network, Addr: a, Err: os.NewSyscallError(call, e)}
}

// rawSocket opens a non-blocking socket of type typ (SOCK_STREAM or
// SOCK_DGRAM) to addr, bound to b's interface and source address, and
// connects it, with raw system calls. inProgress is set when a TCP
// connect goes on in the background. recvErr asks a UDP socket for every
// ICMP error (IP_RECVERR), as dial does.
func (b Bind) rawSocket(typ int, addr netip.AddrPort, recvErr bool) (fd int, inProgress bool, err error) {
	network := "tcp"
	proto := unix.IPPROTO_TCP
	if typ == unix.SOCK_DGRAM {
		network, proto = "udp", unix.IPPROTO_UDP
	}
	dst := addr.Addr().Unmap()
	family, ipLevel, recvErrOpt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_RECVERR
	if dst.Is6() {
		family, ipLevel, recvErrOpt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	r, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ)|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, uintptr(proto))
	if e != 0 {
		return -1, false, opError("dial", network, addr, "socket", e)
	}
	fd = int(r)
	defer func() {
		if err != nil {
			closeRaw(fd)
		}
	}()
	if b.Interface != "" {
		name := append([]byte(b.Interface), 0)
		if e := setsockopt(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, unsafe.Pointer(&name[0]), len(name)); e != 0 {
			return -1, false, &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(addr),
				Err: fmt.Errorf("bind to interface %q: %w", b.Interface, e)}
		}
	}
	if recvErr && typ == unix.SOCK_DGRAM {
		one := int32(1)
		if e := setsockopt(fd, ipLevel, recvErrOpt, unsafe.Pointer(&one), 4); e != 0 {
			return -1, false, opError("dial", network, addr, "setsockopt", e)
		}
	}
	if b.Source.IsValid() {
		src := b.Source.Unmap()
		if src.Is6() != dst.Is6() {
			return -1, false, &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(addr),
				Err: fmt.Errorf("source address %s and target %s are of different families", b.Source, addr.Addr())}
		}
		one := int32(1)
		// Best effort, as in dial: the port is picked at connect.
		_ = setsockopt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, unsafe.Pointer(&one), 4)
		sa, n := sockaddr(netip.AddrPortFrom(src, 0))
		if _, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(n)); e != 0 {
			return -1, false, opError("dial", network, addr, "bind", e)
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
		return fd, false, nil
	case unix.EINPROGRESS:
		return fd, true, nil
	}
	return -1, false, opError("dial", network, addr, "connect", e)
}

// rawUDP is a connected UDP socket whose system calls are raw and whose
// waits are in package rawpoll.
type rawUDP struct {
	fd   int
	p    *rawpoll.Poller
	ctx  context.Context
	addr netip.AddrPort
}

// dialUDP connects a UDP socket to addr for one check that ends with ctx:
// raw where package rawpoll works, with package net otherwise.
func (b Bind) dialUDP(ctx context.Context, addr netip.AddrPort) (udpConn, error) {
	p, err := rawpoll.Shared()
	if err != nil {
		return b.dialNetUDP(ctx, addr)
	}
	fd, _, err := b.rawSocket(unix.SOCK_DGRAM, addr, true)
	if err != nil {
		return nil, err
	}
	return &rawUDP{fd: fd, p: p, ctx: ctx, addr: addr}, nil
}

func (c *rawUDP) Write(b []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, opError("write", "udp", c.addr, "write", e)
	}
}

func (c *rawUDP) ReadUntil(b []byte, deadline time.Time) (int, error) {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
		default:
			return 0, opError("read", "udp", c.addr, "read", e)
		}
		// A deadline before the check's own needs a timer; the check's
		// own (the Monitor's attempt) ends without one.
		ctx, cancel := c.ctx, context.CancelFunc(func() {})
		if dl, ok := c.ctx.Deadline(); !deadline.IsZero() && (!ok || deadline.Before(dl)) {
			ctx, cancel = context.WithDeadline(c.ctx, deadline)
		}
		_, err := c.p.Wait(ctx, c.fd, unix.EPOLLIN)
		cancel()
		if err != nil {
			return 0, err
		}
	}
}

func (c *rawUDP) Close() error {
	closeRaw(c.fd)
	return nil
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
