package healthcheck

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// smtpScript is a fake mail server's side of a dialogue: it writes
// greeting, then for each line it reads answers with the next reply; a
// reply "" closes the connection. Every line read is sent on got.
type smtpScript struct {
	greeting string
	replies  []string
}

func smtpServer(t *testing.T, s smtpScript) (addr netip.AddrPort, got chan []string) {
	t.Helper()
	got = make(chan []string, 4)
	ap := tcpServer(t, func(c net.Conn) {
		var lines []string
		defer func() { got <- lines }()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if s.greeting == "" {
			time.Sleep(2 * time.Second)
			return
		}
		if _, err := c.Write([]byte(s.greeting)); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for _, reply := range s.replies {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines = append(lines, line)
			if reply == "" {
				return
			}
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	})
	return ap, got
}

func TestSMTP(t *testing.T) {
	const helo = "HELO smtpchecker.keepalived.org\r\n"
	tests := []struct {
		name   string
		script smtpScript
		helo   string
		want   resultWant
		lines  []string // what the server read
	}{
		{"whole dialogue is up", smtpScript{"220 mx ESMTP\r\n", []string{"250 hello\r\n", "221 bye\r\n"}}, "",
			resultWant{true, "completed"}, []string{helo, "QUIT\r\n"}},
		{"helo_name is sent", smtpScript{"220 mx\r\n", []string{"250 hello\r\n", "221 bye\r\n"}}, "lb1.example.org",
			resultWant{true, "completed"}, []string{"HELO lb1.example.org\r\n", "QUIT\r\n"}},
		{"bare LF ends a line", smtpScript{"220\n", []string{"250\n", "221\n"}}, "",
			resultWant{true, "completed"}, []string{helo, "QUIT\r\n"}},
		{"any QUIT reply will do", smtpScript{"220 mx\r\n", []string{"250 ok\r\n", "500 what\r\n"}}, "",
			resultWant{true, "completed"}, []string{helo, "QUIT\r\n"}},
		{"refusing greeting is down", smtpScript{"554 go away\r\n", nil}, "",
			resultWant{false, `bad greeting banner "554 go away\r"`}, nil},
		{"multi-line greeting is down as in keepalived", smtpScript{"220-mx first\r\n220 mx\r\n", nil}, "",
			resultWant{false, "bad greeting banner"}, nil},
		{"bare code with CRLF is down as in keepalived", smtpScript{"220\r\n", nil}, "",
			resultWant{false, "bad greeting banner"}, nil},
		{"rejected HELO is down", smtpScript{"220 mx\r\n", []string{"501 bad\r\n"}}, "",
			resultWant{false, `bad HELO response "501 bad\r"`}, []string{helo}},
		{"closed before the HELO reply is down", smtpScript{"220 mx\r\n", []string{""}}, "",
			resultWant{false, "read HELO reply: connection closed"}, []string{helo}},
		{"closed before the QUIT reply is down", smtpScript{"220 mx\r\n", []string{"250 ok\r\n", ""}}, "",
			resultWant{false, "read QUIT reply: connection closed"}, []string{helo, "QUIT\r\n"}},
		{"silent server is down at the step timeout", smtpScript{}, "",
			resultWant{false, "read greeting timed out after 200ms"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, got := smtpServer(t, tt.script)
			// A generous step timeout, but for the silent server: a
			// loaded machine must not turn a good dialogue into a timeout.
			timeout := 5 * time.Second
			if tt.script.greeting == "" {
				timeout = 200 * time.Millisecond
			}
			s := &SMTP{Timeout: timeout, HeloName: tt.helo}
			s.Addr = addr
			checkResult(t, s.Check(context.Background()), tt.want)
			select {
			case lines := <-got:
				if diff := cmp.Diff(tt.lines, lines); diff != "" {
					t.Errorf("lines the server read (-want +got):\n%s", diff)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the server saw no connection")
			}
		})
	}
}

func TestSMTPGreetingInPieces(t *testing.T) {
	ap := tcpServer(t, func(c net.Conn) {
		for _, p := range []string{"2", "20 m", "x\r", "\n"} {
			c.Write([]byte(p))
			time.Sleep(20 * time.Millisecond)
		}
		r := bufio.NewReader(c)
		r.ReadString('\n')
		c.Write([]byte("250 ok\r\n"))
		r.ReadString('\n')
		c.Write([]byte("221 bye\r\n"))
	})
	checkResult(t, (&SMTP{Addr: ap}).Check(context.Background()), resultWant{true, "completed"})
}

func TestSMTPRefusedAndInvalid(t *testing.T) {
	checkResult(t, (&SMTP{Addr: closedPort(t, "tcp")}).Check(context.Background()), resultWant{false, "connect: connection refused"})
	bad := &SMTP{Addr: closedPort(t, "tcp"), HeloName: "a\r\nMAIL FROM:<x>"}
	checkResult(t, bad.Check(context.Background()), resultWant{false, "helo_name"})
	if err := (&SMTP{}).Validate(); err == nil || !strings.Contains(err.Error(), "smtp address") {
		t.Errorf("Validate of an empty address = %v, want an error naming the smtp address", err)
	}
	if got, want := (&SMTP{Timeout: time.Second}).MaxDuration(), 6*time.Second; got != want {
		t.Errorf("MaxDuration = %v, want %v", got, want)
	}
}

func TestSMTPCanceled(t *testing.T) {
	addr, _ := smtpServer(t, smtpScript{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	got := (&SMTP{Addr: addr, Timeout: time.Minute}).Check(ctx)
	checkResult(t, got, resultWant{false, "canceled"})
}

func TestSMTPCode(t *testing.T) {
	tests := map[string]int{
		"220 ok": 220, "220": 220, "250 ": 250, "220-more": -1, "220\r": -1,
		"22": -1, "2200 x": -1, "x20 y": -1, "": -1, " 220 x": -1,
	}
	for line, want := range tests {
		if got := smtpCode(line); got != want {
			t.Errorf("smtpCode(%q) = %d, want %d", line, got, want)
		}
	}
}
