package vrrp

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"golang.org/x/sys/unix"
)

// listenIn opens the advert socket on ifname inside ns.
func listenIn(t *testing.T, ns *netnstest.NS, ifname string) (*rawConn, int) {
	t.Helper()
	var c *rawConn
	var index int
	err := inNS(ns.Handle(), func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		index = ifi.Index
		c, err = listenRaw(ifi, []netip.Addr{MulticastGroup})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, index
}

func TestIntegrationRawConn(t *testing.T) {
	netnstest.RequirePrivileged(t)
	_, hs := articleHosts(t, 2)
	// A second address on the sender: a unicast advert from it shows that
	// the chosen source reaches the wire.
	alias := netip.MustParseAddr("172.16.0.50")
	hs[1].Run(t, "ip", "addr", "add", alias.String()+"/24", "dev", "eth1")
	rx, index := listenIn(t, hs[0], "eth1")
	tx, _ := listenIn(t, hs[1], "eth1")

	tests := []struct {
		name     string
		src, dst netip.Addr
		wantSrc  netip.Addr
	}{
		{"multicast from the primary address", netip.Addr{}, MulticastGroup, svcAddr(1)},
		{"unicast from a chosen address", alias, svcAddr(0), alias},
		{"unicast from the primary address", netip.Addr{}, svcAddr(0), svcAddr(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := []byte("advert " + tt.name)
			sent := time.Now()
			if err := tx.WriteTo(msg, tt.src, tt.dst); err != nil {
				t.Fatal(err)
			}
			// Read well after the arrival: the receive time is the
			// kernel's, not the read's. The arrival itself may lag the
			// send on a loaded machine, so wait until the packet is queued.
			netnstest.WaitFor(t, "the advert queued on the receiver", 5*time.Second, func() bool { return queued(t, rx) })
			queuedBy := time.Now()
			time.Sleep(200 * time.Millisecond)
			readAt := time.Now()
			b := make([]byte, MaxLen)
			n, info, err := rx.ReadFrom(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b[:n], msg) {
				t.Errorf("got %q, want %q", b[:n], msg)
			}
			if info.Src != tt.wantSrc || info.Dst != tt.dst || info.TTL != 255 || info.IfIndex != index {
				t.Errorf("info %+v, want source %v, destination %v, TTL 255, interface %d", info, tt.wantSrc, tt.dst, index)
			}
			if info.At.Before(sent) || info.At.After(queuedBy) {
				t.Errorf("received at %v after the send, want between the send and the moment it was seen queued (%v); the read began at %v",
					info.At.Sub(sent), queuedBy.Sub(sent), readAt.Sub(sent))
			}
		})
	}
}

// queued reports whether c's receive queue holds a packet (SIOCINQ).
func queued(t *testing.T, c *rawConn) bool {
	t.Helper()
	var n int
	var ierr error
	if err := c.rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatalf("SIOCINQ: %v", ierr)
	}
	return n > 0
}
