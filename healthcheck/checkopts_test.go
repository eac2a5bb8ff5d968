package healthcheck

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rawHTTPServer answers every connection with reply after reading the
// request head, which it sends on the returned channel.
func rawHTTPServer(t *testing.T, network, addr, reply string) (netip.AddrPort, <-chan string) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	heads := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				r := bufio.NewReader(c)
				var head strings.Builder
				for {
					line, err := r.ReadString('\n')
					head.WriteString(line)
					if err != nil || line == "\r\n" {
						break
					}
				}
				heads <- head.String()
				io.WriteString(c, reply)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), heads
}

// With Protocol set, the request is the one keepalived's HTTP_GET writes
// for its http_protocol, byte for byte.
func TestHTTPProtocolRequest(t *testing.T) {
	const reply = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\n"
	for _, tt := range []struct {
		name, network, listen, protocol, host, want string
	}{
		{"1.0", "tcp4", "127.0.0.1:0", "1.0", "", "GET /health?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: ADDR\r\n\r\n"},
		{"1.0C", "tcp4", "127.0.0.1:0", "1.0C", "", "GET /health?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: ADDR\r\n\r\n"},
		{"1.1", "tcp4", "127.0.0.1:0", "1.1", "", "GET /health?x=1 HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: ADDR\r\n\r\n"},
		{"virtual host", "tcp4", "127.0.0.1:0", "1.0", "www.example.com", "GET /health?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.com\r\n\r\n"},
		{"IPv6 address", "tcp6", "[::1]:0", "1.1", "", "GET /health?x=1 HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: ADDR\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, heads := rawHTTPServer(t, tt.network, tt.listen, reply)
			h := &HTTP{URL: "http://" + addr.String() + "/health?x=1", Protocol: tt.protocol, UserAgent: "KeepAliveClient",
				Host: tt.host, Timeout: 5 * time.Second, Body: regexp.MustCompile("^hello")}
			r := h.Check(context.Background())
			if !r.Up {
				t.Fatalf("Check: %v, want up", r)
			}
			want := strings.ReplaceAll(tt.want, "ADDR", addr.String())
			if got := <-heads; got != want {
				t.Errorf("request:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// The body is read as keepalived reads it: to the end of the connection,
// to Content-Length, and a chunked one as it came, chunk sizes included.
func TestHTTPProtocolResponses(t *testing.T) {
	for _, tt := range []struct{ reply, body string }{
		{"HTTP/1.0 200 OK\r\n\r\nhello", "hello"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello and more", "hello"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n"},
	} {
		addr, _ := rawHTTPServer(t, "tcp4", "127.0.0.1:0", tt.reply)
		sum := md5.Sum([]byte(tt.body))
		h := &HTTP{URL: "http://" + addr.String() + "/", Protocol: "1.1", Timeout: 5 * time.Second, Digest: hex.EncodeToString(sum[:])}
		if r := h.Check(context.Background()); !r.Up {
			t.Errorf("reply %q: %v, want up with the digest of %q", tt.reply, r, tt.body)
		}
	}
	addr, _ := rawHTTPServer(t, "tcp4", "127.0.0.1:0", "HTTP/1.1 503 Busy\r\n\r\n")
	h := &HTTP{URL: "http://" + addr.String() + "/", Protocol: "1.0", Timeout: 5 * time.Second}
	if r := h.Check(context.Background()); r.Up || r.Reason != "status 503" {
		t.Errorf("503: %v, want down with status 503", r)
	}
}

// The TLS server name is ServerName, none with NoSNI, else the Host's
// name; an IP address is never sent.
func TestHTTPServerName(t *testing.T) {
	names := make(chan string, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		names <- hello.ServerName
		return nil, nil
	}}
	srv.StartTLS()
	defer srv.Close()
	for _, tt := range []struct {
		name     string
		h        HTTP
		wantName string
	}{
		{"no SNI", HTTP{NoSNI: true, Host: "www.example.com"}, ""},
		{"no SNI, raw request", HTTP{NoSNI: true, Host: "www.example.com", Protocol: "1.0"}, ""},
		{"server name", HTTP{NoSNI: true, ServerName: "sni.example.com", Protocol: "1.1"}, "sni.example.com"},
		{"host", HTTP{Host: "www.example.com:8443"}, "www.example.com"},
		{"address", HTTP{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			h.URL, h.InsecureSkipVerify, h.Timeout = srv.URL+"/", true, 5*time.Second
			if r := h.Check(context.Background()); !r.Up {
				t.Fatalf("Check: %v, want up", r)
			}
			if got := <-names; got != tt.wantName {
				t.Errorf("server name %q, want %q", got, tt.wantName)
			}
		})
	}
}

// BodyNoMatch, BodyFrom, BodyTo and BodyBytes judge the body as
// keepalived's regex_no_match, regex_min_offset, regex_max_offset and
// PCRE2 without utf do.
func TestHTTPBodyMatch(t *testing.T) {
	body := "0123456789 status: OK caf\xc3\xa9"
	addr, _ := rawHTTPServer(t, "tcp4", "127.0.0.1:0", "HTTP/1.0 200 OK\r\n\r\n"+body)
	for _, tt := range []struct {
		name string
		h    HTTP
		want bool
	}{
		{"match", HTTP{Body: regexp.MustCompile("OK")}, true},
		{"no match wanted, matches", HTTP{Body: regexp.MustCompile("OK"), BodyNoMatch: true}, false},
		{"no match wanted, none", HTTP{Body: regexp.MustCompile("FAIL"), BodyNoMatch: true}, true},
		{"from past the match", HTTP{Body: regexp.MustCompile("status"), BodyFrom: 12}, false},
		{"from at the match", HTTP{Body: regexp.MustCompile("status"), BodyFrom: 11}, true},
		{"match starts at the last offset", HTTP{Body: regexp.MustCompile("status"), BodyTo: 12}, true},
		{"match starts past the last offset", HTTP{Body: regexp.MustCompile("status"), BodyTo: 11}, false},
		{"bytes: a dot is a byte", HTTP{Body: regexp.MustCompile("caf.$"), BodyBytes: true}, false},
		{"bytes: two dots", HTTP{Body: regexp.MustCompile("caf..$"), BodyBytes: true}, true},
		{"bytes: offsets in bytes", HTTP{Body: regexp.MustCompile("\u00c3"), BodyBytes: true, BodyTo: 26}, true},
		{"bytes: offsets in bytes, past", HTTP{Body: regexp.MustCompile("\u00c3"), BodyBytes: true, BodyTo: 25}, false},
		{"utf-8: a dot is a character", HTTP{Body: regexp.MustCompile("caf.$")}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			h.URL, h.Protocol, h.Timeout = "http://"+addr.String()+"/", "1.0", 5*time.Second
			if r := h.Check(context.Background()); r.Up != tt.want {
				t.Errorf("Check: %v, want up %v", r, tt.want)
			}
		})
	}
}

// udpResponder answers every datagram with reply (nothing when nil) and
// sends what it received on the returned channel.
func udpResponder(t *testing.T, reply []byte) (netip.AddrPort, <-chan []byte) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	got := make(chan []byte, 16)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			got <- append([]byte(nil), buf[:n]...)
			if reply != nil {
				pc.WriteTo(reply, from)
			}
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String()), got
}

// UDP with Reply judges the first reply as keepalived's require_reply
// does: silence is down, and with data the compared prefix, wildcards
// and lengths decide.
func TestUDPReply(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply []byte
		want  UDPReply
		up    bool
	}{
		{"silence", nil, UDPReply{MaxLen: 255}, false},
		{"any reply", []byte("whatever"), UDPReply{MaxLen: 255}, true},
		{"any reply, lengths unused without data", []byte("whatever"), UDPReply{MinLen: 100, MaxLen: 1}, true},
		{"data", []byte{0x4f, 0x4b, 0x21}, UDPReply{Data: []byte{0x4f, 0x4b}, MaxLen: 255}, true},
		{"shorter reply compared as far as it goes", []byte{0x4f}, UDPReply{Data: []byte{0x4f, 0x4b}, MaxLen: 255}, true},
		{"data differs", []byte{0x4f, 0x4c}, UDPReply{Data: []byte{0x4f, 0x4b}, MaxLen: 255}, false},
		{"wildcard half byte", []byte{0x4f, 0x4c}, UDPReply{Data: []byte{0x4f, 0x40}, Mask: []byte{0, 0x0f}, MaxLen: 255}, true},
		{"wildcard other half", []byte{0x4f, 0x5c}, UDPReply{Data: []byte{0x4f, 0x40}, Mask: []byte{0, 0x0f}, MaxLen: 255}, false},
		{"too short", []byte{0x4f}, UDPReply{Data: []byte{0x4f}, MinLen: 2, MaxLen: 255}, false},
		{"too long", []byte("OK and more"), UDPReply{Data: []byte("OK"), MaxLen: 4}, false},
		{"longer than the default buffer", []byte(strings.Repeat("x", 600)), UDPReply{Data: []byte("x"), MaxLen: 255}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, sent := udpResponder(t, tt.reply)
			want := tt.want
			u := &UDP{Addr: addr, Timeout: 300 * time.Millisecond, Payload: []byte{1, 2, 3}, Reply: &want}
			r := u.Check(context.Background())
			if r.Up != tt.up {
				t.Errorf("Check: %v, want up %v", r, tt.up)
			}
			if got := <-sent; string(got) != "\x01\x02\x03" {
				t.Errorf("payload %x, want 010203", got)
			}
		})
	}
}

// With a source port, the check's connection comes from that port, one
// check after another.
func TestSourcePort(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			from <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	probe, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(probe.Addr().(*net.TCPAddr).Port) // a free port
	probe.Close()
	tc := &TCP{Addr: netip.MustParseAddrPort(ln.Addr().String()), Timeout: 5 * time.Second,
		Bind: Bind{Source: netip.MustParseAddr("127.0.0.1"), SourcePort: port}}
	for i := range 2 {
		if r := tc.Check(context.Background()); !r.Up {
			t.Fatalf("check %d: %v", i, r)
		}
		if got, want := <-from, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String(); got != want {
			t.Errorf("check %d came from %s, want %s", i, got, want)
		}
	}
	addr, sent := udpResponder(t, []byte("ok"))
	_ = sent
	uc := &UDP{Addr: addr, Timeout: time.Second, Reply: &UDPReply{MaxLen: 255}, Bind: tc.Bind}
	if r := uc.Check(context.Background()); !r.Up {
		t.Errorf("UDP check from port %d: %v", port, r)
	}
}
