//go:build linux

package ipvs_test

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

const testFamilyID = 0x1c

// genlConn serves a genltest.Func on a *netlink.Conn (what ipvs.New takes),
// answering each request of a batch in turn, in a datagram of its own as
// the kernel does; errno, when not zero, is returned for the requests fn
// returns errnoFail for. A read with no answer left fails with EAGAIN
// rather than waiting.
func genlConn(t *testing.T, fn genltest.Func) *netlink.Conn {
	t.Helper()
	family := genetlink.Family{ID: testFamilyID, Name: "IPVS", Version: 1}
	serve := genltest.ServeFamily(family, fn)
	var pending [][]netlink.Message
	answer := func(req netlink.Message) ([]netlink.Message, error) {
		if req.Header.Type == netlink.Noop {
			// As the kernel: only the acknowledgement asked for.
			if req.Header.Flags&netlink.Acknowledge != 0 {
				return nltest.Error(0, []netlink.Message{req})
			}
			return nil, nil
		}
		var gm genetlink.Message
		if err := gm.UnmarshalBinary(req.Data); err != nil {
			return nil, err
		}
		replies, err := serve(gm, req)
		var ef errnoFail
		if errors.As(err, &ef) {
			return nltest.Error(int(ef), []netlink.Message{req})
		}
		if err != nil {
			return nil, err
		}
		var out []netlink.Message
		for _, r := range replies {
			b, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			out = append(out, netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(testFamilyID), Sequence: req.Header.Sequence, PID: req.Header.PID}, Data: b})
		}
		if req.Header.Flags&netlink.Acknowledge != 0 {
			e, _ := nltest.Error(0, []netlink.Message{req})
			out = append(out, e...)
		}
		return out, nil
	}
	return nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
		for _, req := range reqs {
			d, err := answer(req)
			if err != nil {
				return nil, err
			}
			if len(d) > 0 {
				pending = append(pending, d)
			}
		}
		if len(pending) == 0 {
			if reqs == nil {
				return nil, unix.EAGAIN
			}
			return nil, nil
		}
		d := pending[0]
		pending = pending[1:]
		return d, nil
	})
}

type errnoFail unix.Errno

func (e errnoFail) Error() string { return unix.Errno(e).Error() }

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGenltestGoldenNewService: CreateService sends exactly the reference's
// NEW_SERVICE payload, as an acknowledged request of the IPVS family.
func TestGenltestGoldenNewService(t *testing.T) {
	golden := hexBytes(t, `01 01 00 00 48 00 01 00 06 00 01 00 02 00 00 00 06 00 02 00 06 00 00 00 08 00 03 00 0a 00 00 01
06 00 04 00 00 50 00 00 07 00 06 00 72 72 00 00 0c 00 07 00 00 00 00 00 ff ff ff ff 08 00 08 00 00
00 00 00 08 00 09 00 ff ff ff ff`)
	var calls int
	conn := genlConn(t, genltest.CheckRequest(testFamilyID, 1, netlink.Request|netlink.Acknowledge,
		func(gm genetlink.Message, nm netlink.Message) ([]genetlink.Message, error) {
			calls++
			if diff := cmp.Diff(golden, nm.Data); diff != "" {
				t.Errorf("NEW_SERVICE payload (-golden +sent):\n%s", diff)
			}
			return nil, nil
		}))
	c, err := ipvs.New(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "rr"}
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("%d requests, want 1", calls)
	}
}

// TestGenltestDumpDecoding: a GET_SERVICE dump answered with the kernel's
// layout (16-byte IPv4 address, flags with HASHED) decodes.
func TestGenltestDumpDecoding(t *testing.T) {
	reply := hexBytes(t, `54 00 01 00
06 00 01 00 02 00 00 00  06 00 02 00 11 00 00 00
14 00 03 00 c0 a8 00 64 00 00 00 00 00 00 00 00 00 00 00 00
06 00 04 00 00 35 00 00  07 00 06 00 72 72 00 00
0c 00 07 00 02 00 00 00 ff ff ff ff  08 00 08 00 00 00 00 00  08 00 09 00 ff ff ff ff`)
	conn := genlConn(t, genltest.CheckRequest(testFamilyID, 4, netlink.Request|netlink.Dump,
		func(gm genetlink.Message, nm netlink.Message) ([]genetlink.Message, error) {
			return []genetlink.Message{{Header: genetlink.Header{Command: 1, Version: 1}, Data: reply}}, nil
		}))
	c, err := ipvs.New(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	want := []ipvs.Service{{Family: ipvs.IPv4, Protocol: ipvs.UDP, Address: netip.MustParseAddr("192.168.0.100"), Port: 53, Scheduler: "rr", Flags: ipvs.FlagHashed, Netmask: 32}}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("Services (-want +got):\n%s", diff)
	}
}

// TestGenltestErrno: a kernel refusal comes back as an *OpError naming the
// operation, unwrapping to the errno.
func TestGenltestErrno(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EEXIST, unix.EINVAL, unix.EPERM} {
		t.Run(errno.Error(), func(t *testing.T) {
			conn := genlConn(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
				return nil, errnoFail(errno)
			})
			c, err := ipvs.New(conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.CreateService(ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80})
			var oe *ipvs.OpError
			if !errors.As(err, &oe) || oe.Op != "add-service" || !errors.Is(err, errno) {
				t.Errorf("error %v: want *OpError add-service unwrapping to %v", err, errno)
			}
			if got, want := errors.Is(err, ipvs.ErrExists), errno == unix.EEXIST; got != want {
				t.Errorf("errors.Is(%v, ErrExists) = %v", err, got)
			}
			if !strings.Contains(err.Error(), "TCP 10.0.0.1:80") {
				t.Errorf("error %q does not name the service", err)
			}
		})
	}
}
