package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers each datagram on 127.0.0.1 with what reply returns
// (nothing, or several datagrams).
func dnsServer(t *testing.T, reply func(q dnsmessage.Message) [][]byte) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveDNS(t, pc, reply)
}

// serveDNS answers the datagrams arriving on pc until the test ends.
func serveDNS(t *testing.T, pc net.PacketConn, reply func(q dnsmessage.Message) [][]byte) netip.AddrPort {
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if err := q.Unpack(buf[:n]); err != nil {
				continue // not DNS: stay silent, as a real server would
			}
			for _, b := range reply(q) {
				pc.WriteTo(b, from)
			}
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// answer builds a response to q with the given code and, for NOERROR, an
// SOA record; id overrides the ID when non-zero.
func answer(t *testing.T, q dnsmessage.Message, rcode dnsmessage.RCode, id uint16) []byte {
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true, RCode: rcode},
		Questions: q.Questions,
	}
	if id != 0 {
		m.ID = id
	}
	if rcode == dnsmessage.RCodeSuccess && len(q.Questions) == 1 {
		m.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET, TTL: 60},
			Body: &dnsmessage.SOAResource{NS: dnsmessage.MustNewName("ns.lvskit.test."), MBox: dnsmessage.MustNewName("admin.lvskit.test."),
				Serial: 1, Refresh: 60, Retry: 60, Expire: 600, MinTTL: 60},
		}}
	}
	b, err := m.Pack()
	if err != nil {
		t.Error(err)
	}
	return b
}

func TestDNS(t *testing.T) {
	noerror := dnsServer(t, func(q dnsmessage.Message) [][]byte { return [][]byte{answer(t, q, dnsmessage.RCodeSuccess, 0)} })
	nxdomain := dnsServer(t, func(q dnsmessage.Message) [][]byte { return [][]byte{answer(t, q, dnsmessage.RCodeNameError, 0)} })
	silent := dnsServer(t, func(q dnsmessage.Message) [][]byte { return nil })
	strayFirst := dnsServer(t, func(q dnsmessage.Message) [][]byte {
		return [][]byte{answer(t, q, dnsmessage.RCodeSuccess, q.ID+1), answer(t, q, dnsmessage.RCodeSuccess, 0)}
	})
	truncated := dnsServer(t, func(q dnsmessage.Message) [][]byte {
		b := answer(t, q, dnsmessage.RCodeSuccess, 0)
		return [][]byte{b[:len(b)-5]}
	})
	seen := make(chan dnsmessage.Question, 1)
	recorder := dnsServer(t, func(q dnsmessage.Message) [][]byte {
		seen <- q.Questions[0]
		return [][]byte{answer(t, q, dnsmessage.RCodeSuccess, 0)}
	})
	const short = 300 * time.Millisecond
	tests := []struct {
		name string
		dns  DNS
		want resultWant
	}{
		{"NOERROR is up", DNS{Addr: noerror}, resultWant{true, "response code NOERROR"}},
		{"NXDOMAIN is down", DNS{Addr: nxdomain, Name: "nope.lvskit.test"}, resultWant{false, "response code NXDOMAIN"}},
		{"NXDOMAIN accepted is up", DNS{Addr: nxdomain, RCodes: []dnsmessage.RCode{dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError}}, resultWant{true, "NXDOMAIN"}},
		{"no answer is down at the timeout", DNS{Addr: silent, Timeout: short}, resultWant{false, "read response timed out after 300ms"}},
		{"a reply with another ID is ignored", DNS{Addr: strayFirst}, resultWant{true, "NOERROR"}},
		{"a truncated reply is not an answer", DNS{Addr: truncated, Timeout: short}, resultWant{false, "ignored: malformed"}},
		{"closed port is down through ICMP", DNS{Addr: closedPort(t, "udp")}, resultWant{false, "port unreachable (ICMP)"}},
		{"bad name is an error", DNS{Addr: noerror, Name: "a..b"}, resultWant{false, `dns name "a..b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			checkResult(t, tt.dns.Check(context.Background()), tt.want)
			if tt.dns.Timeout > 0 && !tt.want.up {
				if el := time.Since(start); el < tt.dns.Timeout || el > tt.dns.Timeout+2*time.Second {
					t.Errorf("check took %v, want about the timeout %v", el, tt.dns.Timeout)
				}
			}
		})
	}

	t.Run("query carries name and type", func(t *testing.T) {
		got := (&DNS{Addr: recorder, Name: "www.lvskit.test", Type: dnsmessage.TypeA}).Check(context.Background())
		checkResult(t, got, resultWant{true, "NOERROR"})
		want := dnsmessage.Question{Name: dnsmessage.MustNewName("www.lvskit.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
		if gotQ := <-seen; gotQ != want {
			t.Errorf("server saw question %v, want %v", gotQ, want)
		}
	})
}

func TestParseDNSNames(t *testing.T) {
	if rc, err := ParseRCode("nxdomain"); err != nil || rc != dnsmessage.RCodeNameError {
		t.Errorf("ParseRCode(nxdomain) = %v, %v", rc, err)
	}
	if rc, err := ParseRCode("5"); err != nil || rc != dnsmessage.RCodeRefused {
		t.Errorf("ParseRCode(5) = %v, %v", rc, err)
	}
	if _, err := ParseRCode("BOGUS"); err == nil {
		t.Error("ParseRCode(BOGUS) succeeded")
	}
	if ty, err := ParseType("aaaa"); err != nil || ty != dnsmessage.TypeAAAA {
		t.Errorf("ParseType(aaaa) = %v, %v", ty, err)
	}
	if _, err := ParseType("WKS"); err == nil {
		t.Error("ParseType(WKS) succeeded")
	}
}
