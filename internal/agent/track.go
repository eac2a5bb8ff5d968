package agent

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// scriptState is keepalived's result counter of one vrrp_script: result
// runs from 0 to rise+fall-1 and the script succeeds while it is at least
// rise. Before its first run the script is unknown (it counts neither
// way), and its first result counts at once: keepalived starts the
// counter at rise-1, or at 0 (failed, known) with init_fail.
type scriptState struct {
	rise, fall int
	result     int
	known      bool
}

func newScriptState(s *config.VRRPScript) scriptState {
	st := scriptState{rise: max(s.Rise, 1), fall: max(s.Fall, 1)}
	if s.InitFail {
		st.known = true
	} else {
		st.result = st.rise - 1
	}
	return st
}

func (st *scriptState) ok() bool { return st.known && st.result >= st.rise }

// record counts one run and reports whether the script's state changed
// (it became known, or went from succeeding to failing or back).
func (st *scriptState) record(success bool) bool {
	wasKnown, wasOK := st.known, st.ok()
	switch {
	case success && st.result < st.rise-1:
		st.result++
	case success:
		st.result = st.rise + st.fall - 1
	case st.result > st.rise:
		st.result--
	default:
		st.result = 0
	}
	st.known = true
	return !wasKnown || wasOK != st.ok()
}

// trackedInstance is what one VRRP instance tracks besides the interfaces
// the vrrp package follows itself.
type trackedInstance struct {
	name    string
	iface   string // its router's
	base    uint8
	scripts []config.TrackScript
	// ifaces are the interfaces tracked with a weight or reversed; the
	// vrrp package follows the others itself.
	ifaces []config.TrackInterface
	files  []config.TrackFile
	// group is the sync group the instance is in ("" for none); state
	// its last known state; faulted that it entered FAULT for a reason
	// of its own other than tracking (an interface down); hold that its
	// group holds it in FAULT because another member is in FAULT of its
	// own accord (see own).
	group         string
	state         vrrp.State
	faulted, hold bool
	// notifyPrio: a change of the effective priority is written to the
	// notify FIFOs (notify_priority_changes).
	notifyPrio bool
	// last is what was last given to the router.
	lastPrio  uint8
	lastFault bool
	sent      bool
}

// tracking is the pure part of the tracker: the scripts' states and the
// instances' effective priorities.
type tracking struct {
	scripts map[string]*scriptState
	// links holds the state of the interfaces in ifaces once known.
	links map[string]bool
	// files holds the value of each tracked file that is watched; a file
	// that cannot be (its folder missing) is not tracked, as keepalived.
	files map[string]int64
	insts []*trackedInstance
}

// fileDelta returns what a tracked file holding value adds to its
// instance's priority, and whether it puts the instance in FAULT, as
// keepalived 2.2.7 (trackers/track_file.c): with weight 0, a value other
// than 0 is FAULT (reversed: a value of 0); otherwise value times weight,
// negated by reverse, clamped to -254..253, is added, and -254 is FAULT.
func fileDelta(weight int, reverse bool, value int64) (delta int, fault bool) {
	if weight == 0 {
		return 0, (value != 0) != reverse
	}
	d := value * int64(weight)
	if reverse {
		d = -d
	}
	switch {
	case d <= -254:
		return 0, true
	case d > 253:
		d = 253
	}
	return int(d), false
}

// weightedInterfaces are the track_interface entries the agent follows:
// those with a weight or reversed.
func weightedInterfaces(in *config.VRRPInstance) []config.TrackInterface {
	var out []config.TrackInterface
	for _, t := range in.Track {
		if t.Weight != 0 || t.Reverse {
			out = append(out, t)
		}
	}
	return out
}

// newTracking returns the tracking of cfg, or nil when no instance tracks
// a script, a file or an interface with a weight, or is in a sync group.
func newTracking(cfg *config.Config) *tracking {
	tr := &tracking{scripts: map[string]*scriptState{}, links: map[string]bool{}, files: map[string]int64{}}
	used := map[string]bool{}
	groupOf := map[string]string{}
	for _, g := range cfg.SyncGroups {
		for _, name := range g.Instances {
			groupOf[name] = g.Name
		}
	}
	vmacs := vmacNames(cfg)
	for _, in := range cfg.VRRP {
		ifaces := weightedInterfaces(&in)
		if len(in.TrackScripts) == 0 && len(ifaces) == 0 && len(in.TrackFiles) == 0 && groupOf[in.Name] == "" {
			continue
		}
		tr.insts = append(tr.insts, &trackedInstance{name: in.Name, iface: routerKey(&in, vmacs), base: uint8(in.Priority), scripts: in.TrackScripts, ifaces: ifaces, files: in.TrackFiles, group: groupOf[in.Name], notifyPrio: in.NotifyPriorityChanges})
		for _, t := range in.TrackScripts {
			used[t.Name] = true
		}
	}
	if len(tr.insts) == 0 {
		return nil
	}
	for i := range cfg.VRRPScripts {
		s := &cfg.VRRPScripts[i]
		if used[s.Name] {
			st := newScriptState(s)
			tr.scripts[s.Name] = &st
		}
	}
	return tr
}

// awaitTracking names the instances of cfgs whose tracked state
// runTracking gives at its start (every instance newTracking keeps): their
// router waits for it (vrrp.Options.AwaitTracking), so that an instance
// whose tracked objects have already failed starts in FAULT, as
// keepalived's do, rather than passing through BACKUP.
func awaitTracking(cfg *config.Config, cfgs []vrrp.Config) []string {
	tr := newTracking(cfg)
	if tr == nil {
		return nil
	}
	var out []string
	for _, in := range tr.insts {
		if slices.ContainsFunc(cfgs, func(c vrrp.Config) bool { return c.Name == in.name }) {
			out = append(out, in.name)
		}
	}
	return out
}

// effective computes an instance's effective priority and whether its
// scripts or its sync group hold it in FAULT, as keepalived: unknown
// scripts count neither way.
func (tr *tracking) effective(in *trackedInstance) (uint8, bool) {
	p, fault := tr.scriptsEffective(in)
	return p, fault || in.hold
}

func (tr *tracking) scriptsEffective(in *trackedInstance) (uint8, bool) {
	delta, fault := 0, false
	for _, t := range in.scripts {
		st := tr.scripts[t.Name]
		if st == nil || !st.known {
			continue
		}
		d, f := vrrp.TrackDelta(t.Weight, t.Reverse, st.ok())
		delta += d
		fault = fault || f
	}
	for _, t := range in.ifaces {
		up, known := tr.links[t.Name]
		if !known {
			continue
		}
		d, f := vrrp.TrackDelta(t.Weight, t.Reverse, up)
		delta += d
		fault = fault || f
	}
	for _, t := range in.files {
		v, watched := tr.files[t.Name]
		if !watched {
			continue
		}
		d, f := fileDelta(t.Weight, t.Reverse, v)
		delta += d
		fault = fault || f
	}
	return vrrp.EffectivePriority(in.base, delta), fault
}

// update is a change to give a router.
type update struct {
	in       *trackedInstance
	priority uint8
	fault    bool
}

// record counts a run of script and returns the instances whose effective
// priority or FAULT hold changed.
func (tr *tracking) record(script string, success bool) []update {
	st := tr.scripts[script]
	if st == nil || !st.record(success) {
		return nil
	}
	return tr.changes()
}

// rebase takes the configured priorities of a reloaded configuration and
// returns every instance's effective state: Router.Reconfigure has given
// the routers the configured priorities again. (Changes to what the
// instances track take a restart.)
func (tr *tracking) rebase(cfg *config.Config) []update {
	for _, in := range tr.insts {
		for _, c := range cfg.VRRP {
			if c.Name == in.name {
				in.base = uint8(c.Priority)
			}
		}
		in.sent = false
	}
	return tr.changes()
}

// link records an interface's state and returns the changes it makes.
func (tr *tracking) link(name string, up bool) []update {
	tr.links[name] = up
	return tr.changes()
}

// file records a tracked file's value and returns the changes it makes.
func (tr *tracking) file(name string, value int64) []update {
	tr.files[name] = value
	return tr.changes()
}

// fileNames lists the files the instances track.
func (tr *tracking) fileNames() []string {
	var out []string
	for _, in := range tr.insts {
		for _, t := range in.files {
			if !slices.Contains(out, t.Name) {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

// linkNames lists the interfaces the instances track with a weight.
func (tr *tracking) linkNames() []string {
	var out []string
	for _, in := range tr.insts {
		for _, t := range in.ifaces {
			if !slices.Contains(out, t.Name) {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

// transition records a transition of an instance and returns the changes
// its sync group makes: while a member is in FAULT of its own accord (its
// interface down, a weight-0 script failing), the other members are held
// in FAULT; when none is any more, they are released.
func (tr *tracking) transition(t vrrp.Transition) []update {
	var in *trackedInstance
	for _, x := range tr.insts {
		if x.name == t.Instance {
			in = x
		}
	}
	if in == nil {
		return nil
	}
	in.state = t.To
	in.faulted = t.To == vrrp.StateFault && t.Cause.Kind != vrrp.CauseTrackFault
	return tr.changes()
}

// own reports whether an instance is in FAULT of its own accord: an
// interface down, a weight-0 script failing or a tracked file in FAULT.
func (tr *tracking) own(in *trackedInstance) bool {
	_, scriptFault := tr.scriptsEffective(in)
	return in.faulted || scriptFault
}

// holdGroups sets the sync groups' holds: every member but those in FAULT
// of their own accord is held while one is.
func (tr *tracking) holdGroups() {
	fault := map[string]bool{}
	for _, x := range tr.insts {
		if x.group != "" && tr.own(x) {
			fault[x.group] = true
		}
	}
	for _, x := range tr.insts {
		x.hold = x.group != "" && fault[x.group] && !tr.own(x)
	}
}

// changes returns the instances whose effective state differs from what
// their routers were last given.
func (tr *tracking) changes() []update {
	tr.holdGroups()
	var out []update
	for _, in := range tr.insts {
		p, f := tr.effective(in)
		if in.sent && p == in.lastPrio && f == in.lastFault {
			continue
		}
		out = append(out, update{in, p, f})
	}
	return out
}

// runTracking runs the vrrp_scripts of cfg until ctx is done and gives the
// routers the effective priorities and FAULT holds that follow from their
// results. Scripts run as health-check exec checks (Env.Checker may
// replace them), one at a time per script, every interval.
func (a *Agent) runTracking(ctx context.Context, cfg *config.Config, routers map[string]*vrrp.Router, transitions <-chan vrrp.Transition, notify func([][]string), fifos *fifoSet, log *slog.Logger) {
	tr := newTracking(cfg)
	if tr == nil {
		return
	}
	groups := newGroupStates(cfg)
	groups.mail = a.groupAlerts(cfg)
	type result struct {
		script  string
		success bool
		reason  string
	}
	results := make(chan result)
	for i := range cfg.VRRPScripts {
		s := cfg.VRRPScripts[i]
		if tr.scripts[s.Name] == nil {
			continue
		}
		timeout := s.Timeout
		if timeout == 0 {
			timeout = s.Interval
		}
		var ck healthcheck.Checker = &healthcheck.Exec{Argv: s.Script, Timeout: timeout, Credential: s.Identity.Credential()}
		if a.env.Checker != nil {
			ck = a.env.Checker("vrrp_script "+s.Name, ck)
		}
		go func() {
			t := time.NewTicker(s.Interval)
			defer t.Stop()
			for {
				r := ck.Check(ctx)
				select {
				case results <- result{s.Name, r.Up, r.Reason}:
				case <-ctx.Done():
					return
				}
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	apply := func(us []update) {
		for _, u := range us {
			r := routers[u.in.iface]
			if r == nil {
				continue
			}
			changed := u.in.sent && u.priority != u.in.lastPrio
			if changed {
				log.Info("vrrp: changing effective priority", "instance", u.in.name, "from", u.in.lastPrio, "to", u.priority)
			}
			if err := r.SetTracking(ctx, u.in.name, u.priority, u.fault); err != nil {
				if ctx.Err() == nil {
					log.Error("vrrp: tracking", "instance", u.in.name, "err", err)
				}
				continue
			}
			if changed && u.in.notifyPrio {
				fifos.priority(u.in.name, u.in.state, u.priority)
			}
			u.in.lastPrio, u.in.lastFault, u.in.sent = u.priority, u.fault, true
		}
	}
	var links <-chan vrrp.LinkEvent
	if names := tr.linkNames(); len(names) > 0 {
		initial, ch, err := a.env.WatchLinks(ctx, names)
		if err != nil {
			log.Error("vrrp: watching tracked interfaces; their weights do not apply", "err", err)
		} else {
			links = ch
			for i, n := range names {
				tr.links[n] = i < len(initial) && initial[i]
			}
		}
	}
	var files <-chan fileValue
	if names := tr.fileNames(); len(names) > 0 {
		var tracked []config.TrackedFile
		for _, f := range cfg.TrackedFiles {
			if slices.Contains(names, f.Name) {
				tracked = append(tracked, f)
			}
		}
		initial, ch, err := a.env.WatchFiles(ctx, tracked, log)
		if err != nil {
			log.Error("vrrp: watching tracked files; they do not apply", "err", err)
		} else {
			files = ch
			for _, v := range initial {
				tr.files[v.name] = v.value
			}
		}
	}
	// init_fail scripts, the interfaces and the files count from the
	// start.
	apply(tr.changes())
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-a.retrack:
			apply(tr.rebase(c))
		case ev, ok := <-links:
			if !ok {
				links = nil
				continue
			}
			log.Info("vrrp: tracked interface", "interface", ev.Interface, "up", ev.Up)
			apply(tr.link(ev.Interface, ev.Up))
		case v, ok := <-files:
			if !ok {
				files = nil
				continue
			}
			if tr.files[v.name] != v.value {
				log.Info("vrrp: tracked file", "track_file", v.name, "value", v.value)
			}
			apply(tr.file(v.name, v.value))
		case t := <-transitions:
			if cmds := groups.transition(t, fifos); len(cmds) > 0 {
				notify(cmds)
			}
			us := tr.transition(t)
			for _, u := range us {
				if u.fault != u.in.lastFault && u.in.group != "" {
					log.Info("vrrp: sync group "+map[bool]string{true: "holds", false: "releases"}[u.fault]+" an instance", "group", u.in.group, "instance", u.in.name, "after", t.Instance)
				}
			}
			apply(us)
		case r := <-results:
			was := tr.scripts[r.script].ok()
			us := tr.record(r.script, r.success)
			if now := tr.scripts[r.script].ok(); now != was || len(us) > 0 {
				word := "failed"
				if now {
					word = "succeeded"
				}
				log.Info("vrrp: script "+word, "script", r.script, "reason", r.reason)
			}
			apply(us)
		}
	}
}
