package healthcheck

import (
	"fmt"
	"time"
)

// Defaults of a Target's zero fields.
const (
	DefaultInterval = 5 * time.Second
)

// Target is one health-checked thing in a Monitor: a checker plus its
// schedule. The zero values of the optional fields are the defaults.
type Target struct {
	// Name identifies the target in events; it must be unique in a Monitor.
	Name string
	// Checker runs one attempt.
	Checker Checker
	// Interval is the time between rounds (keepalived's delay_loop); zero
	// means DefaultInterval. Rounds keep their phase: a round that runs
	// late does not shift the ones after it.
	Interval time.Duration
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is how many more attempts a failed round makes before it
	// counts as failed (keepalived's retry / nb_get_retry).
	Retries int
	// RetryDelay is the pause before each retry (delay_before_retry).
	RetryDelay time.Duration
	// Rise is how many consecutive successful rounds bring a down target
	// up; Fall how many failed rounds bring an up target down. Zero means 1.
	Rise, Fall int
	// InitialDown starts the target down (keepalived's alpha); by default
	// it starts up.
	InitialDown bool
	// StallAfter is how long the target may go without any attempt
	// completing before the watchdog reports it stalled; zero means
	// 2*Interval + (Retries+1)*Timeout + Retries*RetryDelay.
	StallAfter time.Duration
}

// Validate reports the first invalid field of t.
func (t Target) Validate() error {
	switch {
	case t.Name == "":
		return fmt.Errorf("healthcheck: target name is empty")
	case t.Checker == nil:
		return fmt.Errorf("healthcheck: target %q: checker is nil", t.Name)
	case t.Interval < 0:
		return fmt.Errorf("healthcheck: target %q: interval %v is negative", t.Name, t.Interval)
	case t.Timeout < 0:
		return fmt.Errorf("healthcheck: target %q: timeout %v is negative", t.Name, t.Timeout)
	case t.Retries < 0:
		return fmt.Errorf("healthcheck: target %q: retries %d is negative", t.Name, t.Retries)
	case t.RetryDelay < 0:
		return fmt.Errorf("healthcheck: target %q: retry delay %v is negative", t.Name, t.RetryDelay)
	case t.Rise < 0:
		return fmt.Errorf("healthcheck: target %q: rise %d is negative", t.Name, t.Rise)
	case t.Fall < 0:
		return fmt.Errorf("healthcheck: target %q: fall %d is negative", t.Name, t.Fall)
	case t.StallAfter < 0:
		return fmt.Errorf("healthcheck: target %q: stall-after %v is negative", t.Name, t.StallAfter)
	}
	return nil
}

func (t Target) withDefaults() Target {
	if t.Interval == 0 {
		t.Interval = DefaultInterval
	}
	if t.Timeout == 0 {
		t.Timeout = DefaultTimeout
	}
	t.Rise = max(t.Rise, 1)
	t.Fall = max(t.Fall, 1)
	if t.StallAfter == 0 {
		t.StallAfter = 2*t.Interval + time.Duration(t.Retries+1)*t.Timeout + time.Duration(t.Retries)*t.RetryDelay
	}
	return t
}

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventUp: the target is up (a transition, or its initial state).
	EventUp EventKind = iota + 1
	// EventDown: the target is down (a transition, or its initial state).
	EventDown
	// EventWeight: an up target's check asked for a new weight.
	EventWeight
	// EventStalled: no attempt of the target completed for StallAfter.
	EventStalled
	// EventResumed: a stalled target completed an attempt again.
	EventResumed
)

func (k EventKind) String() string {
	switch k {
	case EventUp:
		return "up"
	case EventDown:
		return "down"
	case EventWeight:
		return "weight"
	case EventStalled:
		return "stalled"
	case EventResumed:
		return "resumed"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is a change of a target, delivered in order by Monitor.Events.
type Event struct {
	Target string
	Kind   EventKind
	// Up is the target's state after the event.
	Up bool
	// Weight is the weight asked for by the last check, when HasWeight.
	Weight    int
	HasWeight bool
	// Initial marks the event that reports a target's initial state.
	Initial bool
	// Reason is the deciding check's reason (or the watchdog's).
	Reason string
	// Latency is how long the deciding attempt took.
	Latency time.Duration
	// Time is when the monitor decided.
	Time time.Time
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Target, e.Kind)
	if e.HasWeight {
		s += fmt.Sprintf(" weight=%d", e.Weight)
	}
	if e.Initial {
		s += " (initial)"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// tracker is the pure per-target state: it decides transitions and when the
// next attempt is due from the results it is given and the time it is told.
// It has no clock, goroutines or I/O.
type tracker struct {
	t Target // with defaults

	up        bool
	weight    int
	hasWeight bool
	streak    int // consecutive rounds that disagree with up
	failed    int // failed attempts in the current round

	round    time.Time // when the current round was due
	due      time.Time // when the next attempt is due
	running  bool
	started  time.Time
	progress time.Time // last completed attempt, or when added
	stalled  bool

	heapIndex int
	removed   bool
	// suspended: the rounds come and go without an attempt (Suspend).
	suspended bool
	released  bool // the monitor gave up the attempt's concurrency slot
	// The attempt in flight, owned by the monitor: its context, and its
	// place in the monitor's deadline heap (-1: none).
	attempt *attemptCtx
	dlIndex int
}

// newTracker returns the state of a target added at now whose first round
// is due after offset, and the event announcing its initial state.
func newTracker(t Target, now time.Time, offset time.Duration) (*tracker, Event) {
	tr := &tracker{t: t.withDefaults(), up: !t.InitialDown, progress: now, heapIndex: -1, dlIndex: -1}
	tr.due = now.Add(offset)
	tr.round = tr.due
	ev := Event{Target: t.Name, Kind: EventDown, Initial: true, Reason: "initial state", Time: now}
	if tr.up {
		ev.Kind, ev.Up = EventUp, true
	}
	return tr, ev
}

// start records that the attempt due now is starting; it returns the
// attempt number within the round, from 1.
func (tr *tracker) start(now time.Time) int {
	if tr.failed == 0 {
		tr.round = tr.due
	}
	tr.running, tr.started, tr.released = true, now, false
	return tr.failed + 1
}

// finish applies the result of the running attempt, which completed at now
// after latency, schedules the next attempt and appends any events.
func (tr *tracker) finish(now time.Time, res Result, latency time.Duration, events []Event) []Event {
	tr.running = false
	tr.progress = now
	if tr.stalled {
		tr.stalled = false
		events = append(events, Event{Target: tr.t.Name, Kind: EventResumed, Up: tr.up, Reason: res.Reason, Latency: latency, Time: now})
	}
	if !res.Up && tr.failed < tr.t.Retries {
		tr.failed++
		tr.due = now.Add(tr.t.RetryDelay)
		return events
	}
	tr.failed = 0
	tr.due = tr.round.Add(tr.t.Interval)
	if late := now.Sub(tr.due); late > 0 {
		// Skip the slots missed, to the first one not before now.
		tr.due = tr.due.Add((late + tr.t.Interval - 1) / tr.t.Interval * tr.t.Interval)
	}

	ev := Event{Target: tr.t.Name, Reason: res.Reason, Latency: latency, Time: now}
	if res.Up == tr.up {
		tr.streak = 0
		if res.Up && res.HasWeight && (!tr.hasWeight || res.Weight != tr.weight) {
			tr.weight, tr.hasWeight = res.Weight, true
			ev.Kind, ev.Up, ev.Weight, ev.HasWeight = EventWeight, true, res.Weight, true
			events = append(events, ev)
		}
		return events
	}
	tr.streak++
	need := tr.t.Fall
	if !tr.up {
		need = tr.t.Rise
	}
	if tr.streak < need {
		return events
	}
	tr.streak = 0
	tr.up = res.Up
	ev.Up = res.Up
	ev.Kind = EventDown
	if res.Up {
		ev.Kind = EventUp
		if res.HasWeight {
			tr.weight, tr.hasWeight = res.Weight, true
		}
		ev.Weight, ev.HasWeight = tr.weight, tr.hasWeight
	}
	return append(events, ev)
}

// skip passes over the round due at or before now of a suspended target:
// the next is due an interval after it, and the target counts as making
// progress, so that the watchdog does not call it stalled.
func (tr *tracker) skip(now time.Time) {
	tr.failed, tr.streak = 0, 0
	tr.round = tr.due
	tr.due = tr.round.Add(tr.t.Interval)
	if late := now.Sub(tr.due); late >= 0 {
		tr.due = tr.due.Add((late/tr.t.Interval + 1) * tr.t.Interval)
	}
	tr.progress = now
}

// overdue reports whether the running attempt has outlived its timeout by
// grace, i.e. its checker does not honour its context.
func (tr *tracker) overdue(now time.Time, grace time.Duration) bool {
	return tr.running && now.Sub(tr.started) > tr.t.Timeout+grace
}

// stallAt returns when the target stalls if no attempt completes before,
// and false if it has stalled already. Completions only move it later.
func (tr *tracker) stallAt() (time.Time, bool) {
	if tr.stalled {
		return time.Time{}, false
	}
	return tr.progress.Add(tr.t.StallAfter), true
}

// watch appends a stalled event when no attempt completed for StallAfter.
func (tr *tracker) watch(now time.Time, events []Event) []Event {
	if tr.stalled || now.Sub(tr.progress) < tr.t.StallAfter {
		return events
	}
	tr.stalled = true
	reason := fmt.Sprintf("no check completed for %v: ", now.Sub(tr.progress).Round(time.Millisecond))
	if tr.running {
		reason += fmt.Sprintf("an attempt has been running for %v (checker ignores its timeout)", now.Sub(tr.started).Round(time.Millisecond))
	} else {
		reason += fmt.Sprintf("next attempt was due %v ago (concurrency limit reached)", now.Sub(tr.due).Round(time.Millisecond))
	}
	return append(events, Event{Target: tr.t.Name, Kind: EventStalled, Up: tr.up, Reason: reason, Time: now})
}
