package healthcheck

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// DefaultConcurrency is the number of attempts a Monitor runs at once when
// Config.Concurrency is zero. An attempt in flight costs a goroutine (a few
// KB); when every target times out at once (a network partition), a
// Monitor completes at most Concurrency/Timeout attempts a second.
const DefaultConcurrency = 2048

// Timing of the monitor's own housekeeping.
const (
	// watchEvery is how often the watchdog looks at every target while
	// the concurrency limit is reached, to free the slots of attempts that
	// overstay. Otherwise it looks only when a target may have stalled.
	watchEvery = time.Second
	// hangGrace is how long past its timeout an attempt may run before the
	// monitor frees its concurrency slot.
	hangGrace = time.Second
	// stopWait bounds how long Run waits for canceled attempts to return.
	stopWait = 5 * time.Second
)

// ErrUnknownTarget is returned by Remove for a name the Monitor does not have.
var ErrUnknownTarget = errors.New("healthcheck: unknown target")

// Config configures a Monitor; a nil *Config means all defaults.
type Config struct {
	// Concurrency bounds the attempts in flight; zero means
	// DefaultConcurrency. Attempts that are due wait for a free slot.
	Concurrency int
	// NoSpread starts every target's first round at once. By default the
	// first round of each target is delayed by a random offset within its
	// interval, so that thousands of targets spread out.
	NoSpread bool
	// Rounds has the targets that share an interval share their schedule
	// too: the first one added picks the offset (random unless NoSpread),
	// and the others, added then or later, begin their rounds on its, so
	// that one wake of the process starts them all. Attempts beyond
	// Concurrency wait their turn. For a daemon with a few targets, which
	// would otherwise wake once per target and interval.
	Rounds bool
	// Observe, if set, is called by the monitor's goroutine after every
	// attempt (for metrics). It must not block.
	Observe func(Observation)
}

// Observation describes one completed attempt.
type Observation struct {
	Target string
	// Attempt is 1 for the first attempt of a round, 2 for its first retry...
	Attempt int
	// Scheduled is when the attempt was due, Started when it began.
	Scheduled, Started time.Time
	// Interval is the target's: its rounds begin Interval apart, the
	// first attempt of each when it is due.
	Interval time.Duration
	Latency  time.Duration
	Result   Result
}

// Monitor runs the checks of many targets on their schedules and reports
// their transitions as events. Create it with New, add targets with Add
// (before or while Run runs), read Events, and Run it.
type Monitor struct {
	cfg    Config
	events chan Event

	mu      sync.Mutex
	initial []Target // added before Run
	names   map[string]bool
	paused  map[string]bool // suspended before Run
	running bool
	ran     bool
	cmds    chan command
	done    chan struct{} // closed when Run's loop has stopped
}

type command struct {
	add     *Target
	remove  string
	suspend *suspendCmd
	reply   chan error
}

type suspendCmd struct {
	name string
	on   bool
}

// New returns a Monitor with the given targets.
func New(cfg *Config, targets ...Target) (*Monitor, error) {
	m := &Monitor{events: make(chan Event, 64), names: map[string]bool{}, cmds: make(chan command), done: make(chan struct{})}
	if cfg != nil {
		m.cfg = *cfg
	}
	if m.cfg.Concurrency < 0 {
		return nil, fmt.Errorf("healthcheck: concurrency %d is negative", m.cfg.Concurrency)
	}
	if m.cfg.Concurrency == 0 {
		m.cfg.Concurrency = DefaultConcurrency
	}
	for _, t := range targets {
		if err := m.Add(t); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Events returns the channel of events, in the order they were decided. It
// is closed when Run returns; events not yet received then are dropped.
// Each target's initial state comes first as an event with Initial set.
func (m *Monitor) Events() <-chan Event { return m.events }

// Add adds a target. It returns an error if the target is invalid or its
// name is already used.
func (m *Monitor) Add(t Target) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ran && !m.running {
		return errStopped
	}
	if !m.running {
		if m.names[t.Name] {
			return fmt.Errorf("healthcheck: target %q already exists", t.Name)
		}
		m.names[t.Name] = true
		m.initial = append(m.initial, t)
		return nil
	}
	return m.send(command{add: &t})
}

// Remove stops checking the named target; an attempt in flight is canceled.
// It returns ErrUnknownTarget (wrapped) if there is no such target.
func (m *Monitor) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ran && !m.running {
		return errStopped
	}
	if !m.running {
		if !m.names[name] {
			return fmt.Errorf("%w %q", ErrUnknownTarget, name)
		}
		delete(m.names, name)
		for i, t := range m.initial {
			if t.Name == name {
				m.initial = append(m.initial[:i], m.initial[i+1:]...)
				break
			}
		}
		return nil
	}
	return m.send(command{remove: name})
}

// Suspend suspends (on) or resumes the checks of the named target, as
// keepalived's ha_suspend does while a virtual server's address is not on
// the node: a suspended target keeps its state and schedule but runs no
// attempt (an attempt in flight completes) and sends no event. It returns
// ErrUnknownTarget (wrapped) if there is no such target.
func (m *Monitor) Suspend(name string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ran && !m.running {
		return errStopped
	}
	if !m.running {
		if !m.names[name] {
			return fmt.Errorf("%w %q", ErrUnknownTarget, name)
		}
		if m.paused == nil {
			m.paused = map[string]bool{}
		}
		m.paused[name] = on
		return nil
	}
	return m.send(command{suspend: &suspendCmd{name, on}})
}

var errStopped = errors.New("healthcheck: monitor stopped")

// send hands c to the running loop, or fails once the loop has stopped.
func (m *Monitor) send(c command) error {
	c.reply = make(chan error, 1)
	select {
	case m.cmds <- c:
		return <-c.reply
	case <-m.done:
		return errStopped
	}
}

// Run checks the targets until ctx is done, then cancels the attempts in
// flight, waits briefly for them and returns nil. A Monitor runs once.
func (m *Monitor) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.ran {
		m.mu.Unlock()
		return errors.New("healthcheck: Monitor.Run called twice")
	}
	m.ran, m.running = true, true
	initial, paused := m.initial, m.paused
	m.initial, m.names, m.paused = nil, nil, nil
	m.mu.Unlock()

	l := &loop{
		m:       m,
		trs:     map[string]*tracker{},
		results: make(chan attempt, m.cfg.Concurrency),
		stopped: make(chan struct{}),
	}
	l.ctx, l.cancel = context.WithCancel(ctx)
	defer l.cancel()
	now := time.Now()
	for _, t := range initial {
		l.add(t, now)
		l.trs[t.Name].suspended = paused[t.Name]
	}
	l.run()

	close(m.done) // a blocked Add or Remove returns errStopped
	m.mu.Lock()
	m.running = false
	m.mu.Unlock()
	close(l.stopped)
	close(m.events)
	return nil
}

// roundOffset returns how long after now the next round of an interval
// whose rounds begin on at falls (zero if one begins at now).
func roundOffset(now, at time.Time, interval time.Duration) time.Duration {
	d := at.Sub(now) % interval
	if d < 0 {
		d += interval
	}
	return d
}

// attempt is a finished attempt on its way back to the loop.
type attempt struct {
	tr        *tracker
	scheduled time.Time
	started   time.Time
	n         int
	latency   time.Duration
	res       Result
}

// loop is the state of a running Monitor, owned by Run's goroutine.
type loop struct {
	m        *Monitor
	ctx      context.Context
	cancel   context.CancelFunc
	trs      map[string]*tracker
	queue    trackerHeap[byDue]
	inflight int
	// rounds holds, with Config.Rounds, an instant on which the rounds of
	// each interval's targets begin.
	rounds map[time.Duration]time.Time
	// deadlines holds the attempts in flight by deadline; the loop ends
	// each one's context when its deadline passes.
	deadlines trackerHeap[byDeadline]
	// nextWatch is when the watchdog looks next; never later than the
	// first time a target can stall.
	nextWatch time.Time
	pending   []Event
	results   chan attempt
	stopped   chan struct{}
}

func (l *loop) add(t Target, now time.Time) {
	var offset time.Duration
	iv := t.withDefaults().Interval
	if !l.m.cfg.NoSpread {
		offset = time.Duration(rand.Int64N(int64(iv)))
	}
	if l.m.cfg.Rounds {
		if at, ok := l.rounds[iv]; ok {
			offset = roundOffset(now, at, iv)
		} else {
			if l.rounds == nil {
				l.rounds = map[time.Duration]time.Time{}
			}
			l.rounds[iv] = now.Add(offset)
		}
	}
	tr, ev := newTracker(t, now, offset)
	if at, ok := tr.stallAt(); ok && (l.nextWatch.IsZero() || at.Before(l.nextWatch)) {
		l.nextWatch = at
	}
	l.trs[t.Name] = tr
	heap.Push(&l.queue, tr)
	l.pending = append(l.pending, ev)
}

func (l *loop) handle(c command, now time.Time) error {
	if s := c.suspend; s != nil {
		tr, ok := l.trs[s.name]
		if !ok {
			return fmt.Errorf("%w %q", ErrUnknownTarget, s.name)
		}
		tr.suspended = s.on
		return nil
	}
	if c.add != nil {
		if _, dup := l.trs[c.add.Name]; dup {
			return fmt.Errorf("healthcheck: target %q already exists", c.add.Name)
		}
		l.add(*c.add, now)
		return nil
	}
	tr, ok := l.trs[c.remove]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownTarget, c.remove)
	}
	delete(l.trs, c.remove)
	tr.removed = true
	l.endAttempt(tr, context.Canceled)
	if tr.heapIndex >= 0 {
		heap.Remove(&l.queue, tr.heapIndex)
	}
	return nil
}

func (l *loop) run() {
	// One timer for the schedule, the deadlines and the watchdog, reset
	// only when the next wake changes.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var armed, now time.Time
	// fresh is set when a case read the clock already: one reading per
	// turn.
	fresh := false
	limit := l.m.cfg.Concurrency
	for {
		if !fresh {
			now = time.Now()
		}
		fresh = false
		for len(l.deadlines) > 0 && !now.Before(l.deadlines[0].attempt.deadline) {
			l.endAttempt(l.deadlines[0], context.DeadlineExceeded)
		}
		for l.inflight < limit && len(l.queue) > 0 && !l.queue[0].due.After(now) {
			tr := heap.Pop(&l.queue).(*tracker)
			if tr.suspended {
				tr.skip(now)
				heap.Push(&l.queue, tr)
				continue
			}
			l.start(tr, now)
		}
		if l.inflight >= limit {
			if soon := now.Add(watchEvery); l.nextWatch.IsZero() || soon.Before(l.nextWatch) {
				l.nextWatch = soon
			}
		}
		if !l.nextWatch.IsZero() && !now.Before(l.nextWatch) {
			l.nextWatch = l.watch(now)
		}
		wake := l.nextWatch
		if l.inflight < limit && len(l.queue) > 0 && (wake.IsZero() || l.queue[0].due.Before(wake)) {
			wake = l.queue[0].due
		}
		if len(l.deadlines) > 0 && (wake.IsZero() || l.deadlines[0].attempt.deadline.Before(wake)) {
			wake = l.deadlines[0].attempt.deadline
		}
		switch {
		case wake.Equal(armed):
		case wake.IsZero():
			timer.Stop()
		default:
			timer.Reset(wake.Sub(now))
		}
		armed = wake

		var out chan<- Event
		var first Event
		if len(l.pending) > 0 {
			out, first = l.m.events, l.pending[0]
		}
		select {
		case <-l.ctx.Done():
			l.drain()
			return
		case a := <-l.results:
			now, fresh = time.Now(), true
			l.finish(a, now)
		case c := <-l.m.cmds:
			now, fresh = time.Now(), true
			c.reply <- l.handle(c, now)
		case out <- first:
			l.pending[0] = Event{}
			l.pending = l.pending[1:]
		case <-timer.C:
			armed = time.Time{}
		}
	}
}

func (l *loop) start(tr *tracker, now time.Time) {
	scheduled := tr.due
	n := tr.start(now)
	l.inflight++
	checker, timeout := tr.t.Checker, tr.t.Timeout
	ctx := newAttemptCtx(l.ctx, now.Add(timeout))
	tr.attempt = ctx
	heap.Push(&l.deadlines, tr)
	go func() {
		begin := time.Now()
		res := checker.Check(ctx)
		lat := time.Since(begin) // the monotonic clock only
		end := begin.Add(lat)
		if res.Up && (ctx.Err() != nil || !end.Before(ctx.deadline)) {
			res = Result{Reason: fmt.Sprintf("timed out after %v", timeout), Err: context.DeadlineExceeded}
		}
		select {
		case l.results <- attempt{tr: tr, scheduled: scheduled, started: begin, n: n, latency: lat, res: res}:
		case <-l.stopped:
		}
	}()
}

func (l *loop) finish(a attempt, now time.Time) {
	tr := a.tr
	if !tr.released {
		l.inflight--
	}
	l.endAttempt(tr, context.Canceled)
	if l.stopping() {
		return // the attempt was cut short by the stop, not judged
	}
	if obs := l.m.cfg.Observe; obs != nil {
		obs(Observation{Target: tr.t.Name, Attempt: a.n, Scheduled: a.scheduled, Started: a.started, Interval: tr.t.withDefaults().Interval,
			Latency: a.latency, Result: a.res})
	}
	if tr.removed {
		return
	}
	l.pending = tr.finish(now, a.res, a.latency, l.pending)
	heap.Push(&l.queue, tr)
}

// stopping reports whether Run's context is done or past its deadline (a
// deadline is seen by the checks a moment before its timer cancels ctx).
func (l *loop) stopping() bool {
	if l.ctx.Err() != nil {
		return true
	}
	dl, ok := l.ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// watch frees the slots of attempts whose checkers ignore their timeout and
// reports targets that made no progress. It returns when to look next: the
// first time a target can stall (zero for never), or sooner while the
// concurrency limit is reached.
func (l *loop) watch(now time.Time) time.Time {
	var next time.Time
	for _, tr := range l.trs {
		if !tr.released && tr.overdue(now, hangGrace) {
			tr.released = true
			l.inflight--
		}
		l.pending = tr.watch(now, l.pending)
		if at, ok := tr.stallAt(); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if soon := now.Add(watchEvery); l.inflight >= l.m.cfg.Concurrency && (next.IsZero() || soon.Before(next)) {
		next = soon
	}
	return next
}

// endAttempt ends the context of tr's attempt in flight, if any, with err
// and takes it out of the deadline heap.
func (l *loop) endAttempt(tr *tracker, err error) {
	if tr.attempt == nil {
		return
	}
	tr.attempt.end(err)
	tr.attempt = nil
	if tr.dlIndex >= 0 {
		heap.Remove(&l.deadlines, tr.dlIndex)
	}
}

// drain cancels the attempts in flight and waits for them to come back.
func (l *loop) drain() {
	for len(l.deadlines) > 0 {
		l.endAttempt(l.deadlines[0], l.ctx.Err())
	}
	if l.inflight == 0 {
		return
	}
	t := time.NewTimer(stopWait)
	defer t.Stop()
	for l.inflight > 0 {
		select {
		case a := <-l.results:
			if !a.tr.released {
				l.inflight--
			}
		case <-t.C:
			return
		}
	}
}

// trackerHeap is a heap of trackers ordered by the time its kind K picks,
// each tracker keeping its position in the field K names.
type trackerHeap[K heapKind] []*tracker

// heapKind says what a trackerHeap orders by.
type heapKind interface {
	when(*tracker) time.Time
	pos(*tracker) *int
}

// byDue orders the queue: when each target's next attempt is due.
type byDue struct{}

func (byDue) when(tr *tracker) time.Time { return tr.due }
func (byDue) pos(tr *tracker) *int       { return &tr.heapIndex }

// byDeadline orders the attempts in flight by deadline.
type byDeadline struct{}

func (byDeadline) when(tr *tracker) time.Time { return tr.attempt.deadline }
func (byDeadline) pos(tr *tracker) *int       { return &tr.dlIndex }

func (h trackerHeap[K]) Len() int { return len(h) }
func (h trackerHeap[K]) Less(i, j int) bool {
	var k K
	return k.when(h[i]).Before(k.when(h[j]))
}
func (h trackerHeap[K]) Swap(i, j int) {
	var k K
	h[i], h[j] = h[j], h[i]
	*k.pos(h[i]) = i
	*k.pos(h[j]) = j
}
func (h *trackerHeap[K]) Push(x any) {
	var k K
	tr := x.(*tracker)
	*k.pos(tr) = len(*h)
	*h = append(*h, tr)
}
func (h *trackerHeap[K]) Pop() any {
	var k K
	old := *h
	tr := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	*k.pos(tr) = -1
	return tr
}
