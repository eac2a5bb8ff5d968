package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	var addr string
	if network == "tcp" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	} else {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = pc.LocalAddr().String()
		pc.Close()
	}
	return netip.MustParseAddrPort(addr)
}

// tcpServer serves each connection with fn until the test ends.
func tcpServer(t *testing.T, fn func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if fn != nil {
					fn(c)
				}
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

type resultWant struct {
	up     bool
	reason string // substring of Reason
}

func checkResult(t *testing.T, got Result, want resultWant) {
	t.Helper()
	if got.Up != want.up || !strings.Contains(got.Reason, want.reason) {
		t.Errorf("result = %v, want up=%v with reason containing %q", got, want.up, want.reason)
	}
}

func TestTCP(t *testing.T) {
	open := tcpServer(t, nil)
	greeter := tcpServer(t, func(c net.Conn) { c.Write([]byte("220 ready\r\n")) })
	echo := tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		c.Write(buf[:n])
	})
	mute := tcpServer(t, func(c net.Conn) { time.Sleep(3 * time.Second) })
	tests := []struct {
		name string
		tcp  TCP
		want resultWant
	}{
		{"open port is up", TCP{Addr: open}, resultWant{true, "connected"}},
		{"closed port is down", TCP{Addr: closedPort(t, "tcp")}, resultWant{false, "connection refused"}},
		{"expected greeting is up", TCP{Addr: greeter, Expect: []byte("220 ")}, resultWant{true, "reply matched"}},
		{"wrong greeting is down", TCP{Addr: greeter, Expect: []byte("500")}, resultWant{false, `does not start with "500"`}},
		{"echoed bytes are up", TCP{Addr: echo, Send: []byte("PING\n"), Expect: []byte("PING")}, resultWant{true, "reply matched"}},
		{"reply shorter than expected is down", TCP{Addr: echo, Send: []byte("P"), Expect: []byte("PING")}, resultWant{false, "ends before"}},
		{"silent server is down at the timeout", TCP{Addr: mute, Expect: []byte("x"), Timeout: 200 * time.Millisecond}, resultWant{false, "read reply timed out after 200ms"}},
		{"port zero is a usage error", TCP{Addr: netip.MustParseAddrPort("127.0.0.1:0")}, resultWant{false, "tcp address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := tt.tcp.Check(context.Background())
			checkResult(t, got, tt.want)
			if tt.tcp.Timeout > 0 {
				if el := time.Since(start); el < tt.tcp.Timeout || el > tt.tcp.Timeout+2*time.Second {
					t.Errorf("check took %v, want about the timeout %v", el, tt.tcp.Timeout)
				}
			}
		})
	}
}

func TestTCPCanceled(t *testing.T) {
	mute := tcpServer(t, func(c net.Conn) { time.Sleep(3 * time.Second) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	got := (&TCP{Addr: mute, Expect: []byte("x"), Timeout: 10 * time.Second}).Check(ctx)
	checkResult(t, got, resultWant{false, "canceled"})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("canceled check returned after %v", el)
	}
}

func TestTCPSourceBinding(t *testing.T) {
	var peer = make(chan string, 1)
	addr := tcpServer(t, func(c net.Conn) { peer <- c.RemoteAddr().(*net.TCPAddr).IP.String() })
	got := (&TCP{Addr: addr, Bind: Bind{Source: netip.MustParseAddr("127.0.0.7")}}).Check(context.Background())
	checkResult(t, got, resultWant{true, "connected"})
	select {
	case p := <-peer:
		if p != "127.0.0.7" {
			t.Errorf("server saw the check come from %s, want 127.0.0.7", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server saw no connection")
	}
}

func TestTCPInterfaceBinding(t *testing.T) {
	addr := tcpServer(t, nil)
	got := (&TCP{Addr: addr, Bind: Bind{Interface: "lvskit-no-such0"}}).Check(context.Background())
	checkResult(t, got, resultWant{false, `"lvskit-no-such0"`})
}
