package agent

import (
	"errors"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// fakeIP records adds and removes; fail makes the add of that entry fail,
// exists reports it already there.
type fakeIP struct {
	calls        []string
	fail, exists string
}

func (f *fakeIP) Add(e ipEntry) error {
	switch e.String() {
	case f.fail:
		return errors.New("no such device")
	case f.exists:
		return errIPExists
	}
	f.calls = append(f.calls, "add "+e.String())
	return nil
}

func (f *fakeIP) Del(e ipEntry) error { f.calls = append(f.calls, "del "+e.String()); return nil }
func (f *fakeIP) Close() error        { return nil }

func testIPConfig() *config.Config {
	p := netip.MustParsePrefix
	return &config.Config{
		StaticRoutes: []config.Route{{Type: config.RouteUnicast, Dst: p("10.20.0.0/24"), Dev: "eth1", Table: 254}},
		StaticRules:  []config.Rule{{From: p("10.30.0.0/24"), Table: 100, Priority: 100}},
		VRRP: []config.VRRPInstance{{Name: "VI_1",
			VirtualRoutes: []config.Route{{Type: config.RouteBlackhole, Dst: p("10.40.0.0/24"), Table: 254}, {Type: config.RouteUnicast, Dst: p("10.41.0.0/24"), Via: netip.MustParseAddr("10.0.0.1"), Table: 101}},
			VirtualRules:  []config.Rule{{To: p("10.50.0.0/24"), Table: 101, Priority: 200}},
		}},
	}
}

// Virtual routes and rules are added on MASTER in order, removed in
// reverse order on leaving it, once; the static ones stay until stop.
func TestIPConfigFollowsTheState(t *testing.T) {
	k := &fakeIP{}
	log := slog.New(slog.DiscardHandler)
	c := newIPConfig(testIPConfig())
	if err := c.static.apply(k, log); err != nil {
		t.Fatal(err)
	}
	for _, to := range []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateMaster, vrrp.StateFault, vrrp.StateBackup, vrrp.StateMaster} {
		c.transition(k, vrrp.Transition{Instance: "VI_1", To: to}, log)
	}
	c.stop(k, log)
	want := []string{
		"add route 10.20.0.0/24 dev eth1", "add rule from 10.30.0.0/24 table 100 priority 100",
		"add route blackhole 10.40.0.0/24", "add route 10.41.0.0/24 via 10.0.0.1 table 101", "add rule to 10.50.0.0/24 table 101 priority 200",
		"del rule to 10.50.0.0/24 table 101 priority 200", "del route 10.41.0.0/24 via 10.0.0.1 table 101", "del route blackhole 10.40.0.0/24",
		"add route blackhole 10.40.0.0/24", "add route 10.41.0.0/24 via 10.0.0.1 table 101", "add rule to 10.50.0.0/24 table 101 priority 200",
		"del rule to 10.50.0.0/24 table 101 priority 200", "del route 10.41.0.0/24 via 10.0.0.1 table 101", "del route blackhole 10.40.0.0/24",
		"del rule from 10.30.0.0/24 table 100 priority 100", "del route 10.20.0.0/24 dev eth1",
	}
	if diff := cmp.Diff(want, k.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// An entry already present is left and never removed; an error undoes what
// the call added and is returned naming the entry.
func TestIPSetExistsAndUndo(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	k := &fakeIP{exists: "route blackhole 10.40.0.0/24"}
	c := newIPConfig(testIPConfig())
	c.transition(k, vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster}, log)
	c.transition(k, vrrp.Transition{Instance: "VI_1", To: vrrp.StateBackup}, log)
	want := []string{
		"add route 10.41.0.0/24 via 10.0.0.1 table 101", "add rule to 10.50.0.0/24 table 101 priority 200",
		"del rule to 10.50.0.0/24 table 101 priority 200", "del route 10.41.0.0/24 via 10.0.0.1 table 101",
	}
	if diff := cmp.Diff(want, k.calls); diff != "" {
		t.Errorf("exists: calls (-want +got):\n%s", diff)
	}

	k = &fakeIP{fail: "rule from 10.30.0.0/24 table 100 priority 100"}
	c = newIPConfig(testIPConfig())
	err := c.static.apply(k, log)
	if err == nil || err.Error() != ": adding rule from 10.30.0.0/24 table 100 priority 100: no such device" {
		t.Errorf("error %v", err)
	}
	want = []string{"add route 10.20.0.0/24 dev eth1", "del route 10.20.0.0/24 dev eth1"}
	if diff := cmp.Diff(want, k.calls); diff != "" {
		t.Errorf("undo: calls (-want +got):\n%s", diff)
	}
}
