package agent

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
)

func TestMarkRules(t *testing.T) {
	b := &config.BGP{Announce: []config.BGPAnnounce{
		{Prefix: netip.MustParsePrefix("192.168.100.1/32")},
		{Prefix: netip.MustParsePrefix("192.168.100.2/32"), FWMarks: []uint32{1, 2}, Marks: []config.BGPMark{
			{Protocol: config.TCP, Port: 80, FWMark: 1},
			{Protocol: config.UDP, FWMark: 2},
		}},
	}}
	got := fmt.Sprint(markRules(b))
	want := fmt.Sprint([]nat.MarkRule{
		{Dst: netip.MustParseAddr("192.168.100.2"), Proto: "tcp", Port: 80, Mark: 1},
		{Dst: netip.MustParseAddr("192.168.100.2"), Proto: "udp", Mark: 2},
	})
	if got != want {
		t.Errorf("markRules = %s, want %s", got, want)
	}
	if r := markRules(&config.BGP{Announce: b.Announce[:1]}); r != nil {
		t.Errorf("markRules without marks = %v, want none", r)
	}
}

func TestRouterMACs(t *testing.T) {
	r1, r2, other := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.1.1"), netip.MustParseAddr("10.0.0.12")
	r := newRouterMACs(&config.BGP{Neighbors: []config.BGPNeighbor{{Address: r1}, {Address: r2}}})
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	steps := []struct {
		ip    netip.Addr
		mac   string
		valid bool
		moved bool
		want  string
	}{
		{other, "02:00:00:00:00:12", true, false, "[]"},                                                  // not a router
		{r2, "02:00:00:00:01:01", false, false, "[]"},                                                    // incomplete
		{r2, "02:00:00:00:01:01", true, true, "[02:00:00:00:01:01]"},                                     // learned
		{r1, "02:00:00:00:00:01", true, true, "[02:00:00:00:00:01 02:00:00:00:01:01]"},                   // sorted
		{r1, "02:00:00:00:00:01", true, false, "[02:00:00:00:00:01 02:00:00:00:01:01]"},                  // the same again
		{r1, "02:00:00:00:00:01", false, false, "[02:00:00:00:00:01 02:00:00:00:01:01]"},                 // failed: kept
		{r1, "02:00:00:00:00:aa", true, true, "[02:00:00:00:00:aa 02:00:00:00:01:01]"},                   // replaced
		{netip.MustParseAddr("::ffff:10.0.1.1"), "02:00:00:00:00:aa", true, true, "[02:00:00:00:00:aa]"}, // mapped; one router's address twice
	}
	for i, s := range steps {
		if moved := r.update(s.ip, mac(s.mac), s.valid); moved != s.moved {
			t.Errorf("step %d: update(%s, %s, %v) = %v, want %v", i, s.ip, s.mac, s.valid, moved, s.moved)
		}
		if got := fmt.Sprint(r.sources()); got != s.want {
			t.Errorf("step %d: sources = %s, want %s", i, got, s.want)
		}
	}
}
