package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// DefaultHeloName is the name an SMTP check sends in HELO when HeloName is
// empty, keepalived's default helo_name.
const DefaultHeloName = "smtpchecker.keepalived.org"

// smtpLineMax is the size of keepalived's SMTP line buffer (SMTP_BUFF_MAX):
// a line longer than that is read in pieces, of which only the piece
// holding the newline is judged.
const smtpLineMax = 512

// smtpSteps is the number of steps of an SMTP dialogue, each bounded by
// the check's Timeout: connect, greeting, HELO, its reply, QUIT, its reply.
const smtpSteps = 6

// SMTP checks a mail server as keepalived's SMTP_CHECK does: connect, read
// the greeting, which must start with reply code 220, send
// "HELO <HeloName>", whose reply must have code 250, send "QUIT" and read
// one more line, whatever it says. A reply code counts only when it is
// three digits followed by a space or the end of the line, as keepalived
// reads it: "250-" (the first line of a multi-line reply) and "250\r" (a
// bare code ended by CRLF) are bad replies there, and so here.
type SMTP struct {
	// Addr is the target IP:PORT (keepalived's default port is the real
	// server's, usually 25).
	Addr netip.AddrPort
	// Timeout bounds each step of the dialogue (the connect, each read
	// and each write), like keepalived's connect_timeout; zero means
	// DefaultTimeout. A whole check takes at most MaxDuration, and no
	// longer than its context allows.
	Timeout time.Duration
	// HeloName is sent in HELO; empty means DefaultHeloName.
	HeloName string
	Bind
}

// Validate reports a target address without a port and a HELO name that
// would break the command line.
func (s *SMTP) Validate() error {
	if err := checkAddr("smtp address", s.Addr); err != nil {
		return err
	}
	if strings.ContainsAny(s.HeloName, "\r\n\x00") {
		return fmt.Errorf("healthcheck: smtp helo_name %q: must not hold CR, LF or NUL", s.HeloName)
	}
	return nil
}

// MaxDuration is the longest a check can take when its context has no
// earlier deadline: Timeout for each of the dialogue's six steps.
func (s *SMTP) MaxDuration() time.Duration {
	return smtpSteps * s.stepTimeout()
}

func (s *SMTP) stepTimeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// Check implements Checker.
func (s *SMTP) Check(ctx context.Context) Result {
	if err := s.Validate(); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	step := s.stepTimeout()
	ctx, cancel, _ := withTimeout(ctx, s.MaxDuration())
	defer cancel()
	dctx, dcancel := context.WithTimeout(ctx, step)
	conn, err := s.Bind.dial(dctx, "tcp", s.Addr, false)
	dcancel()
	if err != nil {
		return down(ctx, "connect", err, step)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	d := smtpDialogue{conn: conn, step: step, ctx: ctx}
	helo := s.HeloName
	if helo == "" {
		helo = DefaultHeloName
	}
	line, r, ok := d.readLine("greeting")
	if !ok {
		return r
	}
	if smtpCode(line) != 220 {
		return Result{Reason: fmt.Sprintf("bad greeting banner %q", line)}
	}
	if r, ok := d.writeLine("HELO", "HELO "+helo+"\r\n"); !ok {
		return r
	}
	if line, r, ok = d.readLine("HELO reply"); !ok {
		return r
	}
	if smtpCode(line) != 250 {
		return Result{Reason: fmt.Sprintf("bad HELO response %q", line)}
	}
	if r, ok := d.writeLine("QUIT", "QUIT\r\n"); !ok {
		return r
	}
	if _, r, ok = d.readLine("QUIT reply"); !ok {
		return r
	}
	return up("SMTP dialogue completed")
}

// smtpDialogue runs the steps of one check on its connection, each with a
// fresh deadline of step, never past ctx's.
type smtpDialogue struct {
	conn net.Conn
	step time.Duration
	ctx  context.Context
	buf  [smtpLineMax]byte
}

func (d *smtpDialogue) deadline() {
	dl := time.Now().Add(d.step)
	if cdl, ok := d.ctx.Deadline(); ok && cdl.Before(dl) {
		dl = cdl
	}
	d.conn.SetDeadline(dl)
}

// readLine reads until a newline arrives and returns the text before it
// (with any CR). Data after the newline is dropped, as keepalived does; a
// line longer than the buffer is read in pieces and only the last judged.
func (d *smtpDialogue) readLine(what string) (string, Result, bool) {
	n := 0
	for {
		if n >= len(d.buf)-1 {
			n = 0
		}
		d.deadline()
		m, err := d.conn.Read(d.buf[n : len(d.buf)-1])
		if m > 0 {
			if i := bytes.IndexByte(d.buf[n:n+m], '\n'); i >= 0 {
				return string(d.buf[:n+i]), Result{}, true
			}
			n += m
			continue
		}
		if err == nil {
			continue
		}
		if d.ctx.Err() == nil && !isTimeout(err) {
			return "", Result{Reason: fmt.Sprintf("read %s: %s", what, readErrText(err)), Err: err}, false
		}
		return "", down(d.ctx, "read "+what, err, d.step), false
	}
}

func readErrText(err error) string {
	if errors.Is(err, io.EOF) {
		return "connection closed"
	}
	return trimOpError(err)
}

func (d *smtpDialogue) writeLine(what, line string) (Result, bool) {
	d.deadline()
	if _, err := d.conn.Write([]byte(line)); err != nil {
		return down(d.ctx, "send "+what, err, d.step), false
	}
	return Result{}, true
}

// smtpCode returns the reply code at the start of line, or -1 when the
// line does not start with three digits followed by a space or its end.
func smtpCode(line string) int {
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ') {
		return -1
	}
	code := 0
	for _, c := range []byte(line[:3]) {
		if c < '0' || c > '9' {
			return -1
		}
		code = code*10 + int(c-'0')
	}
	return code
}
