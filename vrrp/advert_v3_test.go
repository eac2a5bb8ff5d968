package vrrp

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type capturedAdvert struct {
	family string
	ph     Pseudo
	wire   []byte
}

// keepalivedV3 reads testdata/keepalived-v3.txt: adverts keepalived sent.
func keepalivedV3(t testing.TB) []capturedAdvert {
	t.Helper()
	b, err := os.ReadFile("testdata/keepalived-v3.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []capturedAdvert
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out = append(out, capturedAdvert{f[0], Pseudo{netip.MustParseAddr(f[1]), netip.MustParseAddr(f[2])},
			unhex(t, strings.Join(f[3:], ""))})
	}
	if len(out) != 2 {
		t.Fatalf("testdata/keepalived-v3.txt: %d adverts, want 2", len(out))
	}
	return out
}

// TestAdvertKeepalivedV3Golden decodes the adverts keepalived sent and
// encodes the same instance's advert: the bytes, checksum included, are
// keepalived's, for IPv4 (checksum over the IPv4 pseudo-header, as
// keepalived 2.2.7's vrrp.c builds it) and IPv6.
func TestAdvertKeepalivedV3Golden(t *testing.T) {
	want := map[string]Advert{
		"ipv4": {Version: 3, VRID: 1, Priority: 120, Interval: 100 * time.Millisecond, Addrs: []netip.Addr{netip.MustParseAddr("192.168.0.100")}},
		"ipv6": {Version: 3, VRID: 2, Priority: 120, Interval: 100 * time.Millisecond, Addrs: []netip.Addr{netip.MustParseAddr("fd00::100")}},
	}
	for _, c := range keepalivedV3(t) {
		t.Run(c.family, func(t *testing.T) {
			var got Advert
			if err := got.Unmarshal(c.wire, c.ph); err != nil {
				t.Fatal(err)
			}
			w := want[c.family]
			if diff := cmp.Diff(w, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			b := make([]byte, MaxLen)
			n, err := w.MarshalTo(b, c.ph)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.wire, b[:n]); diff != "" {
				t.Errorf("encoded (-keepalived +lvskit):\n%s", diff)
			}
			// The same advert with the other address of the pseudo-header
			// fails its checksum.
			bad := c.ph
			bad.Dst = c.ph.Src
			var a Advert
			var ve *ValidationError
			if err := a.Unmarshal(c.wire, bad); !errors.As(err, &ve) || ve.Reason != ReasonChecksum {
				t.Errorf("Unmarshal with a wrong pseudo-header: %v, want a checksum error", err)
			}
		})
	}
}

// FuzzAdvertV3 round-trips VRRPv3 adverts over IPv4 and IPv6: whatever
// decodes encodes to the same bytes (reserved bits aside) and decodes
// again to the same advert; nothing panics.
func FuzzAdvertV3(f *testing.F) {
	for _, c := range keepalivedV3(f) {
		f.Add(c.wire, c.family == "ipv6")
	}
	f.Add(unhex(f, "31 33 64 01 00 64 06 19 c0 a8 01 64"), false)
	f.Add([]byte{0x31, 0x01, 0x64, 0x00, 0x00, 0x01}, true)
	src4, src6 := netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("fe80::60d6:c0ff:fe50:4ac9")
	f.Fuzz(func(t *testing.T, b []byte, ipv6 bool) {
		ph := Pseudo{Src: src4, Dst: MulticastGroup}
		if ipv6 {
			ph = Pseudo{Src: src6, Dst: MulticastGroup6}
		}
		var a Advert
		if err := a.Unmarshal(b, ph); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Reason == ReasonNone {
				t.Fatalf("Unmarshal error %v is not a *ValidationError with a reason", err)
			}
			return
		}
		out := make([]byte, MaxLen)
		n, err := a.MarshalTo(out, ph)
		if err != nil {
			if a.Version == Version2 {
				return // VRRPv2 bytes: FuzzAdvert's business
			}
			t.Fatalf("MarshalTo of a decoded advert: %v", err)
		}
		want := append([]byte(nil), b[:n]...)
		got := append([]byte(nil), out[:n]...)
		if want[4]&0xf0 != 0 {
			// Reserved bits are not kept, so neither is the checksum.
			want[4] &= 0x0f
			got[6], got[7], want[6], want[7] = 0, 0, 0, 0
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round trip (-in +out):\n%s", diff)
		}
		var b2 Advert
		if err := b2.Unmarshal(out[:n], ph); err != nil {
			t.Fatalf("Unmarshal of re-marshalled: %v", err)
		}
		if diff := cmp.Diff(a, b2, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Fatalf("second decode (-first +second):\n%s", diff)
		}
	})
}
