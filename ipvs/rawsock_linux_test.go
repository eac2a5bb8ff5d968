package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nlmsg returns a netlink message header with length l and the payload,
// padded to 4 bytes.
func nlmsg(l uint32, typ uint16, seq uint32, payload ...byte) []byte {
	b := make([]byte, 16, 16+nlmsgAlign(len(payload)))
	binary.NativeEndian.PutUint32(b[0:], l)
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], uint16(netlink.Multi))
	binary.NativeEndian.PutUint32(b[8:], seq)
	binary.NativeEndian.PutUint32(b[12:], 4242)
	b = append(b, payload...)
	return append(b, make([]byte, nlmsgAlign(len(b))-len(b))...)
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func header(l uint32, typ uint16, seq uint32) netlink.Header {
	return netlink.Header{Length: l, Type: netlink.HeaderType(typ), Flags: netlink.Multi, Sequence: seq, PID: 4242}
}

func TestSplitMessages(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want []netlink.Message
	}{
		{"empty datagram has no messages", nil, nil},
		{"header only", nlmsg(16, 3, 1), []netlink.Message{{Header: header(16, 3, 1), Data: []byte{}}}},
		{"payload without padding", nlmsg(20, 0x10, 7, 1, 2, 3, 4),
			[]netlink.Message{{Header: header(20, 0x10, 7), Data: []byte{1, 2, 3, 4}}}},
		{"padding is skipped, not payload", cat(nlmsg(17, 0x10, 1, 9), nlmsg(18, 0x11, 2, 8, 7)),
			[]netlink.Message{{Header: header(17, 0x10, 1), Data: []byte{9}}, {Header: header(18, 0x11, 2), Data: []byte{8, 7}}}},
		{"acknowledgement after a reply", cat(nlmsg(24, 0x10, 5, 1, 2, 3, 4, 5, 6, 7, 8), nlmsg(20, uint16(netlink.Error), 5, 0, 0, 0, 0)),
			[]netlink.Message{{Header: header(24, 0x10, 5), Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}, {Header: header(20, 2, 5), Data: []byte{0, 0, 0, 0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitMessages(tt.b)
			if err != nil {
				t.Fatalf("splitMessages: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitMessagesRejectsMalformedLengths(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		wantErr string
	}{
		{"length zero", nlmsg(0, 3, 1), "offset 0 has length 0, shorter than its 16-byte header"},
		{"length shorter than a header", nlmsg(15, 3, 1), "has length 15, shorter"},
		{"length past the end", nlmsg(32, 3, 1, 1, 2, 3, 4), "offset 0 has length 32 (32 padded), more than the 20 bytes left"},
		{"padding past the end", nlmsg(17, 3, 1, 1)[:17], "has length 17 (20 padded), more than the 17 bytes left"},
		{"length of 4 GiB", nlmsg(0xffffffff, 3, 1), "has length 4294967295 (4294967296 padded)"},
		{"second message past the end", cat(nlmsg(16, 3, 1), nlmsg(64, 3, 2, 1, 2, 3, 4)), "offset 16 has length 64"},
		{"second message shorter than a header", cat(nlmsg(16, 3, 1), nlmsg(8, 3, 2)), "offset 16 has length 8, shorter"},
		{"trailing bytes", cat(nlmsg(16, 3, 1), []byte{1, 2, 3, 4}), "4 bytes at offset 16, fewer than a 16-byte message header"},
		{"only a partial header", []byte{16, 0, 0}, "3 bytes at offset 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitMessages(tt.b)
			if err == nil {
				t.Fatalf("splitMessages = %v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzSplitMessages: no input panics; what splits writes back to the same
// messages.
func FuzzSplitMessages(f *testing.F) {
	f.Add(cat(nlmsg(17, 0x10, 1, 9), nlmsg(18, 0x11, 2, 8, 7)))
	f.Add(nlmsg(0, 3, 1))
	f.Add(nlmsg(0xffffffff, 3, 1))
	f.Add(nlmsg(17, 3, 1, 1)[:17])
	f.Add(cat(nlmsg(16, 3, 1), []byte{1, 2, 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := splitMessages(b)
		if err != nil {
			return
		}
		var again []byte
		for _, m := range msgs {
			if int(m.Header.Length) != 16+len(m.Data) {
				t.Fatalf("message length %d with %d bytes of data", m.Header.Length, len(m.Data))
			}
			if cap(m.Data) != nlmsgAlign(len(m.Data)) {
				t.Fatalf("data of %d bytes has capacity %d, reaching into the next message", len(m.Data), cap(m.Data))
			}
			again = append(again, nlmsg(m.Header.Length, uint16(m.Header.Type), m.Header.Sequence, m.Data...)...)
			binary.NativeEndian.PutUint16(again[len(again)-nlmsgAlign(int(m.Header.Length))+6:], uint16(m.Header.Flags))
			binary.NativeEndian.PutUint32(again[len(again)-nlmsgAlign(int(m.Header.Length))+12:], m.Header.PID)
		}
		if len(again) != len(b) {
			t.Fatalf("messages take %d bytes, the datagram %d", len(again), len(b))
		}
		msgs2, err := splitMessages(again)
		if err != nil {
			t.Fatalf("splitting the written messages: %v", err)
		}
		if diff := cmp.Diff(msgs, msgs2); diff != "" {
			t.Errorf("split, write, split (-first +second):\n%s", diff)
		}
	})
}

// TestDialNotANamespace needs no privileges: setns refuses a descriptor
// that is not a namespace before it looks at capabilities.
func TestDialNotANamespace(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())

	s, _, err := dialRawSocket(fd)
	if err == nil {
		s.Close()
		t.Fatal("dialRawSocket into /dev/null succeeded")
	}
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), fmt.Sprintf("entering network namespace fd %d: setns: ", fd)) {
		t.Errorf("dialRawSocket: %v, want the setns failure with EINVAL", err)
	}

	c, err := Dial(&Config{NetNS: fd})
	if err == nil {
		c.Close()
		t.Fatal("Dial into /dev/null succeeded")
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "dial" || oe.Target != "setns" || oe.Err != unix.EINVAL {
		t.Errorf("Dial: %#v, want an *OpError dial setns EINVAL", err)
	}
	if got, want := err.Error(), "ipvs dial setns: invalid argument"; got != want {
		t.Errorf("Dial: %q, want %q (no hint meant for IPVS requests)", got, want)
	}
	if errors.Is(err, ErrNotAvailable) {
		t.Errorf("Dial: %v matches ErrNotAvailable", err)
	}
}

// openIn opens a rawSocket in ns, closed at cleanup, and closes it after
// 30 s so that a reply that never comes fails the test instead of hanging
// it.
func openIn(t *testing.T, ns *netnstest.NS) (*rawSocket, uint32) {
	t.Helper()
	s, pid, err := dialRawSocket(int(ns.Handle()))
	if err != nil {
		t.Fatalf("dialRawSocket: %v", err)
	}
	if pid == 0 {
		t.Errorf("port ID 0, want one assigned by the kernel")
	}
	timer := time.AfterFunc(30*time.Second, func() {
		t.Errorf("no reply within 30 s; closing the socket")
		s.Close()
	})
	t.Cleanup(func() {
		timer.Stop()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, pid
}

// rawGenl returns a generic netlink connection over a rawSocket in a fresh
// network namespace, with the namespace.
func rawGenl(t *testing.T) (*genetlink.Conn, *rawSocket, *netnstest.NS) {
	t.Helper()
	ns := netnstest.New(t)
	s, pid := openIn(t, ns)
	return genetlink.NewConn(netlink.NewConn(s, pid)), s, ns
}

// libraryGenl returns a connection from netlink.Dial in ns, for comparison.
func libraryGenl(t *testing.T, ns *netnstest.NS) *genetlink.Conn {
	t.Helper()
	c, err := genetlink.Dial(&netlink.Config{NetNS: int(ns.Handle())})
	if err != nil {
		t.Fatalf("netlink.Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestIntegrationRawSocketGetFamily(t *testing.T) {
	c, s, _ := rawGenl(t)
	f, err := c.GetFamily("nlctrl")
	if err != nil {
		t.Fatalf("GetFamily(nlctrl): %v", err)
	}
	if f.ID != unix.GENL_ID_CTRL || f.Name != "nlctrl" {
		t.Errorf("GetFamily(nlctrl) = %+v, want ID %d", f, unix.GENL_ID_CTRL)
	}

	// A datagram larger than the buffer grows it, and arrives whole.
	s.rbuf = make([]byte, 64)
	f2, err := c.GetFamily("nlctrl")
	if err != nil {
		t.Fatalf("GetFamily(nlctrl) with a 64-byte buffer: %v", err)
	}
	if diff := cmp.Diff(f, f2); diff != "" {
		t.Errorf("GetFamily(nlctrl) with a 64-byte buffer (-before +after):\n%s", diff)
	}
	if len(s.rbuf) <= 64 {
		t.Errorf("receive buffer still %d bytes", len(s.rbuf))
	}
}

// countingSocket counts the datagrams a netlink.Conn reads.
type countingSocket struct {
	*rawSocket
	datagrams int
}

func (c *countingSocket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	c.datagrams++
	return c.rawSocket.ReceiveIter()
}

func TestIntegrationRawSocketListFamiliesAsNetlinkDial(t *testing.T) {
	ns := netnstest.New(t)
	want, err := libraryGenl(t, ns).ListFamilies()
	if err != nil {
		t.Fatalf("ListFamilies over netlink.Dial: %v", err)
	}
	if len(want) < 2 {
		t.Fatalf("netlink.Dial lists %d families; the comparison needs a multi-part dump", len(want))
	}
	for _, size := range []int{receiveSize, 64} {
		t.Run(fmt.Sprintf("buffer %d", size), func(t *testing.T) {
			s, pid := openIn(t, ns)
			s.rbuf = make([]byte, size)
			cs := &countingSocket{rawSocket: s}
			got, err := genetlink.NewConn(netlink.NewConn(cs, pid)).ListFamilies()
			if err != nil {
				t.Fatalf("ListFamilies: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListFamilies (-netlink.Dial +rawSocket):\n%s", diff)
			}
			t.Logf("%d families in %d datagrams", len(got), cs.datagrams)
		})
	}
}

// A family name has at most 15 bytes; the kernel refuses a longer one with
// EINVAL.

// TestIntegrationRawSocketLargeDump reads a dump of several datagrams: the
// attribute policies of ethtool, about a hundred kilobytes.
func TestIntegrationRawSocketLargeDump(t *testing.T) {
	ns := netnstest.New(t)
	req := ctrlRequest(t, unix.CTRL_CMD_GETPOLICY, "ethtool", netlink.Request|netlink.Dump)
	lib, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{NetNS: int(ns.Handle())})
	if err != nil {
		t.Fatalf("netlink.Dial: %v", err)
	}
	defer lib.Close()
	want, err := lib.Execute(req)
	if err != nil {
		t.Fatalf("policy dump over netlink.Dial: %v", err)
	}
	for _, size := range []int{receiveSize, 64} {
		t.Run(fmt.Sprintf("buffer %d", size), func(t *testing.T) {
			s, pid := openIn(t, ns)
			s.rbuf = make([]byte, size)
			cs := &countingSocket{rawSocket: s}
			got, err := netlink.NewConn(cs, pid).Execute(req)
			if err != nil {
				t.Fatalf("policy dump: %v", err)
			}
			t.Logf("%d messages in %d datagrams", len(got), cs.datagrams)
			if cs.datagrams < 2 {
				t.Errorf("the dump came in %d datagram(s); the test needs several", cs.datagrams)
			}
			// Sequence numbers and port IDs differ between the sockets.
			data := func(ms []netlink.Message) [][]byte {
				var out [][]byte
				for _, m := range ms {
					out = append(out, m.Data)
				}
				return out
			}
			if diff := cmp.Diff(data(want), data(got)); diff != "" {
				t.Errorf("policy dump (-netlink.Dial +rawSocket):\n%s", diff)
			}
		})
	}
}

func TestIntegrationRawSocketMissingFamily(t *testing.T) {
	c, _, ns := rawGenl(t)
	_, werr := libraryGenl(t, ns).GetFamily("lvskit-nosuch")
	_, err := c.GetFamily("lvskit-nosuch")
	if !errors.Is(werr, unix.ENOENT) {
		t.Fatalf("netlink.Dial's GetFamily of a missing family: %v, want ENOENT", werr)
	}
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("GetFamily of a missing family: %v, want ENOENT as netlink.Dial's %v", err, werr)
	}
	// The connection is still in step: the next request gets its reply.
	if _, err := c.GetFamily("nlctrl"); err != nil {
		t.Errorf("GetFamily(nlctrl) after the failure: %v", err)
	}
}

// getFamily returns a CTRL_CMD_GETFAMILY request for name with flags.
func getFamily(t *testing.T, name string, flags netlink.HeaderFlags) netlink.Message {
	t.Helper()
	return ctrlRequest(t, unix.CTRL_CMD_GETFAMILY, name, flags)
}

// ctrlRequest returns a request to the generic netlink controller for the
// family name.
func ctrlRequest(t *testing.T, cmd uint8, name string, flags netlink.HeaderFlags) netlink.Message {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.CTRL_ATTR_FAMILY_NAME, name)
	attrs, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := (genetlink.Message{Header: genetlink.Header{Command: cmd, Version: 1}, Data: attrs}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return netlink.Message{Header: netlink.Header{Type: unix.GENL_ID_CTRL, Flags: flags}, Data: b}
}

func TestIntegrationRawSocketBatchAcknowledged(t *testing.T) {
	ns := netnstest.New(t)
	s, pid := openIn(t, ns)
	c := netlink.NewConn(s, pid)
	names := []string{"nlctrl", "lvskit-nosuch", "nlctrl"}
	var reqs []netlink.Message
	for _, n := range names {
		reqs = append(reqs, getFamily(t, n, netlink.Request|netlink.Acknowledge))
	}
	sent, err := c.SendMessages(reqs)
	if err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
	// One datagram carried all three: each gets its answer, in order.
	type answer struct {
		seq    uint32
		family bool
		errno  unix.Errno
	}
	var got []answer
	for len(got) < 2*len(names)-1 {
		msgs, err := c.Receive()
		var oe *netlink.OpError
		var errno unix.Errno
		switch {
		case errors.As(err, &oe) && errors.As(err, &errno):
			got = append(got, answer{seq: oe.Sequence, errno: errno})
			continue
		case err != nil:
			t.Fatalf("Receive: %v", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case netlink.Error:
				got = append(got, answer{seq: m.Header.Sequence})
			case unix.GENL_ID_CTRL:
				got = append(got, answer{seq: m.Header.Sequence, family: true})
			default:
				t.Fatalf("unexpected message %+v", m)
			}
		}
	}
	seq := func(i int) uint32 { return sent[i].Header.Sequence }
	want := []answer{
		{seq: seq(0), family: true}, {seq: seq(0)},
		{seq: seq(1), errno: unix.ENOENT},
		{seq: seq(2), family: true}, {seq: seq(2)},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(answer{})); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

func TestIntegrationRawSocketClose(t *testing.T) {
	ns := netnstest.New(t)
	s, pid := openIn(t, ns)
	c := netlink.NewConn(s, pid)

	// Close ends a Receive waiting for a datagram that never comes.
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // most likely waiting by now
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("waiting Receive ended with %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a waiting Receive")
	}

	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close of the netlink.Conn after the socket's: %v", err)
	}
	if _, err := s.Receive(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Receive after Close: %v, want net.ErrClosed", err)
	}
	m := getFamily(t, "nlctrl", netlink.Request)
	m.Header.Length = uint32(16 + len(m.Data))
	if err := s.Send(m); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close: %v, want net.ErrClosed", err)
	}
	if err := s.setsockoptInt(unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1); !errors.Is(err, net.ErrClosed) {
		t.Errorf("setsockopt after Close: %v, want net.ErrClosed", err)
	}
}

// inode returns the inode of the file behind fd.
func inode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("fstat: %v", err)
	}
	return st.Ino
}

// threadNetNSInode returns the inode of the calling thread's network
// namespace.
func threadNetNSInode(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(threadNetNS, &st); err != nil {
		t.Fatalf("stat %s: %v", threadNetNS, err)
	}
	return st.Ino
}

func TestIntegrationRawSocketInNamespace(t *testing.T) {
	ns := netnstest.New(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	home := threadNetNSInode(t)

	s, _ := openIn(t, ns)
	if got := threadNetNSInode(t); got != home {
		t.Errorf("the calling thread moved from network namespace %d to %d", home, got)
	}
	var sockNS int
	var ierr error
	if err := s.rc.Control(func(fd uintptr) { sockNS, ierr = unix.IoctlRetInt(int(fd), unix.SIOCGSKNS) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatalf("SIOCGSKNS: %v", ierr)
	}
	defer unix.Close(sockNS)
	if got, want := inode(t, sockNS), inode(t, int(ns.Handle())); got != want {
		t.Errorf("socket in network namespace %d, want the test's %d (the caller's is %d)", got, want, home)
	}
}

// TestIntegrationDialOptions checks that Dial's options reach the socket.
func TestIntegrationDialOptions(t *testing.T) {
	ns := netnstest.New(t)
	s, _ := openIn(t, ns)
	configure(s)
	var capAck, rcvbuf int
	var err1, err2 error
	if err := s.rc.Control(func(fd uintptr) {
		capAck, err1 = unix.GetsockoptInt(int(fd), unix.SOL_NETLINK, unix.NETLINK_CAP_ACK)
		rcvbuf, err2 = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	}); err != nil {
		t.Fatal(err)
	}
	if err1 != nil || capAck != 1 {
		t.Errorf("NETLINK_CAP_ACK = %d, %v; want 1", capAck, err1)
	}
	// The kernel doubles the size it is given, for its bookkeeping.
	if err2 != nil || rcvbuf < receiveBuffer {
		t.Errorf("SO_RCVBUF = %d, %v; want at least %d", rcvbuf, err2, receiveBuffer)
	}
}

// BenchmarkGetFamily compares a request and its reply over rawSocket with
// the same over netlink.Dial, in the current network namespace (generic
// netlink's controller needs no privileges).
func BenchmarkGetFamily(b *testing.B) {
	s, pid, err := dialRawSocket(0)
	if err != nil {
		b.Fatal(err)
	}
	lib, err := genetlink.Dial(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer lib.Close()
	for _, c := range []struct {
		name string
		c    *genetlink.Conn
	}{
		{"rawSocket", genetlink.NewConn(netlink.NewConn(s, pid))},
		{"netlink.Dial", lib},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.c.GetFamily("nlctrl"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	s.Close()
}
