package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// dialer returns a net.Dialer for network ("tcp" or "udp") honouring the
// binding. recvErr asks for every ICMP error on a connected UDP socket
// (IP_RECVERR), not only port unreachable, so that an unreachable host is
// reported instead of looking like silence. TCP keepalives are off: a check
// connection lives for one exchange.
func (b Bind) dialer(network string, recvErr bool) *net.Dialer {
	d := &net.Dialer{Control: control(b, recvErr), KeepAlive: -1}
	if b.Source.IsValid() || b.SourcePort != 0 {
		var ip net.IP
		if b.Source.IsValid() {
			ip = net.IP(b.Source.AsSlice())
		}
		if network == "udp" {
			d.LocalAddr = &net.UDPAddr{IP: ip, Port: int(b.SourcePort)}
		} else {
			d.LocalAddr = &net.TCPAddr{IP: ip, Port: int(b.SourcePort)}
		}
	}
	return d
}

// dial connects to addr. Without a source address nothing is bound before
// connect, so the kernel picks the local port per destination; with one,
// the port is still picked at connect (IP_BIND_ADDRESS_NO_PORT on Linux),
// which keeps thousands of checks a second from exhausting local ports;
// with a source port, that port.
func (b Bind) dial(ctx context.Context, network string, addr netip.AddrPort, recvErr bool) (net.Conn, error) {
	return b.dialer(network, recvErr).DialContext(ctx, network, addr.String())
}

// udpConn is a connected UDP socket for one check, whose deadline is the
// check's: ctx ending cuts a read short.
type udpConn struct {
	net.Conn
	stop func() bool
}

// dialUDP connects a UDP socket to addr for one check that ends with ctx.
func (b Bind) dialUDP(ctx context.Context, addr netip.AddrPort) (*udpConn, error) {
	conn, err := b.dial(ctx, "udp", addr, true)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return &udpConn{conn, context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })}, nil
}

// ReadUntil reads a datagram, waiting until the check's end or, if set,
// deadline, whichever is first.
func (c *udpConn) ReadUntil(b []byte, deadline time.Time) (int, error) {
	if !deadline.IsZero() {
		c.SetReadDeadline(deadline)
	}
	return c.Read(b)
}

func (c *udpConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
