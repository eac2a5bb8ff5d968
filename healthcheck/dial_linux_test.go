package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fullListener returns a loopback port whose listener never accepts and
// whose accept queue is full, so that a further connect stays in progress
// (its SYN is dropped).
func fullListener(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4(sa.(*unix.SockaddrInet4).Addr), uint16(sa.(*unix.SockaddrInet4).Port))
	for range 3 { // fill the queue
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.Dial("tcp", addr.String()); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return addr
}

// A connect still in progress ends at the check's timeout or when its
// context is canceled, and every socket is closed, whatever the outcome.
func TestConnectOnlyTimeoutCancelAndClose(t *testing.T) {
	stuck := fullListener(t)
	open := tcpServer(t, nil)
	refused := closedPort(t, "tcp")
	(&TCP{Addr: open}).Check(context.Background()) // descriptors the runtime keeps, once
	before := openFDs(t)

	start := time.Now()
	r := (&TCP{Addr: stuck, Timeout: 200 * time.Millisecond}).Check(context.Background())
	checkResult(t, r, resultWant{false, "connect timed out after 200ms"})
	if el := time.Since(start); el < 200*time.Millisecond || el > 3*time.Second {
		t.Errorf("timed-out check took %v, want about 200ms", el)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	r = (&TCP{Addr: stuck, Timeout: 10 * time.Second}).Check(ctx)
	checkResult(t, r, resultWant{false, "connect canceled"})

	for range 30 {
		checkResult(t, (&TCP{Addr: open}).Check(context.Background()), resultWant{true, "connected"})
		checkResult(t, (&TCP{Addr: refused}).Check(context.Background()), resultWant{false, "connect: connection refused"})
	}
	// The test server closes its ends of the connections asynchronously.
	after := openFDs(t)
	for deadline := time.Now().Add(3 * time.Second); after > before && time.Now().Before(deadline); after = openFDs(t) {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before {
		t.Errorf("open descriptors %d before 62 checks, %d after: sockets leak", before, after)
	}
}

// The connected UDP socket that DNS and UDP checks use reads a reply,
// reports ICMP port unreachable, and reports silence at a deadline before
// the check's own.
func TestUDPConnReads(t *testing.T) {
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			if string(buf[:n]) != "quiet" {
				echo.WriteTo(buf[:n], from)
			}
		}
	}()
	open := netip.MustParseAddrPort(echo.LocalAddr().String())
	closed := closedPort(t, "udp")
	type outcome struct {
		reply   string
		refused bool
		timeout bool
	}
	exchange := func(c *udpConn, msg string) outcome {
		defer c.Close()
		if _, err := c.Write([]byte(msg)); err != nil {
			return outcome{refused: errors.Is(err, syscall.ECONNREFUSED)}
		}
		buf := make([]byte, 512)
		n, err := c.ReadUntil(buf, time.Now().Add(200*time.Millisecond))
		if err != nil {
			return outcome{refused: errors.Is(err, syscall.ECONNREFUSED), timeout: isTimeout(err)}
		}
		return outcome{reply: string(buf[:n])}
	}
	for _, tt := range []struct {
		addr netip.AddrPort
		msg  string
		want outcome
	}{
		{open, "hello", outcome{reply: "hello"}},
		{open, "quiet", outcome{timeout: true}},
		{closed, "hello", outcome{refused: true}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := Bind{}.dialUDP(ctx, tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := exchange(c, tt.msg); got != tt.want {
			t.Errorf("%v %q: %+v, want %+v", tt.addr, tt.msg, got, tt.want)
		}
		cancel()
	}
}
