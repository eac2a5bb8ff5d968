package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

func TestEchoRequest(t *testing.T) {
	b, err := echoRequest(false, 0x1234, 0xabcd)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8+pingPayloadLen {
		t.Fatalf("request is %d bytes, want %d", len(b), 8+pingPayloadLen)
	}
	if b[0] != 8 || b[1] != 0 || b[4] != 0x12 || b[5] != 0x34 || b[6] != 0xab || b[7] != 0xcd {
		t.Errorf("header % x, want type 8 code 0 id 1234 seq abcd", b[:8])
	}
	// The Internet checksum of a message with its checksum filled in is 0.
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Errorf("checksum does not verify: folded sum %#x", sum)
	}
	b6, err := echoRequest(true, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b6[0] != 128 || len(b6) != 8+pingPayloadLen {
		t.Errorf("ICMPv6 request: type %d, %d bytes; want 128, %d", b6[0], len(b6), 8+pingPayloadLen)
	}
}

func TestIsEchoReply(t *testing.T) {
	msg := func(typ icmp.Type, id, seq int) []byte {
		b, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("x")}}).Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		b     []byte
		v6    bool
		dgram bool
		want  bool
	}{
		{"matching reply", msg(ipv4.ICMPTypeEchoReply, 7, 9), false, false, true},
		{"other identifier on a raw socket", msg(ipv4.ICMPTypeEchoReply, 8, 9), false, false, false},
		{"other identifier on a ping socket (kernel matched it)", msg(ipv4.ICMPTypeEchoReply, 8, 9), false, true, true},
		{"other sequence", msg(ipv4.ICMPTypeEchoReply, 7, 10), false, false, false},
		{"an echo request", msg(ipv4.ICMPTypeEcho, 7, 9), false, false, false},
		{"ICMPv6 reply", msg(ipv6.ICMPTypeEchoReply, 7, 9), true, false, true},
		{"ICMPv4 reply read as ICMPv6", msg(ipv4.ICMPTypeEchoReply, 7, 9), true, false, false},
		{"truncated", msg(ipv4.ICMPTypeEchoReply, 7, 9)[:3], false, false, false},
		{"empty", nil, false, false, false},
	}
	for _, tt := range tests {
		if got := isEchoReply(tt.b, tt.v6, 7, 9, tt.dgram); got != tt.want {
			t.Errorf("%s: isEchoReply = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSameHost(t *testing.T) {
	want := netip.MustParseAddr("10.0.0.2")
	if !sameHost(&net.IPAddr{IP: net.ParseIP("10.0.0.2")}, want) {
		t.Error("10.0.0.2 (16-byte form) is not 10.0.0.2")
	}
	if sameHost(&net.UDPAddr{IP: net.ParseIP("10.0.0.3")}, want) {
		t.Error("10.0.0.3 is 10.0.0.2")
	}
	if !sameHost(&net.IPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, netip.MustParseAddr("fe80::1%eth0")) {
		t.Error("fe80::1 zone eth0 is not itself")
	}
}

func TestPingInvalid(t *testing.T) {
	for _, a := range []string{"", "0.0.0.0", "224.0.0.18", "255.255.255.255", "ff02::1", "::"} {
		var addr netip.Addr
		if a != "" {
			addr = netip.MustParseAddr(a)
		}
		r := (&Ping{Addr: addr}).Check(context.Background())
		checkResult(t, r, resultWant{false, "ping address"})
	}
}
