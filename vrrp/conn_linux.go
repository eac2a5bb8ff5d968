package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// rawConn sends and receives VRRP over a raw IPv4 socket (protocol 112)
// bound to one interface. Reads and writes wait for the socket in the
// runtime's network poller, as net.IPConn's do; they are ordinary recvmsg
// and sendmsg calls, for the control messages (kernel receive time, and
// the source address of unicast adverts) that net.IPConn does not carry.
type rawConn struct {
	pc  *net.IPConn
	rc  syscall.RawConn
	ifi *net.Interface

	buf []byte // a whole IP packet; used by ReadFrom only
	oob []byte // its control messages
}

// boundListenConfig returns a ListenConfig whose sockets are bound to ifi
// (SO_BINDTODEVICE) and carry kernel receive timestamps, which anchor the
// timers at arrival.
func boundListenConfig(ifi *net.Interface) net.ListenConfig {
	return net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifi.Name)
			if serr == nil {
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
}

// setupStep is one socket option set on a new VRRP socket.
type setupStep struct {
	what string
	do   func() error
}

// applySetup sets each option in turn; the error names the first that failed.
func applySetup(steps []setupStep) error {
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// listenRaw opens the socket in the calling thread's network namespace:
// bound to ifi, member of the groups (224.0.0.18 by default) on ifi, TTL
// 255 for multicast and unicast, TOS 0xc0 as keepalived, multicast loop
// off, and control messages for TTL, destination and interface on receive.
func listenRaw(ifi *net.Interface, groups []netip.Addr) (*rawConn, error) {
	lc := boundListenConfig(ifi)
	pc, err := lc.ListenPacket(context.Background(), "ip4:112", "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", ifi.Name, err)
	}
	p := ipv4.NewPacketConn(pc)
	var steps []setupStep
	for _, g := range groups {
		steps = append(steps, setupStep{"join " + g.String(), func() error { return p.JoinGroup(ifi, &net.IPAddr{IP: g.AsSlice()}) }})
	}
	steps = append(steps, []setupStep{
		{"multicast interface", func() error { return p.SetMulticastInterface(ifi) }},
		{"multicast TTL 255", func() error { return p.SetMulticastTTL(255) }},
		{"TTL 255", func() error { return p.SetTTL(255) }},
		{"TOS 0xc0", func() error { return p.SetTOS(0xc0) }},
		{"multicast loop off", func() error { return p.SetMulticastLoopback(false) }},
		{"control messages", func() error {
			return p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true)
		}},
	}...)
	if err := applySetup(steps); err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", ifi.Name, err)
	}
	oob := ipv4.NewControlMessage(ipv4.FlagTTL | ipv4.FlagDst | ipv4.FlagInterface)
	oob = append(oob, make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))...)
	ipc := pc.(*net.IPConn)
	rc, err := ipc.SyscallConn()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: raw socket on %s: %w", ifi.Name, err)
	}
	return &rawConn{pc: ipc, rc: rc, ifi: ifi, buf: make([]byte, 65536), oob: oob}, nil
}

// recvmsg reads one packet into c.buf and its control messages into c.oob,
// waiting until one has come.
func (c *rawConn) recvmsg() (n, oobn int, src netip.Addr, err error) {
	var from unix.Sockaddr
	var rerr error
	err = c.rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), c.buf, c.oob, 0)
			if rerr != unix.EINTR {
				return rerr != unix.EAGAIN
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, 0, netip.Addr{}, err
	}
	if sa, ok := from.(*unix.SockaddrInet4); ok {
		src = netip.AddrFrom4(sa.Addr)
	}
	return n, oobn, src, nil
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
	to := &unix.SockaddrInet4{Addr: dst.As4()}
	var oob []byte
	if src.IsValid() {
		oob = unix.PktInfo4(&unix.Inet4Pktinfo{Ifindex: int32(c.ifi.Index), Spec_dst: src.As4()})
	}
	err := sendmsg(c.rc, b, oob, to)
	if err != nil && src.IsValid() && sourceRefused(err) {
		err = sendTransparent(c.rc, unix.SOL_IP, unix.IP_TRANSPARENT, b, oob, to)
	}
	if err != nil {
		return os.NewSyscallError("sendmsg", err)
	}
	return nil
}

func (c *rawConn) Close() error { return c.pc.Close() }

// sendmsg sends b with its control messages to to on rc.
func sendmsg(rc syscall.RawConn, b, oob []byte, to unix.Sockaddr) error {
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for {
			_, werr = unix.SendmsgN(int(fd), b, oob, to, 0)
			if werr != unix.EINTR {
				return werr != unix.EAGAIN
			}
		}
	})
	if err == nil {
		err = werr
	}
	return err
}

// sourceRefused reports whether the kernel refused a send for its source
// address, which the host does not have (any more).
func sourceRefused(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EADDRNOTAVAIL)
}

// sendTransparent sends once with the socket transparent (IP_TRANSPARENT,
// IPV6_TRANSPARENT at level and opt), so that the source address need not
// be the host's: a configured source deleted from the host, or the
// deleted source of a resignation, as keepalived, which writes its own IP
// header, sends them. The socket is transparent for this send only.
func sendTransparent(rc syscall.RawConn, level, opt int, b, oob []byte, to unix.Sockaddr) error {
	set := func(v int) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, v) }); err != nil {
			return err
		}
		return serr
	}
	if err := set(1); err != nil {
		return fmt.Errorf("transparent: %w", err)
	}
	err := sendmsg(rc, b, oob, to)
	if cerr := set(0); err == nil && cerr != nil {
		err = fmt.Errorf("not transparent again: %w", cerr)
	}
	return err
}
