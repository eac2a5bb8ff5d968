package nat

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

func TestDecodeRule(t *testing.T) {
	r4 := Rule{"eth1", netip.MustParseAddr("192.168.0.100"), netip.MustParseAddr("172.16.0.2")}
	r6 := Rule{"eth1", netip.MustParseAddr("fd00::100"), netip.MustParseAddr("fd00::2")}
	v4, v6 := nftables.TableFamilyIPv4, nftables.TableFamilyIPv6
	tests := []struct {
		name   string
		fam    nftables.TableFamily
		exprs  func() []expr.Any
		want   Rule
		wantOK bool
	}{
		{"ipv4 round trip", v4, func() []expr.Any { return encodeRule(r4) }, r4, true},
		{"ipv6 round trip", v6, func() []expr.Any { return encodeRule(r6) }, r6, true},
		{"kernel reports addr max = addr min", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[5].(*expr.NAT).RegAddrMax = 1
			return e
		}, r4, true},
		{"ipv4 rule in an ip6 table", v6, func() []expr.Any { return encodeRule(r4) }, Rule{}, false},
		{"inet table", nftables.TableFamilyINet, func() []expr.Any { return encodeRule(r4) }, Rule{}, false},
		{"wildcard interface", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[1].(*expr.Cmp).Data = []byte("eth")
			return e
		}, Rule{}, false},
		{"garbage after the name", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[1].(*expr.Cmp).Data[10] = 'x'
			return e
		}, Rule{}, false},
		{"oifname", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[0].(*expr.Meta).Key = expr.MetaKeyOIFNAME
			return e
		}, Rule{}, false},
		{"source address", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[2].(*expr.Payload).Offset = 12
			return e
		}, Rule{}, false},
		{"not equal", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[3].(*expr.Cmp).Op = expr.CmpOpNeq
			return e
		}, Rule{}, false},
		{"snat", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[5].(*expr.NAT).Type = expr.NATTypeSourceNAT
			return e
		}, Rule{}, false},
		{"with a port", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[5].(*expr.NAT).RegProtoMin = 2
			return e
		}, Rule{}, false},
		{"persistent", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[5].(*expr.NAT).Persistent = true
			return e
		}, Rule{}, false},
		{"extra counter", v4, func() []expr.Any {
			return append(encodeRule(r4)[:5], &expr.Counter{}, encodeRule(r4)[5])
		}, Rule{}, false},
		{"target in another register", v4, func() []expr.Any {
			e := encodeRule(r4)
			e[4].(*expr.Immediate).Register = 2
			return e
		}, Rule{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decodeRule(tt.fam, tt.exprs())
			if ok != tt.wantOK {
				t.Fatalf("decodeRule ok = %v, want %v (rule %v)", ok, tt.wantOK, got)
			}
			if diff := cmp.Diff(tt.want, got, addrCmp); diff != "" {
				t.Errorf("decodeRule (-want +got):\n%s", diff)
			}
		})
	}
}
