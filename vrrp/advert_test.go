package vrrp

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pass(s string) (d [8]byte) {
	copy(d[:], s)
	return d
}

var vip100 = netip.MustParseAddr("192.168.1.100")

// goldenAdverts are the vectors of the VRRP reference, checked there with
// tshark's dissector.
var goldenAdverts = []struct {
	name string
	ad   Advert
	ph   Pseudo
	wire string
}{
	{
		name: "v2 vrid 51 prio 100 no auth",
		ad:   Advert{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip100}},
		wire: "21 33 64 01 00 01 b8 bd c0 a8 01 64 00 00 00 00 00 00 00 00",
	},
	{
		name: "v2 auth simple secret",
		ad: Advert{Version: 2, VRID: 51, Priority: 100, AuthType: AuthSimple, Interval: time.Second,
			Addrs: []netip.Addr{vip100}, AuthData: pass("secret")},
		wire: "21 33 64 01 01 01 7b 71 c0 a8 01 64 73 65 63 72 65 74 00 00",
	},
	{
		name: "v2 priority 0",
		ad:   Advert{Version: 2, VRID: 51, Priority: 0, Interval: time.Second, Addrs: []netip.Addr{vip100}},
		wire: "21 33 00 01 00 01 1c be c0 a8 01 64 00 00 00 00 00 00 00 00",
	},
	{
		name: "v3 centiseconds with pseudo-header",
		ad:   Advert{Version: 3, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip100}},
		ph:   Pseudo{Src: netip.MustParseAddr("192.168.1.10"), Dst: MulticastGroup},
		wire: "31 33 64 01 00 64 06 19 c0 a8 01 64",
	},
}

func TestAdvertMarshalGolden(t *testing.T) {
	for _, tt := range goldenAdverts {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, MaxLen)
			n, err := tt.ad.MarshalTo(b, tt.ph)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(unhex(t, tt.wire), b[:n]); diff != "" {
				t.Errorf("MarshalTo (-want +got):\n%s", diff)
			}
			if tt.ad.Version == 2 {
				app, err := tt.ad.AppendBinary([]byte{0xee})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(append([]byte{0xee}, unhex(t, tt.wire)...), app); diff != "" {
					t.Errorf("AppendBinary (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAdvertUnmarshalGolden(t *testing.T) {
	for _, tt := range goldenAdverts {
		t.Run(tt.name, func(t *testing.T) {
			var got Advert
			// Ethernet padding after the message is tolerated.
			wire := append(unhex(t, tt.wire), 0, 0, 0, 0)
			if err := got.Unmarshal(wire, tt.ph); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.ad, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("Unmarshal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdvertUnmarshalErrors(t *testing.T) {
	good := "21 33 64 01 00 01 b8 bd c0 a8 01 64 00 00 00 00 00 00 00 00"
	tests := []struct {
		name string
		wire string
		ph   Pseudo
		want ValidationError
	}{
		{"empty", "", Pseudo{}, ValidationError{Reason: ReasonLength, Got: 0, Want: 8}},
		{"header only", "21 33 64 01 00 01 b8 bd", Pseudo{}, ValidationError{Reason: ReasonLength, Got: 8, Want: 20}},
		{"truncated auth data", good[:len(good)-3], Pseudo{}, ValidationError{Reason: ReasonLength, Got: 19, Want: 20}},
		{"count larger than packet", "21 33 64 02 00 01 b8 bd c0 a8 01 64 00 00 00 00 00 00 00 00", Pseudo{}, ValidationError{Reason: ReasonLength, Got: 20, Want: 24}},
		{"version 1", "11" + good[2:], Pseudo{}, ValidationError{Reason: ReasonVersion, Got: 1, Want: 2}},
		{"version 4", "41" + good[2:], Pseudo{}, ValidationError{Reason: ReasonVersion, Got: 4, Want: 2}},
		{"type 2", "22" + good[2:], Pseudo{}, ValidationError{Reason: ReasonType, Got: 2, Want: 1}},
		{"bad checksum", "21 33 64 01 00 01 b8 be c0 a8 01 64 00 00 00 00 00 00 00 00", Pseudo{}, ValidationError{Reason: ReasonChecksum, Got: 0xb8be, Want: 0xb8bd}},
		{"flipped payload bit", "21 33 65 01 00 01 b8 bd c0 a8 01 64 00 00 00 00 00 00 00 00", Pseudo{}, ValidationError{Reason: ReasonChecksum, Got: 0xb8bd, Want: 0xb7bd}},
		{"interval 0", "21 33 64 01 00 00 b8 be c0 a8 01 64 00 00 00 00 00 00 00 00", Pseudo{}, ValidationError{Reason: ReasonInterval, Got: 0, Want: 1}},
		{"v3 wrong pseudo-header", "31 33 64 01 00 64 06 19 c0 a8 01 64",
			Pseudo{Src: netip.MustParseAddr("192.168.1.11"), Dst: MulticastGroup}, ValidationError{Reason: ReasonChecksum, Got: 0x0619, Want: 0x0618}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Advert
			err := a.Unmarshal(unhex(t, tt.wire), tt.ph)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Unmarshal error = %v, want a *ValidationError", err)
			}
			if diff := cmp.Diff(tt.want, *ve); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if ve.Error() == "" || !strings.Contains(ve.Error(), tt.want.Reason.String()) && tt.want.Reason != ReasonChecksum {
				t.Errorf("message %q does not name %v", ve.Error(), tt.want.Reason)
			}
		})
	}
}

func TestAdvertMarshalErrors(t *testing.T) {
	many := make([]netip.Addr, 256)
	for i := range many {
		many[i] = vip100
	}
	tests := []struct {
		name  string
		ad    Advert
		buf   int
		field string
	}{
		{"fractional v2 interval", Advert{VRID: 1, Interval: 1500 * time.Millisecond}, MaxLen, "interval"},
		{"zero v2 interval", Advert{VRID: 1}, MaxLen, "interval"},
		{"v2 interval too long", Advert{VRID: 1, Interval: 256 * time.Second}, MaxLen, "interval"},
		{"v3 interval too long", Advert{Version: 3, VRID: 1, Interval: 41 * time.Second}, MaxLen, "interval"},
		{"v3 without pseudo-header", Advert{Version: 3, VRID: 1, Interval: time.Second}, MaxLen, "pseudo-header"},
		{"version 5", Advert{Version: 5, Interval: time.Second}, MaxLen, "version"},
		{"ipv6 address", Advert{Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("::1")}}, MaxLen, "addresses"},
		{"256 addresses", Advert{Interval: time.Second, Addrs: many}, 4096, "addresses"},
		{"short buffer", Advert{Interval: time.Second, Addrs: []netip.Addr{vip100}}, 19, "buffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ad.MarshalTo(make([]byte, tt.buf), Pseudo{})
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("MarshalTo error = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
		})
	}
}

func TestAdvertUnmarshalReusesAddrs(t *testing.T) {
	a := Advert{Addrs: make([]netip.Addr, 0, 4)}
	wire := unhex(t, goldenAdverts[0].wire)
	allocs := testing.AllocsPerRun(100, func() {
		if err := a.Unmarshal(wire, Pseudo{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Unmarshal allocates %v times, want 0", allocs)
	}
}

func TestAdvertMarshalAllocatesNothing(t *testing.T) {
	a := goldenAdverts[1].ad
	b := make([]byte, MaxLen)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := a.MarshalTo(b, Pseudo{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("MarshalTo allocates %v times, want 0", allocs)
	}
}

func BenchmarkAdvertMarshalTo(b *testing.B) {
	a := Advert{VRID: 51, Priority: 100, AuthType: AuthSimple, Interval: time.Second,
		Addrs: []netip.Addr{vip100, netip.MustParseAddr("192.168.1.101")}, AuthData: pass("secret")}
	buf := make([]byte, MaxLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.MarshalTo(buf, Pseudo{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdvertUnmarshal(b *testing.B) {
	wire := unhex(b, goldenAdverts[1].wire)
	a := Advert{Addrs: make([]netip.Addr, 0, 4)}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Unmarshal(wire, Pseudo{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAdvert(f *testing.F) {
	for _, g := range goldenAdverts {
		f.Add(unhex(f, g.wire), g.ph.Src.IsValid())
	}
	f.Add([]byte{0x21, 0x01, 0xff, 0x00, 0x02, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte{0x21}, false)
	src := netip.MustParseAddr("192.168.1.10")
	f.Fuzz(func(t *testing.T, b []byte, v3 bool) {
		var ph Pseudo
		if v3 {
			ph = Pseudo{Src: src, Dst: MulticastGroup}
		}
		var a Advert
		if err := a.Unmarshal(b, ph); err != nil {
			var ve *ValidationError
			var fe *FieldError
			if errors.As(err, &fe) && fe.Field == "pseudo-header" && !v3 {
				return // VRRPv3 bytes given without the IP addresses
			}
			if !errors.As(err, &ve) || ve.Reason == ReasonNone {
				t.Fatalf("Unmarshal error %v is not a *ValidationError with a reason", err)
			}
			return
		}
		out := make([]byte, MaxLen)
		n, err := a.MarshalTo(out, ph)
		if err != nil {
			t.Fatalf("MarshalTo of a decoded advert: %v", err)
		}
		if n > len(b) {
			t.Fatalf("re-marshalled %d bytes from %d", n, len(b))
		}
		// Reserved bits of VRRPv3 are not kept; everything else is.
		want := append([]byte(nil), b[:n]...)
		if a.Version == Version3 {
			want[4] &= 0x0f
			out[6], out[7], want[6], want[7] = 0, 0, 0, 0
		}
		if diff := cmp.Diff(want, out[:n]); diff != "" {
			t.Fatalf("round trip (-in +out):\n%s", diff)
		}
		var b2 Advert
		if err := b2.Unmarshal(out[:n], ph); err != nil && a.Version == Version2 {
			t.Fatalf("Unmarshal of re-marshalled: %v", err)
		}
		if a.Version == Version2 {
			if diff := cmp.Diff(a, b2, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Fatalf("second decode (-first +second):\n%s", diff)
			}
		}
	})
}
