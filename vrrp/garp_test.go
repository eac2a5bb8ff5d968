package vrrp

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppendGARP(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}
	got := AppendGARP(nil, mac, netip.MustParseAddr("192.168.0.100"))
	want := unhex(t, "ffffffffffff 02005e102030 0806"+
		"0001 0800 06 04 0001 02005e102030 c0a80064 ffffffffffff c0a80064")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frame (-want +got):\n%s", diff)
	}
	if len(got) != GARPLen {
		t.Errorf("len %d, want %d", len(got), GARPLen)
	}
}
