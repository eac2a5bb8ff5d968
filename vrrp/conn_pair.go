package vrrp

import (
	"net"
	"net/netip"
	"sync"
)

// pairConn joins an IPv4 and an IPv6 Conn into one, for a Router that runs
// instances of both families on one interface: writes go to the Conn of
// the destination's family; a goroutine per Conn reads into a buffer of
// its own and hands the packet over.
type pairConn struct {
	v4, v6 Conn
	in     chan pairPacket
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

type pairPacket struct {
	data []byte
	info PacketInfo
	err  error
	ack  chan struct{} // closed once data has been copied out
}

// newPairConn starts reading both Conns; Close closes both and stops the
// readers.
func newPairConn(v4, v6 Conn) *pairConn {
	c := &pairConn{v4: v4, v6: v6, in: make(chan pairPacket), done: make(chan struct{})}
	for _, sub := range []Conn{v4, v6} {
		c.wg.Add(1)
		go c.read(sub)
	}
	return c
}

func (c *pairConn) read(sub Conn) {
	defer c.wg.Done()
	buf := make([]byte, MaxLen)
	ack := make(chan struct{}, 1)
	for {
		n, info, err := sub.ReadFrom(buf)
		select {
		case c.in <- pairPacket{data: buf[:n], info: info, err: err, ack: ack}:
		case <-c.done:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-ack:
		case <-c.done:
			return
		}
	}
}

// ReadFrom implements Conn. It returns the first error of either Conn.
func (c *pairConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	select {
	case p := <-c.in:
		n := copy(b, p.data)
		p.ack <- struct{}{}
		return n, p.info, p.err
	case <-c.done:
		return 0, PacketInfo{}, net.ErrClosed
	}
}

// WriteTo implements Conn.
func (c *pairConn) WriteTo(b []byte, src, dst netip.Addr) error {
	if dst.Is6() && !dst.Is4In6() {
		return c.v6.WriteTo(b, src, dst)
	}
	return c.v4.WriteTo(b, src, dst)
}

// Close implements Conn.
func (c *pairConn) Close() error {
	var err4, err6 error
	c.once.Do(func() {
		close(c.done)
		err4, err6 = c.v4.Close(), c.v6.Close()
		c.wg.Wait()
	})
	if err4 != nil {
		return err4
	}
	return err6
}
