package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
)

// TestPlanSchedFlags pins that the scheduler flags and ops reach the IPVS
// services, in ipvsadm -Sn form, as keepalived installs them for the same
// file (TestVMCorpusPlanMatchesKeepalived compares with keepalived
// itself), and that a group's services all take them.
func TestPlanSchedFlags(t *testing.T) {
	cfg, err := config.Load("../config/testdata/corpus/lvskit-sched-flags.conf")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "-A -t 10.20.0.1:80 -s mh -b mh-fallback,mh-port\n" +
		"-a -t 10.20.0.1:80 -r 10.21.0.1:80 -g -w 1\n" +
		"-a -t 10.20.0.1:80 -r 10.21.0.2:80 -g -w 1\n" +
		"-A -u 10.20.0.1:53 -s sh -o -b sh-port\n" +
		"-a -u 10.20.0.1:53 -r 10.21.0.1:53 -g -w 1\n" +
		"-a -u 10.20.0.1:53 -r 10.21.0.2:53 -g -w 1\n" +
		"-A -t 10.20.0.2:443 -s sh -b sh-port\n" +
		"-a -t 10.20.0.2:443 -r 10.21.0.3:443 -m -w 1\n" +
		"-A -u 10.20.0.3:53 -s rr -b flag-1,flag-3\n" +
		"-a -u 10.20.0.3:53 -r 10.21.0.3:53 -m -w 1\n" +
		"-A -f 5 -s mh -o -b mh-fallback\n" +
		"-a -f 5 -r 10.21.0.4:0 -g -w 1\n"
	if diff := cmp.Diff(sortedRules(want), sortedRules(rules(t, p.desired(nil)))); diff != "" {
		t.Errorf("ipvsadm -Sn (-want +got):\n%s", diff)
	}

	group := `virtual_server_group G {
  10.20.0.5 53
  fwmark 9
}
virtual_server group G {
  protocol UDP
  lb_algo mh
  mh-port
  ops
  lb_kind DR
  real_server 10.21.0.1 53 {
  }
}
`
	cfg, err = config.ParseKeepalived("g.conf", []byte(group))
	if err != nil {
		t.Fatal(err)
	}
	if p, err = ipvsPlan(cfg); err != nil {
		t.Fatal(err)
	}
	want = "-A -u 10.20.0.5:53 -s mh -o -b mh-port\n" +
		"-a -u 10.20.0.5:53 -r 10.21.0.1:53 -g -w 1\n" +
		"-A -f 9 -s mh -o -b mh-port\n" +
		"-a -f 9 -r 10.21.0.1:53 -g -w 1\n"
	if diff := cmp.Diff(sortedRules(want), sortedRules(rules(t, p.desired(nil)))); diff != "" {
		t.Errorf("group: ipvsadm -Sn (-want +got):\n%s", diff)
	}
}
