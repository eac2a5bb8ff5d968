package cluster

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestDNSServerAnswersWithItsAddress(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNSServer{Name: "dns1", Addr: netip.MustParseAddrPort("192.168.0.201:53")}
	d.Serve(pc)
	defer d.Close()
	c, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Garbage is dropped and counted, and the server keeps answering.
	if _, err := c.Write([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	got, err := QueryA(c, "www.example.com.", 7, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddr("192.168.0.201"); got != want {
		t.Errorf("answer = %s, want %s", got, want)
	}
	if q, inv := d.Queries.Load(), d.Invalid.Load(); q != 1 || inv != 1 {
		t.Errorf("queries, invalid = %d, %d; want 1, 1", q, inv)
	}
}

func TestWebServerSaysHello(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &WebServer{Name: "server-2"}
	w.Serve(l)
	defer w.Close()
	resp, err := http.Get("http://" + l.Addr().String() + "/index.php")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Hello from server-2 !" || w.Requests.Load() != 1 {
		t.Errorf("body %q, requests %d", body, w.Requests.Load())
	}
}
