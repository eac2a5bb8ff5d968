package agent

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
)

type fakeSuspender struct{ calls []string }

func (f *fakeSuspender) Suspend(name string, on bool) error {
	f.calls = append(f.calls, fmt.Sprintf("%s=%v", name, on))
	return nil
}

const haConf = `virtual_server_group G {
  10.0.0.2 80
  10.0.0.3 80
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind DR
  ha_suspend
  real_server 10.0.2.1 80 {
    TCP_CHECK {
    }
  }
  real_server 10.0.2.2 80 {
  }
}
virtual_server group G {
  protocol TCP
  lb_kind DR
  ha_suspend
  real_server 10.0.2.3 80 {
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.9 80 {
  protocol TCP
  lb_kind DR
  real_server 10.0.2.9 80 {
    TCP_CHECK {
    }
  }
}
`

// The checks of an ha_suspend virtual server are suspended while none of
// its addresses (a group's entries) is on the node, from the start, and
// resumed when one comes; real servers without checks and virtual servers
// without ha_suspend are left alone; a reload sets every target again.
func TestHASuspend(t *testing.T) {
	cfg, err := config.ParseKeepalived("h.conf", []byte(haConf))
	if err != nil {
		t.Fatal(err)
	}
	a := "TCP 10.0.0.1:80 -> 10.0.2.1:80"
	g := "group G -> 10.0.2.3:80"
	f := &fakeSuspender{}
	w := newHAWatch(f, slog.New(slog.DiscardHandler), cfg)
	ip := netip.MustParseAddr
	for _, step := range []struct {
		name  string
		addrs []netip.Addr
		want  []string
	}{
		{"start: neither address here", []netip.Addr{ip("127.0.0.1"), ip("10.0.0.9")}, []string{a + "=true", g + "=true"}},
		{"the VIP comes", []netip.Addr{ip("10.0.0.1")}, []string{a + "=false"}},
		{"no change", []netip.Addr{ip("10.0.0.1")}, nil},
		{"a group address comes, the VIP goes", []netip.Addr{ip("10.0.0.3")}, []string{a + "=true", g + "=false"}},
		{"both", []netip.Addr{ip("10.0.0.3"), ip("10.0.0.1"), ip("::ffff:10.0.0.2")}, []string{a + "=false"}},
	} {
		f.calls = nil
		w.setAddrs(step.addrs)
		if strings.Join(f.calls, " ") != strings.Join(step.want, " ") {
			t.Errorf("%s: Suspend calls %v, want %v", step.name, f.calls, step.want)
		}
	}
	f.calls = nil
	w.setAddrs(nil)
	w.reload(cfg)
	if want := []string{a + "=true", g + "=true"}; strings.Join(f.calls, " ") != strings.Join(append(want, want...), " ") {
		t.Errorf("suspend then reload: calls %v, want %v twice", f.calls, want)
	}

	// Started with the VIP here: nothing to suspend.
	f2 := &fakeSuspender{}
	w2 := newHAWatch(f2, slog.New(slog.DiscardHandler), cfg)
	w2.setAddrs([]netip.Addr{ip("10.0.0.1"), ip("10.0.0.2")})
	if len(f2.calls) != 0 {
		t.Errorf("started with the addresses here: calls %v, want none", f2.calls)
	}
}

// A direct-routing real server written with another port than the
// service's gets the service's port in IPVS, and its checks still connect
// to the port as written, as keepalived's checkers (they copy the address
// when they are read, before the port is reset).
func TestChecksKeepThePortAsWritten(t *testing.T) {
	cfg, err := config.ParseKeepalived("p.conf", []byte(`virtual_server 10.1.0.100 80 {
  protocol TCP
  lb_kind DR
  real_server 10.1.0.1 8080 {
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
	if got := rules(t, p.desired(nil)); !strings.Contains(got, "-r 10.1.0.1:80 -g") {
		t.Errorf("IPVS rules %q, want the real server on port 80", got)
	}
	tcp, ok := p.targets[0].Checker.(*healthcheck.TCP)
	if !ok || tcp.Addr != netip.MustParseAddrPort("10.1.0.1:8080") {
		t.Errorf("the check: %#v, want a TCP check of 10.1.0.1:8080", p.targets[0].Checker)
	}
}
