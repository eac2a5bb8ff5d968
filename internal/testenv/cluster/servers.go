package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// WebServer answers every HTTP request with "Hello from NAME !", as the
// article's index.php does, and counts the requests it served.
type WebServer struct {
	Name     string
	Addr     netip.AddrPort
	Requests atomic.Int64

	srv *http.Server
}

// Serve answers on l until Close.
func (w *WebServer) Serve(l net.Listener) {
	w.srv = &http.Server{
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			w.Requests.Add(1)
			rw.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(rw, "Hello from %s !", w.Name)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = w.srv.Serve(l) }()
}

// Close stops the server.
func (w *WebServer) Close() error {
	if w.srv == nil {
		return nil
	}
	return w.srv.Close()
}

// DNSServer answers A queries for any name with its own address, so that a
// client can tell which server answered, and counts the queries.
type DNSServer struct {
	Name    string
	Addr    netip.AddrPort
	Queries atomic.Int64
	Invalid atomic.Int64

	conn net.PacketConn
}

// Serve answers on c until Close.
func (d *DNSServer) Serve(c net.PacketConn) {
	d.conn = c
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			reply, err := d.answer(buf[:n])
			if err != nil {
				d.Invalid.Add(1)
				continue
			}
			d.Queries.Add(1)
			_, _ = c.WriteTo(reply, from)
		}
	}()
}

// Close stops the server.
func (d *DNSServer) Close() error {
	if d.conn == nil {
		return nil
	}
	return d.conn.Close()
}

func (d *DNSServer) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	if h.Response {
		return nil, errors.New("not a query")
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if q.Type == dnsmessage.TypeA {
		err := b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: d.Addr.Addr().As4()})
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// QueryA sends one A query for name over c to server and returns the first
// address of the answer.
func QueryA(c net.Conn, name string, id uint16, timeout time.Duration) (netip.Addr, error) {
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return netip.Addr{}, err
	}
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	q, err := msg.Pack()
	if err != nil {
		return netip.Addr{}, err
	}
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return netip.Addr{}, err
	}
	if _, err := c.Write(q); err != nil {
		return netip.Addr{}, err
	}
	buf := make([]byte, 1500)
	for {
		k, err := c.Read(buf)
		if err != nil {
			return netip.Addr{}, err
		}
		var r dnsmessage.Message
		if err := r.Unpack(buf[:k]); err != nil || r.ID != id {
			continue // a late answer to an earlier query
		}
		if r.RCode != dnsmessage.RCodeSuccess {
			return netip.Addr{}, fmt.Errorf("dns: rcode %v", r.RCode)
		}
		for _, a := range r.Answers {
			if ar, ok := a.Body.(*dnsmessage.AResource); ok {
				return netip.AddrFrom4(ar.A), nil
			}
		}
		return netip.Addr{}, errors.New("dns: no A record in the answer")
	}
}
