package vrrp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/lvskit/lvskit/internal/rawpoll"
)

// rawConn sends and receives VRRP over a raw IPv4 socket (protocol 112)
// bound to one interface.
//
// Adverts are sent and received with raw system calls on the non-blocking
// socket, waiting for readiness in the runtime's poller. A raw call does
// not enter the scheduler's system call path, which would wake the
// runtime's monitor thread and have it poll every 20 µs for as long as the
// call lasts; on a node that only sends an advert a second, those polls
// were most of its idle CPU time.
type rawConn struct {
	pc  *net.IPConn
	rc  syscall.RawConn
	p   *ipv4.PacketConn
	ifi *net.Interface

	// Receive state, used by ReadFrom only. Kept here, on the heap, so
	// that the kernel gets stable pointers.
	buf   []byte // a whole IP packet
	oob   []byte
	rname unix.RawSockaddrInet4
	riov  unix.Iovec
	rmsg  unix.Msghdr

	// Send state, used by WriteTo only.
	wname unix.RawSockaddrInet4
	wiov  unix.Iovec
	wmsg  unix.Msghdr
	woob  []byte // an IP_PKTINFO control message
}

// listenRaw opens the socket in the calling thread's network namespace:
// bound to ifi, member of 224.0.0.18 on ifi, TTL 255 for multicast and
// unicast, TOS 0xc0 as keepalived, multicast loop off, and control
// messages for TTL, destination and interface on receive.
func listenRaw(ifi *net.Interface) (*rawConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifi.Name)
			if serr == nil {
				// Kernel receive timestamps anchor the timers at arrival.
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
			}
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("binding to %s: %w", ifi.Name, serr)
		}
		return nil
	}}
	pc, err := lc.ListenPacket(context.Background(), "ip4:112", "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", ifi.Name, err)
	}
	p := ipv4.NewPacketConn(pc)
	steps := []struct {
		what string
		do   func() error
	}{
		{"join 224.0.0.18", func() error { return p.JoinGroup(ifi, &net.IPAddr{IP: MulticastGroup.AsSlice()}) }},
		{"multicast interface", func() error { return p.SetMulticastInterface(ifi) }},
		{"multicast TTL 255", func() error { return p.SetMulticastTTL(255) }},
		{"TTL 255", func() error { return p.SetTTL(255) }},
		{"TOS 0xc0", func() error { return p.SetTOS(0xc0) }},
		{"multicast loop off", func() error { return p.SetMulticastLoopback(false) }},
		{"control messages", func() error {
			return p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true)
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			pc.Close()
			return nil, fmt.Errorf("vrrp: raw socket on %s: %s: %w", ifi.Name, s.what, err)
		}
	}
	oob := ipv4.NewControlMessage(ipv4.FlagTTL | ipv4.FlagDst | ipv4.FlagInterface)
	oob = append(oob, make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))...)
	ipc := pc.(*net.IPConn)
	rc, err := ipc.SyscallConn()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", ifi.Name, err)
	}
	return &rawConn{pc: ipc, rc: rc, p: p, ifi: ifi, buf: make([]byte, 65536), oob: oob,
		woob: make([]byte, unix.CmsgSpace(unix.SizeofInet4Pktinfo))}, nil
}

// recvmsg reads one packet into c.buf and its control messages into c.oob.
func (c *rawConn) recvmsg() (n, oobn int, src netip.Addr, err error) {
	c.riov.Base = &c.buf[0]
	c.riov.SetLen(len(c.buf))
	c.rmsg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&c.rname)), Namelen: unix.SizeofSockaddrInet4, Iov: &c.riov, Control: &c.oob[0]}
	c.rmsg.SetIovlen(1)
	c.rmsg.SetControllen(len(c.oob))
	n, err = rawpoll.RecvMsg(c.rc, &c.rmsg, 0)
	if err != nil {
		return 0, 0, netip.Addr{}, err
	}
	return n, int(c.rmsg.Controllen), netip.AddrFrom4(c.rname.Addr), nil
}

// ReadFrom returns the VRRP message of the next packet with its source,
// and TTL, destination and interface from the control messages, and the
// kernel's receive time.
func (c *rawConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	for {
		// A raw socket returns the IPv4 header too.
		n, oobn, src, err := c.recvmsg()
		if err != nil {
			return 0, PacketInfo{}, err
		}
		now := time.Now()
		if n < ipv4.HeaderLen || c.buf[0]>>4 != 4 {
			continue
		}
		hl := int(c.buf[0]&0x0f) << 2
		if hl < ipv4.HeaderLen || hl > n {
			continue
		}
		info := PacketInfo{Src: src}
		var cm ipv4.ControlMessage
		if err := cm.Parse(c.oob[:oobn]); err == nil {
			info.TTL, info.IfIndex = cm.TTL, cm.IfIndex
			info.Dst, _ = netip.AddrFromSlice(cm.Dst.To4())
		}
		if info.IfIndex != 0 && info.IfIndex != c.ifi.Index {
			continue // bound to the device; belt and braces
		}
		info.At = now
		if ts, ok := rxTimestamp(c.oob[:oobn]); ok {
			// Keep the monotonic reading: now minus the packet's age.
			if age := now.Sub(ts); age >= 0 && age < time.Second {
				info.At = now.Add(-age)
			}
		}
		return copy(b, c.buf[hl:n]), info, nil
	}
}

// rxTimestamp finds the SCM_TIMESTAMPNS control message.
func rxTimestamp(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(ts.Unix()), true
		}
	}
	return time.Time{}, false
}

// WriteTo implements Conn. A valid src goes into an IP_PKTINFO control
// message with the interface.
func (c *rawConn) WriteTo(b []byte, src, dst netip.Addr) error {
	if len(b) == 0 || !dst.Is4() {
		return fmt.Errorf("vrrp: send %d bytes to %v: want an IPv4 destination and a message", len(b), dst)
	}
	c.wname = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.As4()}
	c.wiov.Base = &b[0]
	c.wiov.SetLen(len(b))
	c.wmsg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&c.wname)), Namelen: unix.SizeofSockaddrInet4, Iov: &c.wiov}
	c.wmsg.SetIovlen(1)
	if src.IsValid() {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&c.woob[0]))
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
		pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&c.woob[unix.CmsgLen(0)]))
		*pi = unix.Inet4Pktinfo{Ifindex: int32(c.ifi.Index), Spec_dst: src.As4()}
		c.wmsg.Control = &c.woob[0]
		c.wmsg.SetControllen(len(c.woob))
	}
	_, err := rawpoll.SendMsg(c.rc, &c.wmsg)
	return err
}

func (c *rawConn) Close() error { return c.pc.Close() }
