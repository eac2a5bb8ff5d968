package vrrp

import (
	"testing"
	"time"
)

func TestTrackDelta(t *testing.T) {
	tests := []struct {
		name      string
		weight    int
		reverse   bool
		up        bool
		delta     int
		wantFault bool
	}{
		{"positive weight, up: added", 10, false, true, 10, false},
		{"positive weight, down: nothing", 10, false, false, 0, false},
		{"negative weight, up: nothing", -20, false, true, 0, false},
		{"negative weight, down: added", -20, false, false, -20, false},
		{"positive reverse, up: subtracted", 10, true, true, -10, false},
		{"positive reverse, down: nothing", 10, true, false, 0, false},
		{"negative reverse, up: nothing", -20, true, true, 0, false},
		{"negative reverse, down: added as positive", -20, true, false, 20, false},
		{"weight 0, up: fine", 0, false, true, 0, false},
		{"weight 0, down: FAULT", 0, false, false, 0, true},
		{"weight 0 reverse, up: FAULT", 0, true, true, 0, true},
		{"weight 0 reverse, down: fine", 0, true, false, 0, false},
	}
	for _, tt := range tests {
		d, f := TrackDelta(tt.weight, tt.reverse, tt.up)
		if d != tt.delta || f != tt.wantFault {
			t.Errorf("%s: TrackDelta(%d, %v, %v) = %d, %v; want %d, %v", tt.name, tt.weight, tt.reverse, tt.up, d, f, tt.delta, tt.wantFault)
		}
	}
	// Up minus down is the weight's size, signed by reverse, whatever
	// the weight's sign: keepalived's transitions add and remove
	// abs(weight) * multiplier.
	for _, w := range []int{-253, -1, 1, 253} {
		for _, rev := range []bool{false, true} {
			up, _ := TrackDelta(w, rev, true)
			down, _ := TrackDelta(w, rev, false)
			want := max(w, -w)
			if rev {
				want = -want
			}
			if up-down != want {
				t.Errorf("weight %d reverse %v: up %d - down %d != %d", w, rev, up, down, want)
			}
		}
	}
}

func TestEffectivePriority(t *testing.T) {
	tests := []struct {
		base  uint8
		delta int
		want  uint8
	}{
		{100, 0, 100},
		{100, 50, 150},
		{100, -30, 70},
		{100, -99, 1},
		{100, -100, 1}, // never 0: that is a resignation
		{100, -500, 1},
		{100, 154, 254},
		{100, 155, 254}, // never 255: that is the address owner
		{200, 253, 254},
		{255, -100, 255}, // the owner is not changed
		{255, 10, 255},
		{1, -1, 1},
	}
	for _, tt := range tests {
		if got := EffectivePriority(tt.base, tt.delta); got != tt.want {
			t.Errorf("EffectivePriority(%d, %d) = %d, want %d", tt.base, tt.delta, got, tt.want)
		}
	}
}

func trackEv(d time.Duration, prio uint8, fault bool) Event {
	return Event{Kind: EventTrack, Now: at(d), Priority: prio, Fault: fault}
}

func TestMachineTracking(t *testing.T) {
	mdi := func(prio uint8) time.Duration { return MasterDownInterval(time.Second, prio) }
	owner := baseConfig()
	owner.Priority = 255
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"a failing weight-0 script takes a MASTER to FAULT and its recovery back through BACKUP", baseConfig(), []step{
			{ev: start(0), want: []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, deadline: mdi100, state: StateBackup},
			{ev: tick(mdi100), want: []Action{advert(100), add, garp5, trans(mdi100, 100, StateBackup, StateMaster, Cause{Kind: CauseMasterDown})}, deadline: mdi100 + time.Second, state: StateMaster},
			{ev: trackEv(4*time.Second, 0, true), want: []Action{advert(0), remove, trans(4*time.Second, 100, StateMaster, StateFault, Cause{Kind: CauseTrackFault})}, deadline: none, state: StateFault},
			{ev: trackEv(5*time.Second, 0, true), deadline: none, state: StateFault},
			{ev: trackEv(6*time.Second, 0, false), want: []Action{remove, trans(6*time.Second, 100, StateFault, StateBackup, Cause{Kind: CauseTrackUp})}, deadline: 6*time.Second + mdi100, state: StateBackup},
		}},
		{"tracking FAULT holds at start; a lower priority is advertised by the MASTER", baseConfig(), []step{
			{ev: trackEv(0, 0, true), state: StateInit, deadline: none},
			{ev: start(0), want: []Action{remove, trans(0, 100, StateInit, StateFault, Cause{Kind: CauseTrackFault})}, deadline: none, state: StateFault},
			{ev: trackEv(time.Second, 60, false), want: []Action{remove, trans(time.Second, 60, StateFault, StateBackup, Cause{Kind: CauseTrackUp})}, deadline: time.Second + mdi(60), state: StateBackup},
			{ev: tick(time.Second + mdi(60)), want: []Action{advert(60), add, garp5, trans(time.Second+mdi(60), 60, StateBackup, StateMaster, Cause{Kind: CauseMasterDown})}, deadline: 2*time.Second + mdi(60), state: StateMaster},
			{ev: tick(2*time.Second + mdi(60)), want: []Action{advert(60)}, deadline: 3*time.Second + mdi(60), state: StateMaster},
		}},
		{"a BACKUP whose priority rises past the MASTER's preempts it", baseConfig(), []step{
			{ev: start(0), want: []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, deadline: mdi100, state: StateBackup},
			{ev: pkt(t, time.Second, higher, 120), deadline: time.Second + mdi100, state: StateBackup},
			// The Master_Down timer moves by the change of skew time.
			{ev: trackEv(2*time.Second, 150, false), deadline: time.Second + mdi(150), state: StateBackup},
			// Adverts of priority 120 are now lower: ignored, so the timer runs out.
			{ev: pkt(t, 2*time.Second, higher, 120), deadline: time.Second + mdi(150), state: StateBackup},
			{ev: tick(time.Second + mdi(150)), want: []Action{advert(150), add, garp5, trans(time.Second+mdi(150), 150, StateBackup, StateMaster, Cause{Kind: CausePreempt, Priority: 120, From: higher})}, deadline: 2*time.Second + mdi(150), state: StateMaster},
		}},
		{"a MASTER whose priority falls advertises it next and takes a higher one as higher", baseConfig(), []step{
			{ev: start(0), want: []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, deadline: mdi100, state: StateBackup},
			{ev: tick(mdi100), want: []Action{advert(100), add, garp5, trans(mdi100, 100, StateBackup, StateMaster, Cause{Kind: CauseMasterDown})}, deadline: mdi100 + time.Second, state: StateMaster},
			{ev: trackEv(4*time.Second, 80, false), deadline: mdi100 + time.Second, state: StateMaster},
			{ev: tick(mdi100 + time.Second), want: []Action{advert(80)}, deadline: mdi100 + 2*time.Second, state: StateMaster},
		}},
		{"the address owner keeps 255", owner, []step{
			{ev: start(0), want: []Action{advert(255), add, garp5, trans(0, 255, StateInit, StateMaster, Cause{Kind: CauseOwner})}, deadline: time.Second, state: StateMaster},
			{ev: trackEv(time.Second/2, 200, false), deadline: time.Second, state: StateMaster},
			{ev: tick(time.Second), want: []Action{advert(255)}, deadline: 2 * time.Second, state: StateMaster},
		}},
		{"a link coming back does not end a tracking FAULT", func() Config { c := baseConfig(); c.TrackInterfaces = []string{"eth0"}; return c }(), []step{
			{ev: start(0), want: []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, deadline: mdi100, state: StateBackup},
			{ev: link(time.Second, "eth0", false), want: []Action{remove, trans(time.Second, 100, StateBackup, StateFault, Cause{Kind: CauseInterfaceDown, Interface: "eth0"})}, deadline: none, state: StateFault},
			{ev: trackEv(2*time.Second, 0, true), deadline: none, state: StateFault},
			{ev: link(3*time.Second, "eth0", true), deadline: none, state: StateFault},
			{ev: trackEv(4*time.Second, 0, false), want: []Action{remove, trans(4*time.Second, 100, StateFault, StateBackup, Cause{Kind: CauseTrackUp})}, deadline: 4*time.Second + mdi100, state: StateBackup},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.cfg, tt.steps) })
	}
}
