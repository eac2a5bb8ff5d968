package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/prometheus/client_golang/prometheus"
)

// scrape serves cs on loopback and returns one scrape.
func scrape(t *testing.T, cs ...prometheus.Collector) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := Serve(ctx, "127.0.0.1:0", cs...)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, l+"\n") {
			t.Errorf("metrics lack %q; got:\n%s", l, body)
		}
	}
}

func TestVRRP(t *testing.T) {
	st := vrrp.Stats{Instance: "VI_1", VRID: 7, State: vrrp.StateMaster, AdvertsSent: 12, PriorityZeroSent: 1,
		AdvertsReceived: 3, Transitions: 2, BecameMaster: 1, GARPSent: 10}
	st.Dropped[vrrp.ReasonChecksum] = 4
	body := scrape(t, NewVRRP(func() vrrp.RouterStats { return vrrp.RouterStats{Instances: []vrrp.Stats{st}, Unmatched: 5} }))
	wantLines(t, body,
		`lvskit_vrrp_state{instance="VI_1",state="MASTER",vrid="7"} 1`,
		`lvskit_vrrp_state{instance="VI_1",state="BACKUP",vrid="7"} 0`,
		`lvskit_vrrp_adverts_sent_total{instance="VI_1",vrid="7"} 12`,
		`lvskit_vrrp_priority_zero_sent_total{instance="VI_1",vrid="7"} 1`,
		`lvskit_vrrp_adverts_received_total{instance="VI_1",vrid="7"} 3`,
		`lvskit_vrrp_adverts_dropped_total{instance="VI_1",reason="checksum",vrid="7"} 4`,
		`lvskit_vrrp_adverts_dropped_total{instance="VI_1",reason="ttl",vrid="7"} 0`,
		`lvskit_vrrp_transitions_total{instance="VI_1",vrid="7"} 2`,
		`lvskit_vrrp_became_master_total{instance="VI_1",vrid="7"} 1`,
		`lvskit_vrrp_garp_sent_total{instance="VI_1",vrid="7"} 10`,
		`lvskit_vrrp_unmatched_total 5`,
	)
}

func TestIPVS(t *testing.T) {
	svc := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.168.0.100"), Port: 80, Scheduler: "wlc",
		Stats: ipvs.Stats{Conns: 30, InPackets: 157, OutPackets: 70, InBytes: 11884, OutBytes: 6220}}
	dst := ipvs.Destination{Address: netip.MustParseAddr("172.16.0.2"), Port: 80, Forward: ipvs.Route, Weight: 3,
		ActiveConns: 1, InactiveConns: 14, Stats: ipvs.Stats{Conns: 15, InBytes: 5864}}
	body := scrape(t, NewIPVS(func() (*ipvs.Table, error) {
		return &ipvs.Table{Services: []ipvs.VirtualServer{{Service: svc, Destinations: []ipvs.Destination{dst}}}}, nil
	}))
	s := svc.String()
	wantLines(t, body,
		`lvskit_ipvs_up 1`,
		`lvskit_ipvs_service_connections_total{service="`+s+`"} 30`,
		`lvskit_ipvs_service_bytes_in_total{service="`+s+`"} 11884`,
		`lvskit_ipvs_destination_connections_total{destination="172.16.0.2:80",service="`+s+`"} 15`,
		`lvskit_ipvs_destination_inactive_connections{destination="172.16.0.2:80",service="`+s+`"} 14`,
		`lvskit_ipvs_destination_weight{destination="172.16.0.2:80",service="`+s+`"} 3`,
	)
	down := scrape(t, NewIPVS(func() (*ipvs.Table, error) { return nil, errors.New("no ipvs") }))
	wantLines(t, down, `lvskit_ipvs_up 0`)
}

func TestHealth(t *testing.T) {
	h := NewHealth(func() []Target {
		return []Target{{Name: "web1", Up: true, Transitions: 2}, {Name: "web2", Up: false, Transitions: 1}}
	})
	h.Observe("web1", true, 3*time.Millisecond)
	body := scrape(t, h)
	wantLines(t, body,
		`lvskit_health_up{target="web1"} 1`,
		`lvskit_health_up{target="web2"} 0`,
		`lvskit_health_transitions_total{target="web1"} 2`,
		`lvskit_health_check_latency_seconds_count{result="up",target="web1"} 1`,
		`lvskit_health_check_latency_seconds_bucket{result="up",target="web1",le="0.005"} 1`,
	)
}
