package metrics

import (
	"strings"
	"testing"
)

func TestBGP(t *testing.T) {
	st := BGPState{
		Sessions: []BGPSession{
			{Neighbor: "10.0.0.1", State: "established", BFD: "up", Flops: 2},
			{Neighbor: "10.0.1.1", State: "active"},
		},
		Prefixes:      []BGPPrefix{{Prefix: "192.168.100.1/32", Announced: true, Servable: true}, {Prefix: "192.168.100.2/32"}},
		Announcements: 3, Withdrawals: 1,
	}
	body := scrape(t, NewBGP(func() (BGPState, bool) { return st, true }))
	wantLines(t, body,
		`lvskit_bgp_session_state{neighbor="10.0.0.1",state="established"} 1`,
		`lvskit_bgp_session_state{neighbor="10.0.0.1",state="idle"} 0`,
		`lvskit_bgp_session_state{neighbor="10.0.1.1",state="active"} 1`,
		`lvskit_bgp_session_flops_total{neighbor="10.0.0.1"} 2`,
		`lvskit_bgp_bfd_state{neighbor="10.0.0.1",state="up"} 1`,
		`lvskit_bgp_bfd_state{neighbor="10.0.0.1",state="down"} 0`,
		`lvskit_bgp_prefix_announced{prefix="192.168.100.1/32"} 1`,
		`lvskit_bgp_prefix_announced{prefix="192.168.100.2/32"} 0`,
		`lvskit_bgp_prefix_servable{prefix="192.168.100.1/32"} 1`,
		`lvskit_bgp_announcements_total 3`,
		`lvskit_bgp_withdrawals_total 1`,
	)
	if strings.Contains(body, `lvskit_bgp_bfd_state{neighbor="10.0.1.1"`) {
		t.Errorf("BFD state reported for a session without BFD:\n%s", body)
	}
	if body := scrape(t, NewBGP(func() (BGPState, bool) { return BGPState{}, false })); strings.Contains(body, "lvskit_bgp_") {
		t.Errorf("metrics without a speaker:\n%s", body)
	}
}
