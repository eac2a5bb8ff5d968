package rawpoll

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dgramPair returns both ends of a datagram socket pair, registered in the
// runtime's poller.
func dgramPair(t *testing.T) (a, b *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b = os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func rawConn(t *testing.T, f *os.File) syscall.RawConn {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// msg points a Msghdr at buf.
func msg(buf []byte) (*unix.Msghdr, *unix.Iovec) {
	iov := &unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	m := &unix.Msghdr{Iov: iov}
	m.SetIovlen(1)
	return m, iov
}

// A receive waits in the poller until a datagram comes; MSG_PEEK leaves it
// to be read again.
func TestRecvMsgWaitsAndPeeks(t *testing.T) {
	a, b := dgramPair(t)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		m, _ := msg(buf)
		n, err := RecvMsg(rawConn(t, b), m, unix.MSG_PEEK)
		if err != nil {
			got <- "peek: " + err.Error()
			return
		}
		peeked := string(buf[:n])
		clear(buf)
		n, err = RecvMsg(rawConn(t, b), m, 0)
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- peeked + "|" + string(buf[:n])
	}()
	select {
	case s := <-got:
		t.Fatalf("returned %q before anything was sent", s)
	case <-time.After(30 * time.Millisecond):
	}
	m, _ := msg([]byte("advert"))
	if n, err := SendMsg(rawConn(t, a), m); n != 6 || err != nil {
		t.Fatalf("SendMsg = %d, %v; want 6, nil", n, err)
	}
	select {
	case s := <-got:
		if s != "advert|advert" {
			t.Fatalf("peeked|read = %q; want %q", s, "advert|advert")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram 5s after it was sent")
	}
}

// A failing call comes back as an *os.SyscallError naming it; a closed
// descriptor as the RawConn's own error.
func TestMsgErrors(t *testing.T) {
	a, b := dgramPair(t)
	rc := rawConn(t, a)
	b.Close()
	m, _ := msg([]byte("x"))
	_, err := SendMsg(rc, m)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "sendmsg" || !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("sending to a closed peer: %v; want sendmsg: connection refused", err)
	}
	a.Close()
	_, err = RecvMsg(rc, m, 0)
	if err == nil || errors.As(err, &se) {
		t.Fatalf("receiving on a closed socket: %v; want the RawConn's error, no system call made", err)
	}
}
