package vrrp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// rawConn6 sends and receives VRRPv3 over a raw IPv6 socket (next header
// 112) bound to one interface, through the runtime's network poller as
// rawConn does for IPv4. The kernel computes the checksum of what is sent
// and drops what arrives with a bad one (IPV6_CHECKSUM at offset 6), as
// keepalived has it do.
type rawConn6 struct {
	pc  *net.IPConn
	rc  syscall.RawConn
	ifi *net.Interface

	buf []byte // the VRRP message (a raw IPv6 socket strips the header)
	oob []byte
}

// listenRaw6 opens the socket in the calling thread's network namespace:
// bound to ifi, member of the groups (ff02::12 by default) on ifi, hop
// limit 255 for multicast and unicast, multicast loop off, kernel
// checksums, and control messages for hop limit, destination and
// interface on receive.
func listenRaw6(ifi *net.Interface, groups []netip.Addr) (*rawConn6, error) {
	lc := boundListenConfig(ifi)
	pc, err := lc.ListenPacket(context.Background(), "ip6:112", "::")
	if err != nil {
		return nil, fmt.Errorf("vrrp: raw IPv6 socket on %s: %w", ifi.Name, err)
	}
	p := ipv6.NewPacketConn(pc)
	var steps []setupStep
	for _, g := range groups {
		steps = append(steps, setupStep{"join " + g.String(), func() error { return p.JoinGroup(ifi, &net.IPAddr{IP: g.AsSlice()}) }})
	}
	steps = append(steps, []setupStep{
		{"multicast interface", func() error { return p.SetMulticastInterface(ifi) }},
		{"multicast hop limit 255", func() error { return p.SetMulticastHopLimit(255) }},
		{"hop limit 255", func() error { return p.SetHopLimit(255) }},
		{"traffic class 0xc0", func() error { return p.SetTrafficClass(0xc0) }},
		{"multicast loop off", func() error { return p.SetMulticastLoopback(false) }},
		{"checksum at offset 6", func() error { return p.SetChecksum(true, 6) }},
		{"control messages", func() error {
			return p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true)
		}},
	}...)
	if err := applySetup(steps); err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: raw IPv6 socket on %s: %w", ifi.Name, err)
	}
	oob := ipv6.NewControlMessage(ipv6.FlagHopLimit | ipv6.FlagDst | ipv6.FlagInterface)
	oob = append(oob, make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))...)
	ipc := pc.(*net.IPConn)
	rc, err := ipc.SyscallConn()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vrrp: raw IPv6 socket on %s: %w", ifi.Name, err)
	}
	return &rawConn6{pc: ipc, rc: rc, ifi: ifi, buf: make([]byte, 65536), oob: oob}, nil
}

// ReadFrom implements Conn: the VRRP message with its source (without
// zone), hop limit, destination and interface, and the kernel's receive
// time.
func (c *rawConn6) ReadFrom(b []byte) (int, PacketInfo, error) {
	for {
		var n, oobn int
		var from unix.Sockaddr
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
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
			return 0, PacketInfo{}, err
		}
		now := time.Now()
		sa, ok := from.(*unix.SockaddrInet6)
		if !ok {
			continue
		}
		info := PacketInfo{Src: netip.AddrFrom16(sa.Addr), TTL: -1}
		var cm ipv6.ControlMessage
		if err := cm.Parse(c.oob[:oobn]); err == nil {
			info.TTL, info.IfIndex = cm.HopLimit, cm.IfIndex
			info.Dst, _ = netip.AddrFromSlice(cm.Dst)
		}
		if info.IfIndex != 0 && info.IfIndex != c.ifi.Index {
			continue
		}
		info.At = now
		if ts, ok := rxTimestamp(c.oob[:oobn]); ok {
			if age := now.Sub(ts); age >= 0 && age < time.Second {
				info.At = now.Add(-age)
			}
		}
		return copy(b, c.buf[:n]), info, nil
	}
}

// WriteTo implements Conn. A valid src, and the interface, go into an
// IPV6_PKTINFO control message; a link-local or multicast dst is scoped
// to the interface.
func (c *rawConn6) WriteTo(b []byte, src, dst netip.Addr) error {
	if len(b) == 0 || !dst.Is6() || dst.Is4In6() {
		return fmt.Errorf("vrrp: send %d bytes to %v: want an IPv6 destination and a message", len(b), dst)
	}
	to := &unix.SockaddrInet6{Addr: dst.As16()}
	if dst.IsLinkLocalUnicast() || dst.IsMulticast() {
		to.ZoneId = uint32(c.ifi.Index)
	}
	cm := ipv6.ControlMessage{IfIndex: c.ifi.Index}
	if src.IsValid() {
		cm.Src = src.WithZone("").AsSlice()
	}
	oob := cm.Marshal()
	err := sendmsg(c.rc, b, oob, to)
	if err != nil && src.IsValid() && sourceRefused(err) {
		err = sendTransparent(c.rc, unix.SOL_IPV6, unix.IPV6_TRANSPARENT, b, oob, to)
	}
	if err != nil {
		return os.NewSyscallError("sendmsg", err)
	}
	return nil
}

func (c *rawConn6) Close() error { return c.pc.Close() }
