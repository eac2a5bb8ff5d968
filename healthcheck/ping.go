package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// pingPayloadLen is the payload size of keepalived's echo requests
// (ICMP_BUFSIZE): 136 bytes of ICMP message in all.
const pingPayloadLen = 128

// pingMaxReads bounds the datagrams one check reads while it waits for its
// reply (a raw socket sees every ICMP message of the namespace).
const pingMaxReads = 4096

// pingSeq numbers the echo requests of every Ping in the process, as
// keepalived numbers its own from one counter.
var pingSeq atomic.Uint32

// Ping checks that a host answers an ICMP echo request, as keepalived's
// PING_CHECK does: one request of 128 bytes of payload, up when the echo
// reply comes back within Timeout (keepalived's connect_timeout). A reply
// must come from Addr and carry the request's identifier and sequence
// number; any other ICMP message (another program's reply, an error) is
// ignored and counted in Ignored, and the check waits on until its
// deadline.
//
// The socket is an unprivileged ICMP ("ping") socket when the process's
// group is inside net.ipv4.ping_group_range, as keepalived's is; otherwise
// a raw ICMP socket, which needs CAP_NET_RAW. Unlike keepalived, Ping never
// widens ping_group_range.
type Ping struct {
	// Addr is the host to ping, IPv4 or IPv6 (with a zone for a
	// link-local address).
	Addr netip.Addr
	// Timeout bounds the wait for the reply; zero means DefaultTimeout.
	Timeout time.Duration

	ignored atomic.Uint64
}

// Ignored is the number of ICMP messages the checks read and dropped: not
// an echo reply to one of their requests, or not a well-formed message.
func (p *Ping) Ignored() uint64 { return p.ignored.Load() }

// Validate reports an address that cannot be pinged.
func (p *Ping) Validate() error {
	a := p.Addr
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || (a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return fmt.Errorf("healthcheck: ping address %q: want a unicast IPv4 or IPv6 address", a.String())
	}
	return nil
}

// Check implements Checker.
func (p *Ping) Check(ctx context.Context) Result {
	if err := p.Validate(); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	ctx, cancel, timeout := withTimeout(ctx, p.Timeout)
	defer cancel()
	addr := p.Addr.Unmap()
	conn, dgram, err := listenICMP(addr.Is6())
	if err != nil {
		return Result{Reason: "open ICMP socket: " + trimOpError(err), Err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	id := uint16(rand.Uint32())
	if dgram {
		// The kernel sets the identifier of a ping socket's requests to
		// its local port, and hands it only the replies that carry it.
		if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
			id = uint16(ua.Port)
		}
	}
	seq := uint16(pingSeq.Add(1))
	req, err := echoRequest(addr.Is6(), id, seq)
	if err != nil {
		return Result{Reason: "build echo request: " + err.Error(), Err: err}
	}
	dst := net.Addr(&net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()})
	if dgram {
		dst = &net.UDPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
	}
	if _, err := conn.WriteTo(req, dst); err != nil {
		return down(ctx, "send echo request", err, timeout)
	}
	buf := make([]byte, 1500)
	for range pingMaxReads {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return down(ctx, "read echo reply", err, timeout)
			}
			if ctx.Err() != nil || isTimeout(err) {
				return Result{Reason: fmt.Sprintf("no echo reply within %v", timeout), Err: err}
			}
			return down(ctx, "read echo reply", err, timeout)
		}
		if isEchoReply(buf[:n], addr.Is6(), id, seq, dgram) && sameHost(from, addr) {
			return up("echo reply")
		}
		p.ignored.Add(1)
	}
	return Result{Reason: fmt.Sprintf("no echo reply among %d ICMP messages", pingMaxReads)}
}

// listenICMP opens an unprivileged ping socket, or a raw ICMP socket when
// the kernel refuses the former (a group outside ping_group_range, or a
// system without ping sockets).
func listenICMP(v6 bool) (*icmp.PacketConn, bool, error) {
	dnet, dad, rnet := "udp4", "0.0.0.0", "ip4:icmp"
	if v6 {
		dnet, dad, rnet = "udp6", "::", "ip6:ipv6-icmp"
	}
	c, err := icmp.ListenPacket(dnet, dad)
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM) &&
		!errors.Is(err, syscall.EPROTONOSUPPORT) && !errors.Is(err, syscall.EAFNOSUPPORT) {
		return nil, false, err
	}
	c, rerr := icmp.ListenPacket(rnet, dad)
	if rerr != nil {
		return nil, false, fmt.Errorf("ping socket: %v; raw socket: %w", trimOpError(err), rerr)
	}
	return c, false, nil
}

// echoRequest is keepalived's echo request: identifier, sequence number
// and 128 bytes of payload. The kernel fills in an ICMPv6 checksum.
func echoRequest(v6 bool, id, seq uint16) ([]byte, error) {
	data := make([]byte, pingPayloadLen)
	for i := range data {
		data[i] = byte(i)
	}
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(id), Seq: int(seq), Data: data}}
	return m.Marshal(nil)
}

// isEchoReply reports whether b is an echo reply to the request id/seq. A
// ping socket's kernel already matched the identifier.
func isEchoReply(b []byte, v6 bool, id, seq uint16, dgram bool) bool {
	proto, want := 1, icmp.Type(ipv4.ICMPTypeEchoReply)
	if v6 {
		proto, want = 58, ipv6.ICMPTypeEchoReply
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil || m.Type != want {
		return false
	}
	e, ok := m.Body.(*icmp.Echo)
	if !ok || e.Seq != int(seq) {
		return false
	}
	return dgram || e.ID == int(id)
}

func sameHost(from net.Addr, want netip.Addr) bool {
	var ip net.IP
	switch a := from.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	default:
		return false
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == want.WithZone("")
}
