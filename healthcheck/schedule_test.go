package healthcheck

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// step is one attempt fed to a tracker: it starts when due, takes took, and
// the tracker must then have emitted events and scheduled the next attempt.
type step struct {
	up      bool
	took    time.Duration
	events  []EventKind
	nextDue time.Duration // from t0
}

func runSteps(t *testing.T, target Target, steps []step) {
	t.Helper()
	tr, _ := newTracker(target, t0, 0)
	for i, s := range steps {
		now := tr.due
		tr.start(now)
		now = now.Add(s.took)
		res := Result{Up: s.up, Reason: "r"}
		var kinds []EventKind
		for _, ev := range tr.finish(now, res, s.took, nil) {
			kinds = append(kinds, ev.Kind)
		}
		if diff := cmp.Diff(s.events, kinds); diff != "" {
			t.Errorf("step %d (up=%v): events (-want +got):\n%s", i, s.up, diff)
		}
		if got := tr.due.Sub(t0); got != s.nextDue {
			t.Errorf("step %d (up=%v): next due at %v, want %v", i, s.up, got, s.nextDue)
		}
	}
}

func TestTrackerRiseFall(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name   string
		target Target
		steps  []step
	}{
		{"fall 1 rise 1", Target{Interval: 10 * s}, []step{
			{up: true, nextDue: 10 * s},
			{up: false, events: []EventKind{EventDown}, nextDue: 20 * s},
			{up: false, nextDue: 30 * s},
			{up: true, events: []EventKind{EventUp}, nextDue: 40 * s},
		}},
		{"fall 3 needs three failed rounds in a row", Target{Interval: 10 * s, Fall: 3, Rise: 2}, []step{
			{up: false, nextDue: 10 * s},
			{up: false, nextDue: 20 * s},
			{up: true, nextDue: 30 * s}, // resets the streak
			{up: false, nextDue: 40 * s},
			{up: false, nextDue: 50 * s},
			{up: false, events: []EventKind{EventDown}, nextDue: 60 * s},
			{up: true, nextDue: 70 * s},
			{up: false, nextDue: 80 * s}, // resets the rise streak
			{up: true, nextDue: 90 * s},
			{up: true, events: []EventKind{EventUp}, nextDue: 100 * s},
		}},
		{"flapping never reaches rise 2 or fall 2", Target{Interval: s, Fall: 2, Rise: 2}, []step{
			{up: false, nextDue: 1 * s},
			{up: true, nextDue: 2 * s},
			{up: false, nextDue: 3 * s},
			{up: true, nextDue: 4 * s},
			{up: false, nextDue: 5 * s},
			{up: false, events: []EventKind{EventDown}, nextDue: 6 * s},
			{up: true, nextDue: 7 * s},
			{up: false, nextDue: 8 * s},
			{up: true, nextDue: 9 * s},
		}},
		{"initially down rises", Target{Interval: 10 * s, InitialDown: true, Rise: 2}, []step{
			{up: true, nextDue: 10 * s},
			{up: true, events: []EventKind{EventUp}, nextDue: 20 * s},
		}},
		{"retries with delay before a round fails", Target{Interval: 10 * s, Retries: 2, RetryDelay: 2 * s}, []step{
			{up: false, took: s, nextDue: 3 * s},                         // attempt 1 fails at 1s, retry at 3s
			{up: false, took: s, nextDue: 6 * s},                         // attempt 2 fails at 4s, retry at 6s
			{up: true, took: s, nextDue: 10 * s},                         // attempt 3 succeeds: round ok, phase kept
			{up: false, nextDue: 12 * s},                                 // round at 10s: retry at 12s
			{up: false, nextDue: 14 * s},                                 // retry at 14s
			{up: false, events: []EventKind{EventDown}, nextDue: 20 * s}, // third failure: round failed
		}},
		{"slow round skips missed slots and keeps phase", Target{Interval: 2 * s}, []step{
			{up: true, took: 5 * s, nextDue: 6 * s},
			{up: true, nextDue: 8 * s},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.target.Name, tt.target.Checker = "x", CheckerFunc(nil)
			runSteps(t, tt.target, tt.steps)
		})
	}
}

func TestTrackerDynamicWeight(t *testing.T) {
	tr, initial := newTracker(Target{Name: "dns1", Interval: time.Second, Checker: CheckerFunc(nil)}, t0, 0)
	if diff := cmp.Diff(Event{Target: "dns1", Kind: EventUp, Up: true, Initial: true, Reason: "initial state", Time: t0}, initial); diff != "" {
		t.Errorf("initial event (-want +got):\n%s", diff)
	}
	results := []Result{
		{Up: true, Reason: "exit status 0"},                               // no weight: nothing
		{Up: true, Reason: "exit status 7", Weight: 5, HasWeight: true},   // weight 5
		{Up: true, Reason: "exit status 7", Weight: 5, HasWeight: true},   // same: nothing
		{Up: false, Reason: "exit status 1"},                              // down
		{Up: true, Reason: "exit status 12", Weight: 10, HasWeight: true}, // up with weight 10
	}
	var got []string
	for _, r := range results {
		tr.start(tr.due)
		for _, ev := range tr.finish(tr.due, r, 0, nil) {
			got = append(got, ev.String())
		}
	}
	want := []string{
		"dns1 weight weight=5: exit status 7",
		"dns1 down: exit status 1",
		"dns1 up weight=10: exit status 12",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestTrackerWatchdog(t *testing.T) {
	target := Target{Name: "w", Checker: CheckerFunc(nil), Interval: time.Second, Timeout: time.Second}
	tr, _ := newTracker(target, t0, 0)
	// StallAfter defaults to 2*1s + 1*1s = 3s.
	tr.start(t0)
	if evs := tr.watch(at(2*time.Second), nil); len(evs) != 0 {
		t.Fatalf("stalled too early: %v", evs)
	}
	if !tr.overdue(at(2500*time.Millisecond), time.Second) {
		t.Error("attempt running 2.5s with a 1s timeout is not overdue after 1s of grace")
	}
	evs := tr.watch(at(3*time.Second), nil)
	if len(evs) != 1 || evs[0].Kind != EventStalled || !strings.Contains(evs[0].Reason, "ignores its timeout") {
		t.Fatalf("watch at 3s = %v, want one stalled event blaming the checker", evs)
	}
	if evs := tr.watch(at(4*time.Second), nil); len(evs) != 0 {
		t.Errorf("stalled reported twice: %v", evs)
	}
	evs = tr.finish(at(5*time.Second), Result{Up: false, Reason: "late"}, 5*time.Second, nil)
	var kinds []EventKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	if diff := cmp.Diff([]EventKind{EventResumed, EventDown}, kinds); diff != "" {
		t.Errorf("events after the late result (-want +got):\n%s", diff)
	}
}

func TestTargetValidate(t *testing.T) {
	ok := Target{Name: "a", Checker: CheckerFunc(nil)}
	tests := []struct {
		mod  func(*Target)
		want string
	}{
		{func(t *Target) { t.Name = "" }, "name is empty"},
		{func(t *Target) { t.Checker = nil }, `"a": checker is nil`},
		{func(t *Target) { t.Interval = -1 }, "interval -1ns is negative"},
		{func(t *Target) { t.Retries = -2 }, "retries -2 is negative"},
		{func(t *Target) { t.Fall = -1 }, "fall -1 is negative"},
	}
	for _, tt := range tests {
		target := ok
		tt.mod(&target)
		if err := target.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid target: %v", err)
	}
}

func TestTrackerSkipsMissedSlotsArithmetically(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{took: 0, want: 2 * s},
		{took: 2 * s, want: 2 * s}, // exactly on the next slot: run it now
		{took: 2*s + 1, want: 4 * s},
		{took: 5 * s, want: 6 * s},
		{took: 1000*time.Hour + s, want: 1000*time.Hour + 2*s},
	} {
		runSteps(t, Target{Name: "x", Checker: CheckerFunc(nil), Interval: 2 * s}, []step{{up: true, took: tc.took, nextDue: tc.want}})
	}
}
