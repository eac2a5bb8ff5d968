package config

import (
	"fmt"
	"slices"
)

// groupTrack reads a track_interface, track_script or track_file block of
// a vrrp_sync_group: the same lines as in an instance (keepalived 2.2.7
// reads both with one function), NAME [weight N [reverse]].
func (m *kaMapper) groupTrack(n *node, g *SyncGroup) {
	var in VRRPInstance
	switch n.name {
	case "track_interface":
		if !m.block(n) {
			return
		}
		for _, c := range n.children {
			if c.block {
				m.errf(c, "takes no block")
				continue
			}
			t, err := parseTrack(append([]string{c.name}, c.argStrings()...))
			if err != nil {
				m.errs.add(c.pos, "track_interface", err.Error())
				continue
			}
			if slices.ContainsFunc(g.Track, func(o TrackInterface) bool { return o.Name == t.Name }) {
				m.errs.add(c.pos, "track_interface", fmt.Sprintf("%s is tracked twice (keepalived 2.2.7 ignores the second line)", t.Name))
				continue
			}
			g.Track = append(g.Track, t)
		}
	case "track_script":
		m.trackScripts(n, &in)
		g.TrackScripts = append(g.TrackScripts, in.TrackScripts...)
	case "track_file":
		m.trackFiles(n, &in)
		g.TrackFiles = append(g.TrackFiles, in.TrackFiles...)
	}
}

// syncGroupTracking adds what each sync group tracks to its members, as
// keepalived 2.2.7 does once the instances are complete (after the
// weights of the members' own objects were cleared, see trackFileWeights
// and validateSyncGroups): with the group's weight, or with weight 0,
// and a warning, when a member is the address owner (priority 255). An
// object a member tracks itself is tracked once, with the group's weight
// unless the member's own is 0; keepalived logs it, as this reader warns
// of it, except for an interface, which keepalived reports as an error in
// the configuration and this reader refuses.
func (m *kaMapper) syncGroupTracking() {
	for gi := range m.cfg.SyncGroups {
		g := &m.cfg.SyncGroups[gi]
		if len(g.Track)+len(g.TrackScripts)+len(g.TrackFiles) == 0 {
			continue
		}
		var members []*VRRPInstance
		owner := false
		for _, name := range g.Instances {
			for i := range m.cfg.VRRP {
				if in := &m.cfg.VRRP[i]; in.Name == name && !slices.Contains(members, in) {
					members = append(members, in)
					owner = owner || in.Priority == 255
				}
			}
		}
		if len(members) == 0 {
			continue // validateSyncGroups reports it
		}
		warn := func(pos Pos, directive, format string, a ...any) {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: pos, Directive: directive, Msg: fmt.Sprintf(format, a...)})
		}
		if owner {
			const why = "a member of sync group %s is the address owner (priority 255): tracked with weight 0 (FAULT while down), as keepalived 2.2.7 clears the weight"
			for i := range g.TrackScripts {
				if t := &g.TrackScripts[i]; t.Weight != 0 {
					warn(t.Pos, "track_script", "%s: weight %d: "+why, t.Name, t.Weight, g.Name)
					t.Weight, t.Reverse = 0, false
				}
			}
			for i := range g.TrackFiles {
				if t := &g.TrackFiles[i]; t.Weight != 0 {
					warn(t.Pos, "track_file", "%s: weight %d: "+why, t.Name, t.Weight, g.Name)
					t.Weight, t.Reverse = 0, false
				}
			}
			for i := range g.Track {
				if t := &g.Track[i]; t.Weight != 0 {
					warn(g.Pos, "track_interface", "%s: weight %d: "+why, t.Name, t.Weight, g.Name)
					t.Weight, t.Reverse = 0, false
				}
			}
		}
		for _, in := range members {
			for _, t := range g.TrackScripts {
				i := slices.IndexFunc(in.TrackScripts, func(o TrackScript) bool { return o.Name == t.Name })
				if i < 0 {
					in.TrackScripts = append(in.TrackScripts, t)
					continue
				}
				if o := in.TrackScripts[i]; o.Weight != 0 && !g.TrackingWeight {
					// As validateSyncGroups refuses it for an object the
					// group does not track.
					m.errs.add(o.Pos, "vrrp_instance "+in.Name+": track_script "+o.Name, fmt.Sprintf("weight %d in sync group %s: keepalived 2.2.7 ignores weighted scripts of sync group members; use weight 0 or sync_group_tracking_weight", o.Weight, g.Name))
					continue
				}
				warn(t.Pos, "track_script", "%s is tracked by vrrp_instance %s and by its sync group %s: tracked once, with the group's weight unless the instance's is 0, as keepalived 2.2.7 does (remove the instance's line)", t.Name, in.Name, g.Name)
				if o := &in.TrackScripts[i]; o.Weight != 0 {
					o.Weight, o.Reverse = t.Weight, t.Reverse
				}
			}
			for _, t := range g.TrackFiles {
				i := slices.IndexFunc(in.TrackFiles, func(o TrackFile) bool { return o.Name == t.Name })
				if i < 0 {
					in.TrackFiles = append(in.TrackFiles, t)
					continue
				}
				warn(t.Pos, "track_file", "%s is tracked by vrrp_instance %s and by its sync group %s: tracked once, with the group's weight unless the instance's is 0, as keepalived 2.2.7 does (remove the instance's line)", t.Name, in.Name, g.Name)
				if o := &in.TrackFiles[i]; o.Weight != 0 {
					o.Weight, o.Reverse = t.Weight, t.Reverse
				}
			}
			for _, t := range g.Track {
				if i := slices.IndexFunc(in.Track, func(o TrackInterface) bool { return o.Name == t.Name }); i >= 0 {
					if in.Track[i].Weight == 0 && slices.ContainsFunc(in.VirtualRoutes, func(r Route) bool { return !r.NoTrack && r.Dev == t.Name }) {
						// The interface of a tracked virtual route:
						// keepalived keeps tracking it with weight 0.
						continue
					}
					m.errs.add(g.Pos, "track_interface", fmt.Sprintf("%s is tracked by vrrp_instance %s and by its sync group %s (keepalived 2.2.7 reports it as an error: remove one)", t.Name, in.Name, g.Name))
					continue
				}
				in.Track = append(in.Track, t)
			}
		}
	}
}
