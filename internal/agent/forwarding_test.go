package agent

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
)

// TestForwardingPerServer maps the corpus file of forwarding methods:
// per real server and sorry server, as set above each (the second
// lb_kind applies to the real servers after it), with tunnel types,
// thresholds, a persistence engine and a fwmark service's ip_family, in
// ipvsadm -S form. The VM tier compares the same file with keepalived's
// rules (TestVMCorpusPlanMatchesKeepalived).
func TestForwardingPerServer(t *testing.T) {
	src, err := os.ReadFile("../config/testdata/corpus/lvskit-forwarding.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseKeepalived("lvskit-forwarding.conf", src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := `-A -t 10.30.0.1:80 -s wlc
-a -t 10.30.0.1:80 -r 10.30.1.1:8080 -m -w 2
-a -t 10.30.0.1:80 -r 10.30.1.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.30.0.1:80 -r 10.30.1.3:80 -i -w 1 --tun-type gre --tun-nocsum
-a -t 10.30.0.1:80 -r 10.30.1.4:80 -g -w 1
-a -t 10.30.0.1:80 -r 10.30.1.5:8081 -m -w 1
-A -t 10.30.0.3:443 -s rr
-a -t 10.30.0.3:443 -r 10.30.9.9:443 -i -w 1 --tun-type gue --tun-port 6081 --tun-nocsum
-A -u 10.30.0.2:5060 -s rr -p 60 --pe sip
-a -u 10.30.0.2:5060 -r 10.30.2.1:5060 -g -w 1
-A -f 9 -6 -s rr
-a -f 9 -6 -r [2001:db8::1]:0 -i -w 1 --tun-type ipip
`
	tb := p.desired(nil)
	if diff := cmp.Diff(want, rules(t, tb)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	// ipvsadm -S leaves the thresholds out.
	if d := tb.Services[0].Destinations[0]; d.UpperThreshold != 1000 || d.LowerThreshold != 800 {
		t.Errorf("10.30.1.1:8080 thresholds %d/%d, want 1000/800", d.UpperThreshold, d.LowerThreshold)
	}
}
