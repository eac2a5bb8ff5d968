package healthcheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// TCP checks a TCP port, like keepalived's TCP_CHECK: the target is up when
// the connection is established. With Send and/or Expect set it also writes
// Send and reads until the reply starts with Expect.
type TCP struct {
	// Addr is the target IP:PORT.
	Addr netip.AddrPort
	// Timeout bounds the whole check; zero means DefaultTimeout.
	Timeout time.Duration
	// Send is written once the connection is established.
	Send []byte
	// Expect, if set, is the prefix the reply must start with.
	Expect []byte
	Bind
}

// Check implements Checker.
func (t *TCP) Check(ctx context.Context) Result {
	if err := checkAddr("tcp address", t.Addr); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	ctx, cancel, timeout := withTimeout(ctx, t.Timeout)
	defer cancel()
	conn, err := t.Bind.dial(ctx, "tcp", t.Addr, false)
	if err != nil {
		return down(ctx, "connect", err, timeout)
	}
	defer conn.Close()
	if len(t.Send) == 0 && len(t.Expect) == 0 {
		return up("connected")
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Closing the connection unblocks I/O when ctx is canceled early.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if len(t.Send) > 0 {
		if _, err := conn.Write(t.Send); err != nil {
			return down(ctx, "send", err, timeout)
		}
	}
	if len(t.Expect) == 0 {
		return up("connected, sent")
	}
	return expectPrefix(ctx, conn, t.Expect, timeout)
}

// expectPrefix reads from a stream until len(want) bytes arrived and checks
// they equal want.
func expectPrefix(ctx context.Context, conn io.Reader, want []byte, timeout time.Duration) Result {
	got := make([]byte, len(want))
	n, err := io.ReadFull(conn, got)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return Result{Reason: fmt.Sprintf("reply %q ends before expected %q", got[:n], want), Err: err}
		}
		return down(ctx, "read reply", err, timeout)
	}
	if !bytes.Equal(got, want) {
		return Result{Reason: fmt.Sprintf("reply %q does not start with %q", got, want)}
	}
	return up("reply matched")
}
