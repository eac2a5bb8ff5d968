// Package smtpsink is a small SMTP server for tests of alert e-mails
// (keepalived's smtp_alert): it greets with 220, answers EHLO/HELO,
// MAIL, RCPT, DATA, RSET, NOOP and QUIT, and keeps each message with the
// envelope it came with. Open its listener where the senders reach it
// (the loopback, or a network namespace of the test).
package smtpsink

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Sink serves SMTP on a listener until the test ends.
type Sink struct {
	ln net.Listener
	// RejectRcpt, when set, makes the sink refuse every recipient (550).
	RejectRcpt atomic.Bool

	mu   sync.Mutex
	msgs []Message
	wake chan struct{}
}

// Message is one message the sink took.
type Message struct {
	Hello    string // the EHLO or HELO line
	MailFrom string // without the angle brackets and parameters
	RcptTo   []string
	Header   map[string]string // by name; the last of a name
	Body     string            // with its CRLFs, dot-unstuffed
}

// New serves SMTP on ln until the test ends (ln is closed then).
func New(t testing.TB, ln net.Listener) *Sink {
	s := &Sink{ln: ln, wake: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() net.Addr { return s.ln.Addr() }

func (s *Sink) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	reply := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	reply("220 sink ESMTP")
	var m Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		upper := strings.ToUpper(line)
		verb := strings.SplitN(upper, " ", 2)[0]
		switch {
		case verb == "EHLO" || verb == "HELO":
			m = Message{Hello: line}
			reply("250 sink")
		case strings.HasPrefix(upper, "MAIL FROM:"):
			m.MailFrom = angle(line[len("MAIL FROM:"):])
			reply("250 ok")
		case strings.HasPrefix(upper, "RCPT TO:"):
			if s.RejectRcpt.Load() {
				reply("550 no such user")
				continue
			}
			m.RcptTo = append(m.RcptTo, angle(line[len("RCPT TO:"):]))
			reply("250 ok")
		case verb == "DATA":
			reply("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Header, m.Body = split(data.String())
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
			reply("250 queued")
		case verb == "QUIT":
			reply("221 bye")
			return
		case verb == "RSET" || verb == "NOOP":
			reply("250 ok")
		default:
			reply("502 not implemented")
		}
	}
}

// angle strips the angle brackets and any parameter of a MAIL FROM or
// RCPT TO argument.
func angle(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '>'); strings.HasPrefix(s, "<") && i > 0 {
		return s[1:i]
	}
	return s
}

// split splits a message into its headers (by name) and its body.
func split(data string) (map[string]string, string) {
	head, body, _ := strings.Cut(data, "\r\n\r\n")
	h := map[string]string{}
	for _, l := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			h[k] = v
		}
	}
	return h, body
}

// Messages returns the messages taken so far, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits until the sink has taken n messages and returns them; it
// fails the test after timeout.
func (s *Sink) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if ms := s.Messages(); len(ms) >= n {
			return ms
		}
		select {
		case <-s.wake:
		case <-deadline.C:
			t.Fatalf("the SMTP sink has %d messages after %v, want %d: %+v", len(s.Messages()), timeout, n, s.Messages())
		}
	}
}
