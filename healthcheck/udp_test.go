package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

func TestUDP(t *testing.T) {
	dns := dnsServer(t, func(q dnsmessage.Message) [][]byte { return [][]byte{answer(t, q, dnsmessage.RCodeSuccess, 0)} })
	query, err := buildQuery(0x1234, dnsmessage.Question{Name: dnsmessage.MustNewName("."), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET})
	if err != nil {
		t.Fatal(err)
	}
	silent := dnsServer(t, func(dnsmessage.Message) [][]byte { return nil })
	const short = 300 * time.Millisecond
	tests := []struct {
		name string
		udp  UDP
		want resultWant
		took time.Duration // minimum duration, when it matters
	}{
		{"closed port is down through ICMP", UDP{Addr: closedPort(t, "udp")}, resultWant{false, "port unreachable (ICMP)"}, 0},
		{"DNS responder answering a query is up", UDP{Addr: dns, Payload: query}, resultWant{true, "reply received"}, 0},
		{"DNS responder with expected reply ID is up", UDP{Addr: dns, Payload: query, Expect: []byte{0x12, 0x34}}, resultWant{true, "reply matched"}, 0},
		{"wrong reply is down", UDP{Addr: dns, Payload: query, Expect: []byte{0x99}, Timeout: short}, resultWant{false, "does not start with"}, short},
		{"silence is up after the wait, as nc -zu", UDP{Addr: silent, Wait: 200 * time.Millisecond}, resultWant{true, "open or filtered"}, 200 * time.Millisecond},
		{"silence is up by default after nine tenths of the timeout", UDP{Addr: silent, Timeout: short}, resultWant{true, "open or filtered"}, short * 9 / 10},
		{"silence with an expected reply is down at the timeout", UDP{Addr: silent, Expect: []byte("x"), Timeout: short}, resultWant{false, "timed out after 300ms"}, short},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			checkResult(t, tt.udp.Check(context.Background()), tt.want)
			if el := time.Since(start); el < tt.took || el > tt.took+3*time.Second {
				t.Errorf("check took %v, want at least %v and not much more", el, tt.took)
			}
		})
	}
}

func TestUDPDefaultPayloadIsX(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		n, _, _ := pc.ReadFrom(buf)
		got <- string(buf[:n])
	}()
	r := (&UDP{Addr: netip.MustParseAddrPort(pc.LocalAddr().String()), Wait: 50 * time.Millisecond}).Check(context.Background())
	checkResult(t, r, resultWant{true, "open or filtered"})
	if p := <-got; p != "X" {
		t.Errorf("server got %q, want %q", p, "X")
	}
}
