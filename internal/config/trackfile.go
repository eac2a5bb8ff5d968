package config

import (
	"fmt"
	"strconv"
	"strings"
)

// TrackedFile is a track_file block (vrrp_track_file, deprecated, is read
// the same): a file holding a number that the instances tracking it follow,
// as keepalived 2.2.7 does. A missing file, or one whose text does not
// start with a number, reads as 0.
type TrackedFile struct {
	Pos  Pos
	Name string
	// Path is the file (file).
	Path string
	// Weight and Reverse are the default of the instances that track the
	// file without their own weight (weight N [reverse]; default 1).
	Weight  int
	Reverse bool
	// Init, when set, creates the file at start with InitValue when it
	// does not exist, or writes it in any case with InitOverwrite
	// (init_file [VALUE] [overwrite]).
	Init          bool
	InitValue     int
	InitOverwrite bool
}

// TrackFile is one track_file entry of an instance: the file's name and
// its weight there. With a weight other than 0, the file's value times
// the weight (negated by Reverse), clamped to -254..253, is added to the
// priority, and -254 puts the instance in FAULT. With weight 0, a value
// other than 0 puts the instance in FAULT (with Reverse: a value of 0).
type TrackFile struct {
	Pos     Pos
	Name    string
	Weight  int
	Reverse bool
}

// maxFileWeight bounds a track_file weight, as keepalived's.
const maxFileWeight = 254

// trackedFile reads a track_file block.
func (m *kaMapper) trackedFile(b *node) {
	if !b.block || len(b.args) != 1 {
		m.errf(b, "want %s NAME { ... }", b.name)
		return
	}
	if b.name == "vrrp_track_file" {
		m.warnf(b, "deprecated: keepalived reads it as track_file")
	}
	f := TrackedFile{Pos: b.pos, Name: b.args[0].text, Weight: 1}
	weightSet := false
	for _, n := range b.children {
		switch n.name {
		case "file":
			s, ok := m.value(n)
			if !ok {
				continue
			}
			if f.Path != "" {
				m.errf(n, "file already set for track_file %s (keepalived 2.2.7 ignores %s)", f.Name, s)
				continue
			}
			f.Path = s
		case "weight":
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			if weightSet {
				m.errf(n, "weight already set for track_file %s (keepalived 2.2.7 ignores %s)", f.Name, ws[0])
				continue
			}
			w, err := parseIntRange(ws[0], -maxFileWeight, maxFileWeight)
			if err != nil {
				m.errf(n, "weight %s", err)
				continue
			}
			switch {
			case len(ws) == 1:
			case len(ws) == 2 && ws[1] == "reverse":
				f.Reverse = true
			default:
				m.errf(n, "%q: want weight N [reverse]", strings.Join(ws, " "))
				continue
			}
			f.Weight, weightSet = w, true
		case "init_file":
			if n.block {
				m.errf(n, "takes no block")
				continue
			}
			f.Init = true
			for _, a := range n.argStrings() {
				switch {
				case a == "overwrite":
					f.InitOverwrite = true
				case a != "" && (a[0] == '-' || a[0] >= '0' && a[0] <= '9'):
					v, err := strconv.ParseInt(a, 10, 32)
					if err != nil {
						m.errf(n, "init value %q is not a number", a)
						continue
					}
					if v < -maxFileWeight || v > maxFileWeight {
						m.warnf(n, "init value %d is outside the sensible range -254..254 (keepalived 2.2.7 writes it all the same)", v)
					}
					f.InitValue = int(v)
				default:
					m.errf(n, "unknown init_file option %q: want init_file [VALUE] [overwrite]", a)
				}
			}
		default:
			m.unknown(n, "in track_file")
		}
	}
	if f.Path == "" {
		m.errf(b, "%s: no file (keepalived 2.2.7 drops such a track_file, and the instances tracking it ignore it)", f.Name)
		return
	}
	for _, o := range m.cfg.TrackedFiles {
		if o.Name == f.Name {
			m.errf(b, "%q is defined twice (first at %s)", f.Name, o.Pos)
			return
		}
	}
	m.cfg.TrackedFiles = append(m.cfg.TrackedFiles, f)
}

// trackFiles reads an instance's track_file block.
func (m *kaMapper) trackFiles(b *node, in *VRRPInstance) {
	es := m.trackEntries(b, "track_file", maxFileWeight, func(name string) (int, bool, bool) {
		for _, f := range m.cfg.TrackedFiles {
			if f.Name == name {
				return f.Weight, f.Reverse, true
			}
		}
		return 0, false, false
	})
	for _, e := range es {
		in.TrackFiles = append(in.TrackFiles, TrackFile{Pos: e.pos, Name: e.name, Weight: e.weight, Reverse: e.reverse})
	}
}

// maxFileCheckWeight bounds a FILE_CHECK weight, as keepalived's
// IPVS_WEIGHT_LIMIT.
const maxFileCheckWeight = 1<<31 - 1

// fileCheck reads a real server's FILE_CHECK block: track_file NAME, of a
// track_file defined above, and weight N [reverse|noreverse].
func (m *kaMapper) fileCheck(b *node) (FileCheck, bool) {
	if !b.block {
		m.errf(b, "must be a block: FILE_CHECK { track_file NAME ... }")
		return FileCheck{}, false
	}
	fc := FileCheck{Pos: b.pos}
	named := false
	var weight *int
	reverse := false
	for _, n := range b.children {
		switch n.name {
		case "track_file":
			name, ok := m.value(n)
			if !ok {
				continue
			}
			named = true
			found := false
			for _, f := range m.cfg.TrackedFiles {
				if f.Name == name {
					fc.Name, fc.Weight, fc.Reverse, found = name, f.Weight, f.Reverse, true
				}
			}
			if !found {
				m.errf(n, "track_file %s not found: define it above the virtual server (keepalived 2.2.7 then ignores this FILE_CHECK)", name)
			}
		case "weight":
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			w, err := parseIntRange(ws[0], -maxFileCheckWeight, maxFileCheckWeight)
			if err != nil {
				m.errf(n, "weight %s (keepalived 2.2.7 ignores the line)", err)
				continue
			}
			switch {
			case len(ws) == 1:
				reverse = false
			case len(ws) == 2 && (ws[1] == "reverse" || ws[1] == "noreverse"):
				reverse = ws[1] == "reverse"
			default:
				m.errf(n, "%q: want weight N [reverse|noreverse] (keepalived 2.2.7 ignores the line)", strings.Join(ws, " "))
				continue
			}
			weight = &w
		default:
			m.unknown(n, "in FILE_CHECK")
		}
	}
	if fc.Name == "" {
		if !named {
			m.errf(b, "FILE_CHECK has no track_file (keepalived 2.2.7 ignores it)")
		}
		return FileCheck{}, false
	}
	// A weight of the FILE_CHECK's own replaces the track_file's weight
	// and direction, wherever it is written in the block.
	if weight != nil {
		fc.Weight, fc.Reverse = *weight, reverse
	}
	return fc, true
}

// validateTrackedFiles checks the track_file blocks and what the
// instances track of them.
func validateTrackedFiles(l *errList, c *Config) {
	names := map[string]bool{}
	for _, f := range c.TrackedFiles {
		at := "track_file " + f.Name
		switch {
		case f.Name == "":
			l.add(f.Pos, "track_file: name", "missing")
		case names[f.Name]:
			l.add(f.Pos, at+": name", fmt.Sprintf("%q is defined twice", f.Name))
		}
		names[f.Name] = true
		if f.Path == "" {
			l.add(f.Pos, at+": file", "missing")
		}
		if f.Weight < -maxFileWeight || f.Weight > maxFileWeight {
			l.add(f.Pos, at+": weight", fmt.Sprintf("%d is not a number -254-254", f.Weight))
		}
	}
	for _, in := range c.VRRP {
		for _, t := range in.TrackFiles {
			at := "vrrp_instance " + in.Name + ": track_file " + t.Name
			if !names[t.Name] {
				l.add(in.Pos, at, "no such track_file")
			}
			if t.Weight < -maxFileWeight || t.Weight > maxFileWeight {
				l.add(in.Pos, at, fmt.Sprintf("weight %d is not a number -254-254", t.Weight))
			}
		}
	}
}

// ParseTrackFileValue reads the text of a tracked file as keepalived 2.2.7
// does (strtol with base 0): leading white space, a sign, then a decimal,
// 0x hexadecimal or 0 octal number, whatever follows ignored; text that
// does not start so reads as 0. ok is false for a number out of the range
// keepalived takes (-2^31..2^31), which it ignores, keeping the last value.
func ParseTrackFileValue(text string) (v int64, ok bool) {
	s := strings.TrimLeft(text, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexDigit(s[2]) >= 0:
		base, s = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || d >= base {
			break
		}
		n = n*int64(base) + int64(d)
		if n > 1<<40 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	if n < -1<<31 || n > 1<<31 {
		return 0, false
	}
	return n, true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// trackFileWeights applies keepalived 2.2.7's rule for the files tracked by
// the address owner (priority 255) and by the members of a sync group
// without sync_group_tracking_weight, whose priority tracking must not
// change: a file tracked with the default weight 1 is tracked with weight
// 0 (FAULT while it holds a value other than 0), one with another weight
// is not tracked. Each is a warning naming the line, as keepalived
// reports it.
func (m *kaMapper) trackFileWeights() {
	groupOf := m.cfg.syncGroupOf()
	for i := range m.cfg.VRRP {
		in := &m.cfg.VRRP[i]
		why := ""
		if in.Priority == 255 {
			why = "address owner"
		}
		if g := groupOf[in.Name]; g != nil && !g.TrackingWeight {
			why = "sync group " + g.Name
		}
		if why == "" {
			continue
		}
		kept := in.TrackFiles[:0]
		for _, t := range in.TrackFiles {
			warn := func(format string, a ...any) {
				m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: t.Pos, Directive: "track_file", Msg: fmt.Sprintf(format, a...)})
			}
			switch t.Weight {
			case 0:
			case 1:
				warn("%s: tracked with weight 0 instead of the default 1 (%s), as keepalived 2.2.7 does; write weight 0", t.Name, why)
				t.Weight = 0
			default:
				warn("%s: not tracked: weight %d (%s), as keepalived 2.2.7 ignores it", t.Name, t.Weight, why)
				continue
			}
			kept = append(kept, t)
		}
		in.TrackFiles = kept
	}
}
