package vrrp

import (
	"context"
	"maps"
	"slices"
	"time"
)

// Tracking, as keepalived does it: an instance follows tracked objects
// (scripts, files, interfaces) besides its advertisement interface. Each
// has a weight. An object with weight 0 puts the instance in FAULT while it
// is down; any other weight adds to the configured priority, giving the
// effective priority that the instance advertises and compares with:
//
//   - a positive weight is added while the object is up, a negative one
//     while it is down (keepalived's track_script, track_interface,
//     track_process and track_bfd);
//   - "reverse" negates the weight and swaps up and down: a positive
//     weight is subtracted while the object is up, a negative one added
//     while it is down; an object with weight 0 and reverse puts the
//     instance in FAULT while it is up;
//   - the sum is clamped to 1-254; the address owner (priority 255) is
//     never changed.
//
// The arithmetic is in TrackDelta and EffectivePriority; Router.SetTracking
// and EventTrack carry the result into a running instance.

// TrackDelta returns what a tracked object with weight adds to its
// instance's priority, and whether it puts the instance in FAULT (weight
// 0), when its state is up.
func TrackDelta(weight int, reverse, up bool) (delta int, fault bool) {
	if weight == 0 {
		return 0, up == reverse
	}
	m := 1
	if reverse {
		m = -1
	}
	switch {
	case up && weight > 0:
		return weight * m, false
	case !up && weight < 0:
		return weight * m, false
	}
	return 0, false
}

// EffectivePriority returns the priority of an instance configured with
// base whose tracked objects add delta: base+delta clamped to 1-254, or
// 255 unchanged for the address owner.
func EffectivePriority(base uint8, delta int) uint8 {
	if base == OwnerPriority {
		return base
	}
	switch p := int(base) + delta; {
	case p < 1:
		return 1
	case p >= OwnerPriority:
		return OwnerPriority - 1
	default:
		return uint8(p)
	}
}

// track handles EventTrack. A new effective priority takes effect in what
// comes next: the next advertisement of a MASTER, the next comparison of a
// BACKUP, whose running Master_Down timer moves by the change of its skew
// time (as keepalived does). The address owner's priority is never
// changed.
func (m *Machine) track(now time.Time, prio uint8, fault bool) {
	if prio != 0 && m.cfg.Priority != OwnerPriority && prio != OwnerPriority && prio != m.cfg.Priority {
		old := m.masterDownInterval()
		m.cfg.Priority = prio
		if m.state == StateBackup && !m.masterDownAt.IsZero() {
			m.masterDownAt = m.masterDownAt.Add(m.masterDownInterval() - old)
		}
	}
	switch {
	case fault && !m.trackFault:
		m.trackFault = true
		if m.state != StateBackup && m.state != StateMaster {
			return
		}
		if m.state == StateMaster {
			m.send(0)
		}
		m.emit(Action{Kind: ActionRemoveVIPs})
		m.transition(now, StateFault, Cause{Kind: CauseTrackFault})
	case !fault && m.trackFault:
		m.trackFault = false
		if m.state == StateFault && m.firstDown() < 0 && !m.noSource {
			m.enter(now, Cause{Kind: CauseTrackUp})
		}
	}
}

type trackReq struct {
	instance string
	priority uint8
	fault    bool
	done     chan error
}

// SetTracking gives the running instance named instance a new effective
// priority (0: unchanged; see EffectivePriority) and says whether its
// tracked objects hold it in FAULT. It is safe to call from any goroutine;
// called before Run it waits for Run's loop, once that loop has ended it
// returns ErrNotRunning. An unknown instance is a *FieldError. For an
// instance named in Options.AwaitTracking, the first call gives the state
// it starts with.
//
// Router.Reconfigure sets the configured priority again: call SetTracking
// after it.
func (r *Router) SetTracking(ctx context.Context, instance string, priority uint8, fault bool) error {
	done := make(chan error, 1)
	select {
	case r.track <- trackReq{instance, priority, fault, done}:
		return <-done
	case <-r.loopDone:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setTracking runs in Run's loop.
func (r *Router) setTracking(req trackReq) error {
	for _, in := range r.insts {
		if in.cfg.Name != req.instance {
			continue
		}
		r.step(in, Event{Kind: EventTrack, Now: time.Now(), Priority: req.priority, Fault: req.fault})
		in.cfg = in.m.Config()
		return nil
	}
	return &FieldError{Field: "instance", Value: req.instance, Msg: "not running here"}
}

// AwaitTrackingLimit bounds how long Run waits for the tracked state of the
// instances named in Options.AwaitTracking before it starts them.
const AwaitTrackingLimit = 5 * time.Second

// awaitTracking runs before the instances start: it takes SetTracking
// requests until each instance named in Options.AwaitTracking has had
// one, ctx is done (it returns false: the instances are not to start) or
// AwaitTrackingLimit has passed.
func (r *Router) awaitTracking(ctx context.Context) bool {
	pending := map[string]bool{}
	for _, in := range r.insts {
		if slices.Contains(r.opts.AwaitTracking, in.cfg.Name) {
			pending[in.cfg.Name] = true
		}
	}
	if len(pending) == 0 {
		return true
	}
	limit := time.NewTimer(AwaitTrackingLimit)
	defer limit.Stop()
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-limit.C:
			r.log.Warn("vrrp: starting without the tracked state of some instances", "instances", slices.Sorted(maps.Keys(pending)))
			return true
		case req := <-r.track:
			err := r.setTracking(req)
			req.done <- err
			if err == nil {
				delete(pending, req.instance)
			}
		}
	}
	return true
}
