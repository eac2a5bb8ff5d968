package healthcheck

import (
	"bytes"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// A check's packets carry its Mark: an nftables rule in the checking
// namespace counts the packets with mark 42 to each server's port, and
// only the marked checks' packets are counted.
func TestIntegrationCheckMark(t *testing.T) {
	netnstest.RequirePrivileged(t, "nft")
	ns := netnstest.New(t)
	ns.Run(t, "nft", "add table inet marks")
	ns.Run(t, "nft", "add chain inet marks out { type filter hook output priority 0 ; }")
	for _, r := range []string{"meta mark 42 tcp dport 7001 counter", "meta mark 42 udp dport 7002 counter", "meta mark 42 tcp dport 7003 counter"} {
		ns.Run(t, "nft", "add rule inet marks out "+r)
	}
	var ln net.Listener
	var pc net.PacketConn
	if err := ns.Do(func() error {
		var err error
		if ln, err = net.Listen("tcp4", "127.0.0.1:7001"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp4", "127.0.0.1:7002")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	defer pc.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Read the request (to its blank line, or the end) first:
				// closing with unread data would reset the connection.
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				var req []byte
				buf := make([]byte, 512)
				for !bytes.Contains(req, []byte("\r\n\r\n")) {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					req = append(req, buf[:n]...)
				}
				c.Write([]byte("HTTP/1.0 200 OK\r\n\r\nok"))
			}()
		}
	}()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	mark := Bind{Mark: 42}
	marked := []Checker{
		&TCP{Addr: netip.MustParseAddrPort("127.0.0.1:7001"), Timeout: 5 * time.Second, Bind: mark},
		&HTTP{URL: "http://127.0.0.1:7001/", Protocol: "1.0", Timeout: 5 * time.Second, Body: regexp.MustCompile("ok"), Bind: mark},
		&UDP{Addr: netip.MustParseAddrPort("127.0.0.1:7002"), Timeout: 5 * time.Second, Reply: &UDPReply{MaxLen: 255}, Bind: mark},
	}
	unmarked := []Checker{
		&TCP{Addr: netip.MustParseAddrPort("127.0.0.1:7001"), Timeout: 5 * time.Second},
		&UDP{Addr: netip.MustParseAddrPort("127.0.0.1:7002"), Timeout: 5 * time.Second, Reply: &UDPReply{MaxLen: 255}},
	}
	for i, c := range marked {
		if r, _ := checkIn(t, ns, c); !r.Up {
			t.Fatalf("marked check %d (%T): %v", i, c, r)
		}
	}
	// A marked check of a closed port: refused, and its SYN counted.
	if r, _ := checkIn(t, ns, &TCP{Addr: netip.MustParseAddrPort("127.0.0.1:7003"), Timeout: 5 * time.Second, Bind: mark}); r.Up {
		t.Errorf("closed port: %v, want down", r)
	}
	before := markCounters(t, ns)
	t.Logf("marked packets per port: %v", before)
	// TCP: two connections (the TCP and the HTTP check), each at least
	// SYN, ACK and FIN; UDP: one datagram; the closed port: one SYN.
	for port, want := range map[string][2]int{"7001": {6, 20}, "7002": {1, 1}, "7003": {1, 1}} {
		if n := before[port]; n < want[0] || n > want[1] {
			t.Errorf("port %s: %d marked packets, want %d-%d", port, n, want[0], want[1])
		}
	}
	for i, c := range unmarked {
		if r, _ := checkIn(t, ns, c); !r.Up {
			t.Fatalf("unmarked check %d (%T): %v", i, c, r)
		}
	}
	if after := markCounters(t, ns); after["7001"] != before["7001"] || after["7002"] != before["7002"] {
		t.Errorf("unmarked checks counted as marked: %v, then %v", before, after)
	}
}

// markCounters reads the packet counters of the marks chain by port.
func markCounters(t *testing.T, ns *netnstest.NS) map[string]int {
	t.Helper()
	out := ns.Run(t, "nft", "list chain inet marks out")
	got := map[string]int{}
	for _, m := range regexp.MustCompile(`dport (\d+) counter packets (\d+)`).FindAllStringSubmatch(out, -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(got) != 3 {
		t.Fatalf("counters %v from:\n%s", got, out)
	}
	return got
}
