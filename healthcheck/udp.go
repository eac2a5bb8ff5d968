package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"
)

// UDP checks a UDP port the way `nc -zu` does: it sends a datagram on a
// connected socket, and an ICMP port unreachable (or, on Linux, any ICMP
// error such as host unreachable) means down. Without Expect, a reply or
// Wait of silence means up ("open or filtered", as nc reports). With Expect,
// only a reply starting with Expect within the timeout means up.
//
// An absent host on the local link is reported (host unreachable) only
// once the kernel gives up resolving its address, about 3 s with Linux
// defaults: a Wait shorter than that cannot tell it from a silent server.
type UDP struct {
	// Addr is the target IP:PORT.
	Addr netip.AddrPort
	// Timeout bounds the whole check; zero means DefaultTimeout.
	Timeout time.Duration
	// Payload is the datagram to send; nil sends a single "X", as nc does.
	Payload []byte
	// Expect, if set, is the prefix a reply must start with.
	Expect []byte
	// Wait is how long silence must last to count as up when Expect is
	// nil; zero means nine tenths of the timeout, so that the check still
	// decides before its deadline.
	Wait time.Duration
	// Reply, if set, judges the first reply as keepalived's UDP_CHECK
	// does with require_reply (Expect and Wait are then not used): no
	// reply within the timeout is down.
	Reply *UDPReply
	Bind
}

// UDPReply is keepalived's UDP_CHECK reply test (require_reply,
// min_reply_length, max_reply_length): the first datagram that comes back
// decides.
type UDPReply struct {
	// Data, if set, is what the reply must hold: the first
	// min(len(reply), len(Data)) bytes are compared, and the reply's
	// length must be within MinLen and MaxLen. Without Data any reply is
	// up, whatever its length.
	Data []byte
	// Mask, if set, is as long as Data; its set bits are not compared
	// (keepalived's X wildcards).
	Mask []byte
	// MinLen and MaxLen bound the reply's length when Data is set.
	MinLen, MaxLen int
}

// match reports why reply fails r, or "" if it passes.
func (r *UDPReply) match(reply []byte) string {
	if len(r.Data) == 0 {
		return ""
	}
	if len(reply) < r.MinLen || len(reply) > r.MaxLen {
		return fmt.Sprintf("reply of %d bytes, want %d-%d", len(reply), r.MinLen, r.MaxLen)
	}
	for i := range min(len(reply), len(r.Data)) {
		var m byte
		if i < len(r.Mask) {
			m = r.Mask[i]
		}
		if (reply[i]^r.Data[i])&^m != 0 {
			return fmt.Sprintf("reply %x differs from %x at byte %d", reply[:min(len(reply), 64)], r.Data, i)
		}
	}
	return ""
}

var ncPayload = []byte("X")

// Check implements Checker.
func (u *UDP) Check(ctx context.Context) Result {
	if err := checkAddr("udp address", u.Addr); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	ctx, cancel, timeout := withTimeout(ctx, u.Timeout)
	defer cancel()
	conn, err := u.Bind.dialUDP(ctx, u.Addr)
	if err != nil {
		return down(ctx, "connect", err, timeout)
	}
	defer conn.Close()

	payload := u.Payload
	if payload == nil {
		payload = ncPayload
	}
	if _, err := conn.Write(payload); err != nil {
		return udpDown(ctx, "send", err, timeout)
	}
	deadline, _ := ctx.Deadline()
	if u.Reply != nil {
		// One byte more than MaxLen tells a longer reply.
		buf := make([]byte, max(u.Reply.MaxLen+1, len(u.Reply.Data), 512))
		n, err := conn.ReadUntil(buf, deadline)
		if err != nil {
			return udpDown(ctx, "read reply", err, timeout)
		}
		if why := u.Reply.match(buf[:n]); why != "" {
			return Result{Reason: why}
		}
		return up("reply received")
	}
	silenceIsUp := len(u.Expect) == 0
	if silenceIsUp {
		wait := u.Wait
		if wait <= 0 {
			wait = time.Until(deadline) * 9 / 10
		}
		if d := time.Now().Add(wait); d.Before(deadline) {
			deadline = d
		}
	}
	buf := make([]byte, max(len(u.Expect), 512))
	var mismatch string
	for {
		n, err := conn.ReadUntil(buf, deadline)
		if err != nil {
			if silenceIsUp && ctx.Err() == nil && isTimeout(err) {
				return up("no reply and no ICMP error (open or filtered)")
			}
			if mismatch != "" && isTimeout(err) {
				return Result{Reason: mismatch, Err: err}
			}
			return udpDown(ctx, "read reply", err, timeout)
		}
		if silenceIsUp {
			return up("reply received")
		}
		if n >= len(u.Expect) && bytes.Equal(buf[:len(u.Expect)], u.Expect) {
			return up("reply matched")
		}
		// A stray or wrong datagram: keep waiting for the right one until
		// the deadline, remembering why.
		mismatch = fmt.Sprintf("reply %q does not start with %q", buf[:min(n, 64)], u.Expect)
	}
}

func udpDown(ctx context.Context, op string, err error, timeout time.Duration) Result {
	r := down(ctx, op, err, timeout)
	if errors.Is(err, syscall.ECONNREFUSED) {
		r.Reason = "port unreachable (ICMP)"
	}
	return r
}
