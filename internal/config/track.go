package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// VRRPScript is a vrrp_script block: a program run every Interval whose
// exit status (0: success) the instances that track it follow, as
// keepalived does.
type VRRPScript struct {
	Pos  Pos
	Name string
	// Script is the program and its arguments (script).
	Script Command
	// Interval between runs (default 1 s); Timeout bounds a run (0: the
	// interval, as keepalived).
	Interval time.Duration
	Timeout  time.Duration
	// Weight and Reverse are the default of the instances that track the
	// script without their own weight: see TrackScript.
	Weight  int
	Reverse bool
	// Rise is how many successes in a row make a failed script succeed,
	// Fall how many failures in a row make a succeeding one fail (default
	// 1). Before its first run a script is neither; its first result
	// counts at once.
	Rise, Fall int
	// InitFail starts the script failed rather than unknown (init_fail).
	InitFail bool
	// User and Group run the script as someone else than script_user
	// (user USER [GROUP]); "" means the global script user. UserPos is
	// where they were set.
	User, Group string
	UserPos     Pos
	// Identity is who the script runs as, set by ResolveScripts.
	Identity ScriptIdentity
}

// TrackScript is one track_script entry of an instance: the script's name
// and its weight there. Weight 0 puts the instance in FAULT while the
// script fails; a positive weight is added to the priority while it
// succeeds, a negative one while it fails. Reverse negates the weight and
// swaps success and failure (weight 0 reverse: FAULT while it succeeds).
type TrackScript struct {
	Pos     Pos
	Name    string
	Weight  int
	Reverse bool
}

// Defaults of a vrrp_script, as keepalived's.
const (
	DefaultScriptInterval = time.Second
	maxTrackWeight        = 253
)

// NewVRRPScript returns a vrrp_script with keepalived's defaults.
func NewVRRPScript(name string) VRRPScript {
	return VRRPScript{Name: name, Interval: DefaultScriptInterval, Rise: 1, Fall: 1}
}

// vrrpScript reads a vrrp_script block.
func (m *kaMapper) vrrpScript(b *node) {
	if !b.block || len(b.args) != 1 {
		m.errf(b, "want vrrp_script NAME { ... }")
		return
	}
	s := NewVRRPScript(b.args[0].text)
	s.Pos = b.pos
	for _, n := range b.children {
		switch n.name {
		case "script":
			m.command(n, &s.Script)
		case "interval":
			m.wholeSeconds(n, time.Second, maxDuration, &s.Interval)
		case "timeout":
			m.wholeSeconds(n, time.Second, maxDuration, &s.Timeout)
		case "weight":
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			w, rev, err := parseTrackWeight(ws, maxTrackWeight)
			if err != nil {
				m.errf(n, "%s", err)
				continue
			}
			s.Weight, s.Reverse = w, rev
		case "rise":
			m.intValue(n, 1, 1<<31-1, &s.Rise)
		case "fall":
			m.intValue(n, 1, 1<<31-1, &s.Fall)
		case "init_fail":
			if m.flag(n) {
				s.InitFail = true
			}
		case "user":
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			if len(ws) > 2 {
				m.errf(n, "want USER [GROUP], got %q", strings.Join(ws, " "))
				continue
			}
			s.User, s.Group, s.UserPos = ws[0], "", n.pos
			if len(ws) == 2 {
				s.Group = ws[1]
			}
		default:
			m.unknown(n, "in vrrp_script")
		}
	}
	if len(s.Script) == 0 {
		m.errf(b, "%s: no script (keepalived 2.2.7 drops such a vrrp_script, and the instances tracking it ignore it)", s.Name)
		return
	}
	for _, o := range m.cfg.VRRPScripts {
		if o.Name == s.Name {
			m.errf(b, "%q is defined twice (first at %s)", s.Name, o.Pos)
			return
		}
	}
	m.cfg.VRRPScripts = append(m.cfg.VRRPScripts, s)
}

// parseTrackWeight reads "N [reverse|noreverse]" after weight, N from
// -max to max.
func parseTrackWeight(ws []string, max int) (int, bool, error) {
	w, err := parseIntRange(ws[0], -max, max)
	if err != nil {
		return 0, false, fmt.Errorf("weight %w", err)
	}
	switch {
	case len(ws) == 1:
		return w, false, nil
	case len(ws) == 2 && ws[1] == "reverse":
		return w, true, nil
	case len(ws) == 2 && ws[1] == "noreverse":
		return w, false, nil
	}
	return 0, false, fmt.Errorf("%q: want weight N [reverse|noreverse]", strings.Join(ws, " "))
}

// trackEntry is one line of an instance's block of tracked objects.
type trackEntry struct {
	pos     Pos
	name    string
	weight  int
	reverse bool
}

// trackEntries reads an instance's block of tracked objects of a kind
// (track_script, track_file): each line is NAME [weight N [reverse|
// noreverse]], N from -maxWeight to maxWeight, naming an object that
// lookup finds with its own weight, which applies unless the line gives
// one. keepalived looks the object up when it reads the line, so one
// defined further down is not found, and ignores such a line, as it
// ignores an object tracked twice; this reader refuses both.
func (m *kaMapper) trackEntries(b *node, object string, maxWeight int, lookup func(name string) (weight int, reverse, ok bool)) []trackEntry {
	if !m.block(b) {
		return nil
	}
	var out []trackEntry
	for _, c := range b.children {
		if c.block {
			m.errf(c, "takes no block")
			continue
		}
		w, rev, ok := lookup(c.name)
		if !ok {
			m.errs.add(c.pos, b.name, fmt.Sprintf("no %s %q defined before this line (keepalived 2.2.7 ignores the line)", object, c.name))
			continue
		}
		e := trackEntry{pos: c.pos, name: c.name, weight: w, reverse: rev}
		switch args := c.argStrings(); {
		case len(args) == 0:
		case args[0] == "weight" && len(args) >= 2:
			w, rev, err := parseTrackWeight(args[1:], maxWeight)
			if err != nil {
				m.errs.add(c.pos, b.name, fmt.Sprintf("%s: %s", c.name, err))
				continue
			}
			e.weight, e.reverse = w, rev
		default:
			m.errs.add(c.pos, b.name, fmt.Sprintf("%q: want NAME [weight N [reverse|noreverse]]", strings.Join(append([]string{c.name}, args...), " ")))
			continue
		}
		if slices.ContainsFunc(out, func(o trackEntry) bool { return o.name == e.name }) {
			m.errs.add(c.pos, b.name, fmt.Sprintf("%s is tracked twice (keepalived 2.2.7 ignores the second line)", e.name))
			continue
		}
		out = append(out, e)
	}
	return out
}

// trackScripts reads an instance's track_script block.
func (m *kaMapper) trackScripts(b *node, in *VRRPInstance) {
	es := m.trackEntries(b, "vrrp_script", maxTrackWeight, func(name string) (int, bool, bool) {
		for _, s := range m.cfg.VRRPScripts {
			if s.Name == name {
				return s.Weight, s.Reverse, true
			}
		}
		return 0, false, false
	})
	for _, e := range es {
		in.TrackScripts = append(in.TrackScripts, TrackScript{Pos: e.pos, Name: e.name, Weight: e.weight, Reverse: e.reverse})
	}
}

// validateTracking checks the vrrp_scripts and what the instances track.
func validateTracking(l *errList, c *Config) {
	names := map[string]bool{}
	for _, s := range c.VRRPScripts {
		bad := func(field, format string, a ...any) {
			l.add(s.Pos, "vrrp_script "+s.Name+": "+field, fmt.Sprintf(format, a...))
		}
		switch {
		case s.Name == "":
			bad("name", "missing")
		case names[s.Name]:
			bad("name", "%q is defined twice", s.Name)
		}
		names[s.Name] = true
		if len(s.Script) == 0 {
			bad("script", "missing")
		}
		if s.Interval < time.Second {
			bad("interval", "%s is less than 1s", s.Interval)
		}
		if s.Timeout < 0 {
			bad("timeout", "%s is negative", s.Timeout)
		}
		if s.Rise < 1 || s.Fall < 1 {
			bad("rise/fall", "%d/%d: both must be at least 1", s.Rise, s.Fall)
		}
		if s.Weight < -maxTrackWeight || s.Weight > maxTrackWeight {
			bad("weight", "%d is not a number -253-253", s.Weight)
		}
	}
	for _, in := range c.VRRP {
		for _, t := range in.TrackScripts {
			at := "vrrp_instance " + in.Name + ": track_script " + t.Name
			if !names[t.Name] {
				l.add(in.Pos, at, "no such vrrp_script")
			}
			if t.Weight < -maxTrackWeight || t.Weight > maxTrackWeight {
				l.add(in.Pos, at, fmt.Sprintf("weight %d is not a number -253-253", t.Weight))
			}
		}
	}
}
