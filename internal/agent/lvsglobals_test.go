package agent

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
)

// startGlobals starts nodeYAML with g's lvs_* settings.
func (n *testNode) startGlobals(set func(*config.Global)) {
	n.t.Helper()
	cfg := parseNode(n.t, nodeYAML)
	set(&cfg.Global)
	n.run(cfg)
}

// services returns the kernel's services as sorted ipvsadm -S lines.
func (n *testNode) services() string {
	var s []string
	for _, l := range strings.SplitAfter(n.rules(), "\n") {
		if strings.HasPrefix(l, "-A ") {
			s = append(s, l)
		}
	}
	return strings.Join(s, "")
}

func (n *testNode) timeouts() ipvs.Timeouts {
	n.t.Helper()
	to, err := n.admin.Timeouts()
	if err != nil {
		n.t.Fatal(err)
	}
	return to
}

// foreign is a virtual server the node does not configure.
var foreign = ipvs.Service{Protocol: ipvs.TCP, Port: 8080, Scheduler: "rr"}

func (n *testNode) addForeign() {
	n.t.Helper()
	s := foreign
	s.Address = nodeAddr.Next().Next().Next() // 172.16.0.4
	if err := n.admin.CreateService(s); err != nil {
		n.t.Fatal(err)
	}
}

const ownServices = "-A -t 192.168.0.100:80 -s wlc\n-A -u 192.168.0.100:53 -s rr\n"

// lvs_timeouts, lvs_flush and lvs_flush_on_stop as keepalived runs them:
// timeouts set and IPVS flushed before the node's services are written,
// all of IPVS flushed at stop and the kernel's timeouts put back.
func TestRunLVSTimeoutsFlushAndFlushOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		orig := n.timeouts()
		n.addForeign()
		n.startGlobals(func(g *config.Global) {
			g.LVSTimeouts = config.LVSTimeouts{TCP: 100, UDP: 30}
			g.LVSFlush = true
			g.LVSFlushOnStop = config.LVSFlushAll
		})
		if got, want := n.timeouts(), (ipvs.Timeouts{TCP: 100, TCPFin: orig.TCPFin, UDP: 30}); got != want {
			t.Errorf("timeouts after start = %+v, want %+v (from %+v)", got, want, orig)
		}
		if got := n.services(); got != ownServices {
			t.Errorf("services after start with lvs_flush:\n%s\nwant only the node's:\n%s", got, ownServices)
		}
		n.addForeign()
		if err := n.stop(); err != nil {
			t.Fatal(err)
		}
		if got := n.rules(); got != "" {
			t.Errorf("IPVS after stop with lvs_flush_on_stop:\n%s\nwant empty", got)
		}
		if got := n.timeouts(); got != orig {
			t.Errorf("timeouts after stop = %+v, want the kernel's %+v back", got, orig)
		}
	})
}

// Without lvs_flush nor lvs_flush_on_stop (or with "VS"), a service the
// node does not own stays through its start and stop.
func TestRunLVSNoFlush(t *testing.T) {
	for _, onStop := range []config.LVSFlushOnStop{config.LVSFlushOwn, config.LVSFlushVS} {
		synctest.Test(t, func(t *testing.T) {
			n := newTestNode(t)
			orig := n.timeouts()
			n.addForeign()
			n.startGlobals(func(g *config.Global) { g.LVSFlushOnStop = onStop })
			want := "-A -t 172.16.0.4:8080 -s rr\n" + ownServices
			if got := n.services(); got != want {
				t.Errorf("%v: services after start:\n%s\nwant:\n%s", onStop, got, want)
			}
			if err := n.stop(); err != nil {
				t.Fatal(err)
			}
			if got, want := n.rules(), "-A -t 172.16.0.4:8080 -s rr\n"; got != want {
				t.Errorf("%v: IPVS after stop:\n%s\nwant:\n%s", onStop, got, want)
			}
			if got := n.timeouts(); got != orig {
				t.Errorf("%v: timeouts %+v, want unchanged %+v", onStop, got, orig)
			}
		})
	}
}

// dont_release_ipvs keeps everything, lvs_flush_on_stop or not, but the
// kernel's timeouts are put back, as keepalived's ipvs_stop does.
func TestRunLVSFlushOnStopKeep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		orig := n.timeouts()
		n.addForeign()
		n.startGlobals(func(g *config.Global) {
			g.DontReleaseIPVS = true
			g.LVSFlushOnStop = config.LVSFlushAll
			g.LVSTimeouts = config.LVSTimeouts{TCPFin: 7}
		})
		if got := n.timeouts().TCPFin; got != 7 {
			t.Errorf("tcpfin after start = %d, want 7", got)
		}
		if err := n.stop(); err != nil {
			t.Fatal(err)
		}
		if got, want := n.services(), "-A -t 172.16.0.4:8080 -s rr\n"+ownServices; got != want {
			t.Errorf("services after a stop keeping IPVS:\n%s\nwant:\n%s", got, want)
		}
		if got := n.timeouts(); got != orig {
			t.Errorf("timeouts after stop = %+v, want the kernel's %+v back", got, orig)
		}
	})
}

// A reload sets the new timeouts, the kernel's where one is no longer
// given (keepalived's start_check with reload: ipvs_set_timeouts, or
// ipvs_set_timeouts(NULL) when none is given); lvs_flush is not run again.
func TestRunLVSTimeoutsReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		orig := n.timeouts()
		n.startGlobals(func(g *config.Global) {
			g.LVSTimeouts = config.LVSTimeouts{TCP: 100, UDP: 30}
			g.LVSFlush = true
		})
		n.addForeign()
		steps := []struct {
			set  config.LVSTimeouts
			want ipvs.Timeouts
		}{
			{config.LVSTimeouts{TCPFin: 9}, ipvs.Timeouts{TCP: orig.TCP, TCPFin: 9, UDP: orig.UDP}},
			{config.LVSTimeouts{}, orig},
			{config.LVSTimeouts{UDP: 5}, ipvs.Timeouts{TCP: orig.TCP, TCPFin: orig.TCPFin, UDP: 5}},
		}
		for _, s := range steps {
			cfg := parseNode(t, nodeYAML)
			cfg.Global.LVSTimeouts = s.set
			cfg.Global.LVSFlush = true
			if err := n.a.Reload(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if got := n.timeouts(); got != s.want {
				t.Errorf("reloaded with %+v: timeouts %+v, want %+v", s.set, got, s.want)
			}
		}
		if got := n.services(); !strings.Contains(got, "172.16.0.4:8080") {
			t.Errorf("services after reloads with lvs_flush:\n%s\nwant the foreign one kept", got)
		}
	})
}
