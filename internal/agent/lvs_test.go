package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
)

const quorumConf = `virtual_server_group G {
  10.0.0.1-2 80
}
virtual_server group G {
  protocol TCP
  lb_kind DR
  quorum 3
  hysteresis 1
  quorum_up /bin/qup
  quorum_down /bin/qdown
  omega
  sorry_server 10.0.9.9 80
  real_server 10.0.2.1 80 {
    weight 2
    notify_up "/bin/up a"
    notify_down "/bin/down a"
    TCP_CHECK {
    }
  }
  real_server 10.0.2.2 80 {
    weight 2
    notify_down "/bin/down b"
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.5 80 {
  protocol TCP
  lb_kind DR
  alpha
  sorry_server 10.0.9.9 80
  sorry_server_inhibit
  real_server 10.0.2.3 80 {
    TCP_CHECK {
    }
  }
}
`

// TestPoolsQuorumSorryAlpha walks health events through a group with a
// quorum, hysteresis and a sorry server, and an alpha virtual server
// with an inhibited sorry server, checking the IPVS rules and the
// programs run, as keepalived's ipwrapper.c does.
func TestPoolsQuorumSorryAlpha(t *testing.T) {
	cfg, err := config.ParseKeepalived("q.conf", []byte(quorumConf))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	p.lvs.notify = func(argv []string) { ran = append(ran, strings.Join(argv, " ")) }
	a := "group G -> 10.0.2.1:80"
	b := "group G -> 10.0.2.2:80"
	c := "TCP 10.0.0.5:80 -> 10.0.2.3:80"
	svc := func(addr, body string) string {
		return "-A -t " + addr + " -s wlc\n" + body
	}
	group := func(body string) string {
		return svc("10.0.0.1:80", strings.ReplaceAll(body, "@", "10.0.0.1:80")) + svc("10.0.0.2:80", strings.ReplaceAll(body, "@", "10.0.0.2:80"))
	}
	both := "-a -t @ -r 10.0.2.1:80 -g -w 2\n-a -t @ -r 10.0.2.2:80 -g -w 2\n"
	sorry := "-a -t @ -r 10.0.9.9:80 -g -w 1\n"
	for _, step := range []struct {
		name  string
		state map[string]targetState
		rules string
		ran   []string
	}{
		{"start: non-alpha servers in, the group with its quorum (quorum_up, as keepalived gains it at start); alpha one out, so no quorum and the sorry server in",
			nil,
			group(both) + svc("10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.9.9:80 -g -w 1\n"), []string{"/bin/qup"}},
		{"alpha server's first success: in, inhibited sorry server back to 0",
			map[string]targetState{c: {up: true}},
			group(both) + svc("10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.2.3:80 -g -w 1\n-a -t 10.0.0.5:80 -r 10.0.9.9:80 -g -w 0\n"), nil},
		{"a down: weight 2 >= quorum-hysteresis 2, quorum kept",
			map[string]targetState{c: {up: true}, a: {up: false}},
			group("-a -t @ -r 10.0.2.2:80 -g -w 2\n") + svc("10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.2.3:80 -g -w 1\n-a -t 10.0.0.5:80 -r 10.0.9.9:80 -g -w 0\n"),
			[]string{"/bin/down a"}},
		{"b down too: quorum lost, sorry server in; c down: its sorry server at weight 1",
			map[string]targetState{c: {up: false}, a: {up: false}, b: {up: false}},
			group(sorry) + svc("10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.9.9:80 -g -w 1\n"),
			[]string{"/bin/down b", "/bin/qdown"}},
		{"a back: weight 2 < quorum+hysteresis 4, still the sorry server",
			map[string]targetState{c: {up: false}, a: {up: true}, b: {up: false}},
			group(sorry) + svc("10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.9.9:80 -g -w 1\n"),
			[]string{"/bin/up a"}},
		{"b back: quorum gained, real servers in, sorry server out",
			map[string]targetState{c: {up: false}, a: {up: true}, b: {up: true}},
			group(both) + svc("10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.9.9:80 -g -w 1\n"),
			[]string{"/bin/qup"}},
	} {
		ran = nil
		if diff := cmp.Diff(step.rules, rules(t, p.desired(step.state))); diff != "" {
			t.Errorf("%s: rules (-want +got):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(step.ran, ran); diff != "" {
			t.Errorf("%s: programs (-want +got):\n%s", step.name, diff)
		}
	}
	ran = nil
	p.stopping()
	if diff := cmp.Diff([]string{"/bin/down a", "/bin/down b", "/bin/qdown"}, ran); diff != "" {
		t.Errorf("omega on stop (-want +got):\n%s", diff)
	}
}

// SMTP_CHECK and PING_CHECK map onto the healthcheck checkers, with the
// real server's address, connect_ip and helo_name.
func TestSMTPAndPingCheckers(t *testing.T) {
	cfg, err := config.ParseKeepalived("s.conf", []byte(`virtual_server 10.0.0.1 25 {
  protocol TCP
  real_server 10.0.2.1 25 {
    SMTP_CHECK {
      helo_name lb.example
      connect_timeout 2
      bindto 10.0.0.9
      bind_if eth1
    }
    PING_CHECK {
      connect_ip 10.0.3.1
    }
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs := &cfg.VirtualServers[0].RealServers[0]
	smtp, _, err := checker(&cfg.VirtualServers[0], rs, &rs.Checkers[0], nil)
	if s, ok := smtp.(*healthcheck.SMTP); err != nil || !ok || s.Addr.String() != "10.0.2.1:25" || s.HeloName != "lb.example" || s.Timeout != 2*time.Second || s.Bind.Source.String() != "10.0.0.9" || s.Bind.Interface != "eth1" {
		t.Errorf("SMTP_CHECK: %#v, %v", smtp, err)
	}
	ping, _, err := checker(&cfg.VirtualServers[0], rs, &rs.Checkers[1], nil)
	if pc, ok := ping.(*healthcheck.Ping); err != nil || !ok || pc.Addr.String() != "10.0.3.1" {
		t.Errorf("PING_CHECK: %#v, %v", ping, err)
	}
	if len(p.targets) != 1 {
		t.Errorf("%d targets, want one for the real server", len(p.targets))
	}
}

// A pool that starts without quorum and with a sorry server runs
// quorum_down at start, as keepalived does, even though the notify
// runner is set after the first IPVS sync.
func TestQuorumDownAtStartReachesTheRunner(t *testing.T) {
	cfg, err := config.ParseKeepalived("a.conf", []byte(`virtual_server 10.0.0.5 80 {
  protocol TCP
  alpha
  quorum_down /bin/qdown
  sorry_server 10.0.9.9 80
  real_server 10.0.2.3 80 {
    TCP_CHECK {
    }
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.desired(nil)
	var ran []string
	p.lvs.setNotify(func(argv []string) { ran = append(ran, strings.Join(argv, " ")) })
	if diff := cmp.Diff([]string{"/bin/qdown"}, ran); diff != "" {
		t.Errorf("programs (-want +got):\n%s", diff)
	}
	// The FIFO line keepalived writes with it, also set late.
	var lines []string
	p.lvs.setFIFO(func(l string) { lines = append(lines, l) })
	if diff := cmp.Diff([]string{"VS [10.0.0.5]:tcp:80 DOWN\n"}, lines); diff != "" {
		t.Errorf("FIFO lines (-want +got):\n%s", diff)
	}
}
