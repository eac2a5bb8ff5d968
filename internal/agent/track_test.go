package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// The result counter follows keepalived's: the first result counts at
// once, then rise successes or fall failures in a row change the state.
func TestScriptStateRiseFall(t *testing.T) {
	tests := []struct {
		name       string
		rise, fall int
		initFail   bool
		runs       string // s: success, f: failure
		want       string // after each run: + ok, - failed
	}{
		{"first success counts", 3, 2, false, "s", "+"},
		{"first failure counts", 3, 2, false, "f", "-"},
		{"fall failures in a row", 1, 3, false, "sfffsfff", "+++-+++-"},
		{"a success resets the fall count", 1, 3, false, "sffsff", "++++++"},
		{"rise successes in a row", 3, 1, false, "fsssfss", "---+---"},
		{"init_fail needs rise successes", 2, 1, true, "ss", "-+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newScriptState(&config.VRRPScript{Rise: tt.rise, Fall: tt.fall, InitFail: tt.initFail})
			got := ""
			for _, r := range tt.runs {
				st.record(r == 's')
				if st.ok() {
					got += "+"
				} else {
					got += "-"
				}
			}
			if got != tt.want {
				t.Errorf("runs %s: states %s, want %s", tt.runs, got, tt.want)
			}
		})
	}
}

func TestTrackingEffectivePriorities(t *testing.T) {
	cfg := &config.Config{
		VRRPScripts: []config.VRRPScript{
			{Name: "minus", Rise: 1, Fall: 1},
			{Name: "plus", Rise: 1, Fall: 1},
			{Name: "fault", Rise: 1, Fall: 1},
		},
		VRRP: []config.VRRPInstance{
			{Name: "A", Interface: "eth1", Priority: 100, TrackScripts: []config.TrackScript{{Name: "minus", Weight: -30}, {Name: "plus", Weight: 20}}},
			{Name: "B", Interface: "eth1", Priority: 250, TrackScripts: []config.TrackScript{{Name: "plus", Weight: 20}, {Name: "fault"}}},
			{Name: "C", Interface: "eth1", Priority: 100},
		},
	}
	tr := newTracking(cfg)
	type got struct {
		Instance string
		Priority uint8
		Fault    bool
	}
	collect := func(us []update) []got {
		var out []got
		for _, u := range us {
			out = append(out, got{u.in.name, u.priority, u.fault})
			u.in.lastPrio, u.in.lastFault, u.in.sent = u.priority, u.fault, true
		}
		return out
	}
	steps := []struct {
		script  string
		success bool
		want    []got
	}{
		{"minus", true, []got{{"A", 100, false}, {"B", 250, false}}}, // first report: base priorities
		{"plus", true, []got{{"A", 120, false}, {"B", 254, false}}},  // 270 clamped to 254
		{"minus", false, []got{{"A", 90, false}}},
		{"fault", false, []got{{"B", 254, true}}},
		{"fault", false, nil}, // no change
		{"plus", false, []got{{"A", 70, false}, {"B", 250, true}}},
		{"fault", true, []got{{"B", 250, false}}},
	}
	for i, s := range steps {
		if diff := cmp.Diff(s.want, collect(tr.record(s.script, s.success))); diff != "" {
			t.Fatalf("step %d (%s %v): updates (-want +got):\n%s", i, s.script, s.success, diff)
		}
	}
	if newTracking(&config.Config{VRRP: []config.VRRPInstance{{Name: "C"}}}) != nil {
		t.Error("tracking without any track_script")
	}
}

func TestTrackingSyncGroupHoldsMembersInFault(t *testing.T) {
	cfg := &config.Config{
		VRRPScripts: []config.VRRPScript{{Name: "s", Rise: 1, Fall: 1}},
		VRRP: []config.VRRPInstance{
			{Name: "A", Interface: "eth0", Priority: 100},
			{Name: "B", Interface: "eth1", Priority: 100, TrackScripts: []config.TrackScript{{Name: "s"}}},
			{Name: "C", Interface: "eth1", Priority: 100},
			{Name: "D", Interface: "eth1", Priority: 100}, // in no group
		},
		SyncGroups: []config.SyncGroup{{Name: "G", Instances: []string{"A", "B", "C"}}},
	}
	tr := newTracking(cfg)
	type got struct {
		Instance string
		Fault    bool
	}
	apply := func(us []update) []got {
		var out []got
		for _, u := range us {
			out = append(out, got{u.in.name, u.fault})
			u.in.lastPrio, u.in.lastFault, u.in.sent = u.priority, u.fault, true
		}
		return out
	}
	tn := func(name string, to vrrp.State, cause vrrp.CauseKind) vrrp.Transition {
		return vrrp.Transition{Instance: name, To: to, Cause: vrrp.Cause{Kind: cause}}
	}
	apply(tr.changes())
	steps := []struct {
		name string
		us   func() []update
		want []got
	}{
		{"A's interface goes down: B and C are held", func() []update { return tr.transition(tn("A", vrrp.StateFault, vrrp.CauseInterfaceDown)) }, []got{{"B", true}, {"C", true}}},
		{"B and C enter FAULT held: nothing more", func() []update {
			return append(tr.transition(tn("B", vrrp.StateFault, vrrp.CauseTrackFault)), tr.transition(tn("C", vrrp.StateFault, vrrp.CauseTrackFault))...)
		}, nil},
		{"B's script fails: B is in FAULT of its own too", func() []update { return tr.record("s", false) }, nil},
		{"A comes back: B still holds A and C", func() []update { return tr.transition(tn("A", vrrp.StateBackup, vrrp.CauseInterfaceUp)) }, []got{{"A", true}}},
		{"A enters FAULT held", func() []update { return tr.transition(tn("A", vrrp.StateFault, vrrp.CauseTrackFault)) }, nil},
		{"B's script succeeds: all are released", func() []update { return tr.record("s", true) }, []got{{"A", false}, {"B", false}, {"C", false}}},
		{"B leaves FAULT: nothing more", func() []update { return tr.transition(tn("B", vrrp.StateBackup, vrrp.CauseTrackUp)) }, nil},
		{"D is not in the group", func() []update { return tr.transition(tn("D", vrrp.StateFault, vrrp.CauseInterfaceDown)) }, nil},
	}
	for i, s := range steps {
		if diff := cmp.Diff(s.want, apply(s.us())); diff != "" {
			t.Fatalf("step %d (%s): updates (-want +got):\n%s", i, s.name, diff)
		}
	}
}

func TestGroupNotifyPrograms(t *testing.T) {
	cfg := &config.Config{
		VRRP: []config.VRRPInstance{{Name: "A"}, {Name: "B"}, {Name: "C"}},
		SyncGroups: []config.SyncGroup{{Name: "G", Instances: []string{"A", "B"},
			Notify: config.Command{"/n", "x"}, NotifyMaster: config.Command{"/m"}, NotifyFault: config.Command{"/f"}}},
	}
	gs := newGroupStates(cfg)
	steps := []struct {
		instance string
		to       vrrp.State
		want     [][]string
	}{
		{"A", vrrp.StateBackup, nil}, // the group starts BACKUP
		{"A", vrrp.StateMaster, [][]string{{"/m"}, {"/n", "x", "GROUP", "G", "MASTER", "0"}}},
		{"B", vrrp.StateMaster, nil},
		{"C", vrrp.StateFault, nil}, // in no group
		{"B", vrrp.StateFault, [][]string{{"/f"}, {"/n", "x", "GROUP", "G", "FAULT", "0"}}},
		{"A", vrrp.StateFault, nil},
		{"A", vrrp.StateBackup, [][]string{{"/n", "x", "GROUP", "G", "BACKUP", "0"}}},
		{"A", vrrp.StateStopped, [][]string{{"/n", "x", "GROUP", "G", "STOP", "0"}}},
	}
	for i, s := range steps {
		got := gs.transition(vrrp.Transition{Instance: s.instance, To: s.to}, nil)
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("step %d (%s to %s): programs (-want +got):\n%s", i, s.instance, s.to, diff)
		}
	}
}

func TestTrackingWeightedInterfaces(t *testing.T) {
	cfg := &config.Config{VRRP: []config.VRRPInstance{
		{Name: "A", Interface: "eth1", Priority: 100, Track: []config.TrackInterface{
			{Name: "eth0", Weight: -30}, {Name: "eth2", Weight: 20, Reverse: true}, {Name: "eth3"},
		}},
		{Name: "B", Interface: "eth1", Priority: 100, Track: []config.TrackInterface{{Name: "eth0", Reverse: true}}},
	}}
	tr := newTracking(cfg)
	if diff := cmp.Diff([]string{"eth0", "eth2"}, tr.linkNames()); diff != "" {
		t.Errorf("interfaces followed (-want +got):\n%s", diff)
	}
	tr.links["eth0"], tr.links["eth2"] = true, false
	type got struct {
		Instance string
		Priority uint8
		Fault    bool
	}
	collect := func(us []update) []got {
		var out []got
		for _, u := range us {
			out = append(out, got{u.in.name, u.priority, u.fault})
			u.in.lastPrio, u.in.lastFault, u.in.sent = u.priority, u.fault, true
		}
		return out
	}
	// eth0 up: nothing for A; weight 0 reverse: B in FAULT while it is up.
	if diff := cmp.Diff([]got{{"A", 100, false}, {"B", 100, true}}, collect(tr.changes())); diff != "" {
		t.Errorf("start (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]got{{"A", 70, false}, {"B", 100, false}}, collect(tr.link("eth0", false))); diff != "" {
		t.Errorf("eth0 down (-want +got):\n%s", diff)
	}
	// weight 20 reverse: 20 less while up.
	if diff := cmp.Diff([]got{{"A", 50, false}}, collect(tr.link("eth2", true))); diff != "" {
		t.Errorf("eth2 up (-want +got):\n%s", diff)
	}
}

// After a reload the routers run the configured priorities again: the
// tracking gives every instance its effective one, from the new base.
func TestTrackingRebase(t *testing.T) {
	cfg := &config.Config{
		VRRPScripts: []config.VRRPScript{{Name: "s", Rise: 1, Fall: 1}},
		VRRP:        []config.VRRPInstance{{Name: "A", Interface: "eth1", Priority: 100, TrackScripts: []config.TrackScript{{Name: "s", Weight: -30}}}},
	}
	tr := newTracking(cfg)
	for _, u := range tr.record("s", false) {
		u.in.lastPrio, u.in.lastFault, u.in.sent = u.priority, u.fault, true
	}
	next := *cfg
	next.VRRP = []config.VRRPInstance{cfg.VRRP[0]}
	next.VRRP[0].Priority = 120
	us := tr.rebase(&next)
	if len(us) != 1 || us[0].priority != 90 || us[0].fault {
		t.Errorf("after reload: %+v, want A at 90", us)
	}
}
