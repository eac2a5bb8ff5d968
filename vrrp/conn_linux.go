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
)

// rawConn sends and receives VRRP over a raw IPv4 socket (protocol 112)
// bound to one interface.
type rawConn struct {
	pc  *net.IPConn
	p   *ipv4.PacketConn
	ifi *net.Interface
	buf []byte // a whole IP packet
	oob []byte
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
	return &rawConn{pc: pc.(*net.IPConn), p: p, ifi: ifi, buf: make([]byte, 65536), oob: oob}, nil
}

// ReadFrom returns the VRRP message of the next packet with its source,
// and TTL, destination and interface from the control messages, and the
// kernel's receive time.
func (c *rawConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	for {
		// A raw socket's ReadMsgIP returns the IPv4 header too.
		n, oobn, _, src, err := c.pc.ReadMsgIP(c.buf, c.oob)
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
		var info PacketInfo
		info.Src, _ = netip.AddrFromSlice(src.IP.To4())
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

func (c *rawConn) WriteTo(b []byte, src, dst netip.Addr) error {
	var cm *ipv4.ControlMessage
	if src.IsValid() {
		cm = &ipv4.ControlMessage{Src: src.AsSlice(), IfIndex: c.ifi.Index}
	}
	_, err := c.p.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice()})
	return err
}

func (c *rawConn) Close() error { return c.pc.Close() }
