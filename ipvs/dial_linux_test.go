//go:build linux

package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestDialNotANamespace needs no privileges: setns refuses a descriptor
// that is not a namespace before it looks at capabilities.
func TestDialNotANamespace(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())

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

// connIn opens Dial's connection in ns, closed at cleanup, and closes it
// after 30 s so that a reply that never comes fails the test instead of
// hanging it.
func connIn(t *testing.T, ns *netnstest.NS) *netlink.Conn {
	t.Helper()
	c, err := dialConn(int(ns.Handle()))
	if err != nil {
		t.Fatalf("dialConn: %v", err)
	}
	timer := time.AfterFunc(30*time.Second, func() {
		t.Errorf("no reply within 30 s; closing the connection")
		c.Close()
	})
	t.Cleanup(func() {
		timer.Stop()
		c.Close()
	})
	return c
}

// control runs fn on the descriptor of c.
func control(t *testing.T, c *netlink.Conn, fn func(fd int)) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(fd uintptr) { fn(int(fd)) }); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationDialOptions checks that Dial's options reach the socket.
func TestIntegrationDialOptions(t *testing.T) {
	c := connIn(t, netnstest.New(t))
	var capAck, rcvbuf, proto int
	var err1, err2, err3 error
	control(t, c, func(fd int) {
		capAck, err1 = unix.GetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK)
		rcvbuf, err2 = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
		proto, err3 = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	})
	if err1 != nil || capAck != 1 {
		t.Errorf("NETLINK_CAP_ACK = %d, %v; want 1", capAck, err1)
	}
	// The kernel doubles the size it is given, for its bookkeeping.
	if err2 != nil || rcvbuf < receiveBuffer {
		t.Errorf("SO_RCVBUF = %d, %v; want at least %d", rcvbuf, err2, receiveBuffer)
	}
	if err3 != nil || proto != unix.NETLINK_GENERIC {
		t.Errorf("SO_PROTOCOL = %d, %v; want NETLINK_GENERIC (%d) only", proto, err3, unix.NETLINK_GENERIC)
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
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatalf("stat: %v", err)
	}
	return st.Ino
}

func TestIntegrationDialInNamespace(t *testing.T) {
	ns := netnstest.New(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	home := threadNetNSInode(t)

	c := connIn(t, ns)
	if got := threadNetNSInode(t); got != home {
		t.Errorf("the calling thread moved from network namespace %d to %d", home, got)
	}
	var sockNS int
	var ierr error
	control(t, c, func(fd int) { sockNS, ierr = unix.IoctlRetInt(fd, unix.SIOCGSKNS) })
	if ierr != nil {
		t.Fatalf("SIOCGSKNS: %v", ierr)
	}
	defer unix.Close(sockNS)
	if got, want := inode(t, sockNS), inode(t, int(ns.Handle())); got != want {
		t.Errorf("socket in network namespace %d, want the test's %d (the caller's is %d)", got, want, home)
	}

	// A namespace without IPVS: Dial says so, with the sentinel.
	_, err := Dial(&Config{NetNS: int(ns.Handle())})
	if err != nil && !errors.Is(err, ErrNotAvailable) {
		t.Errorf("Dial: %v; want success, or ErrNotAvailable without IPVS", err)
	}
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

// TestIntegrationDialLargeDump reads a dump of several datagrams, the
// attribute policies of ethtool, through Dial's connection, and compares it
// with a connection that sizes its buffer to each datagram.
func TestIntegrationDialLargeDump(t *testing.T) {
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
	got, err := connIn(t, ns).Execute(req)
	if err != nil {
		t.Fatalf("policy dump: %v", err)
	}
	size := 0
	for _, m := range got {
		size += int(m.Header.Length)
	}
	t.Logf("%d messages, %d bytes", len(got), size)
	// The kernel fills the first datagram of a dump to at most 8 KiB.
	if size <= 8<<10 {
		t.Errorf("the dump has %d bytes; the test needs more than one datagram's worth", size)
	}
	// Sequence numbers and port IDs differ between the connections.
	data := func(ms []netlink.Message) [][]byte {
		var out [][]byte
		for _, m := range ms {
			out = append(out, m.Data)
		}
		return out
	}
	if diff := cmp.Diff(data(want), data(got)); diff != "" {
		t.Errorf("policy dump (-netlink.Dial +Dial's connection):\n%s", diff)
	}
}

// TestIntegrationDialBatchAnswers: requests sent in one datagram are
// answered in order, a failure as an error naming its sequence number.
func TestIntegrationDialBatchAnswers(t *testing.T) {
	c := connIn(t, netnstest.New(t))
	names := []string{"nlctrl", "lvskit-nosuch", "nlctrl"}
	var reqs []netlink.Message
	for _, n := range names {
		reqs = append(reqs, ctrlRequest(t, unix.CTRL_CMD_GETFAMILY, n, netlink.Request|netlink.Acknowledge))
	}
	sent, err := c.SendMessages(reqs)
	if err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
	type answer struct {
		Seq    uint32
		Family bool
		Errno  unix.Errno
	}
	var got []answer
	for len(got) < 2*len(names)-1 {
		msgs, err := c.Receive()
		var oe *netlink.OpError
		var errno unix.Errno
		switch {
		case errors.As(err, &oe) && errors.As(err, &errno):
			got = append(got, answer{Seq: oe.Sequence, Errno: errno})
			continue
		case err != nil:
			t.Fatalf("Receive: %v", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case netlink.Error:
				got = append(got, answer{Seq: m.Header.Sequence})
			case unix.GENL_ID_CTRL:
				got = append(got, answer{Seq: m.Header.Sequence, Family: true})
			default:
				t.Fatalf("unexpected message %+v", m)
			}
		}
	}
	seq := func(i int) uint32 { return sent[i].Header.Sequence }
	want := []answer{
		{Seq: seq(0), Family: true}, {Seq: seq(0)},
		{Seq: seq(1), Errno: unix.ENOENT},
		{Seq: seq(2), Family: true}, {Seq: seq(2)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// TestIntegrationApplyFailuresOverDial sends Apply's pipelined batches
// to a real kernel, addressed to the generic netlink controller, which
// refuses every IPVS command with EOPNOTSUPP: each failure is read and
// reported against its operation, across batches, and the connection stays
// in step for the next request.
func TestIntegrationApplyFailuresOverDial(t *testing.T) {
	conn := connIn(t, netnstest.New(t))
	const n, batch = 600, 256
	c := &Client{c: conn, family: unix.GENL_ID_CTRL, batch: batch}
	ops := make([]Op, n)
	for i := range ops {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		ops[i] = Op{Kind: AddService, Service: Service{Protocol: TCP, Address: a, Port: 80}}
	}
	err := c.Apply(ops)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Errors) != n {
		t.Fatalf("Apply of %d refused operations: %v, want %d failures", n, err, n)
	}
	for i, e := range ae.Errors {
		want := fmt.Sprintf("TCP 10.0.%d.%d:80", i>>8, i&0xff)
		if e.Index != i || e.Op != "add-service" || e.Target != want || e.Err != unix.EOPNOTSUPP {
			t.Fatalf("failure %d: %#v, want add-service %s EOPNOTSUPP at index %d", i, e, want, i)
		}
	}
	f, err := genetlink.NewConn(conn).GetFamily("nlctrl")
	if err != nil || f.ID != unix.GENL_ID_CTRL {
		t.Errorf("GetFamily(nlctrl) after the failed batches: %+v, %v", f, err)
	}
}
