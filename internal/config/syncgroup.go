package config

import (
	"fmt"
	"slices"
)

// SyncGroup is a vrrp_sync_group: instances that change state together.
// While one member is in FAULT the others are held in FAULT too, as
// keepalived does.
type SyncGroup struct {
	Pos  Pos
	Name string
	// Instances are the members' names (group { ... }).
	Instances []string
	// Notify programs of the group, run as keepalived runs them: Notify
	// with "GROUP" NAME STATE 0 on every change of the group's state.
	Notify       Command
	NotifyMaster Command
	NotifyBackup Command
	NotifyFault  Command
	NotifyStop   Command
	// TrackingWeight is sync_group_tracking_weight (or the deprecated
	// global_tracking): the members' own weighted tracked scripts and
	// interfaces change their priorities. Without it keepalived ignores
	// weighted scripts of members and makes weighted interfaces weight
	// 0; this reader refuses such a file instead. (What the group tracks
	// itself keeps its weights either way.)
	TrackingWeight bool
	// NotifyPriorityChanges is notify_priority_changes, the default of
	// the members.
	NotifyPriorityChanges bool
	// Track, TrackScripts and TrackFiles are what the group tracks
	// (track_interface, track_script, track_file in the group), read
	// as in an instance. keepalived 2.2.7 adds each to every member
	// with the group's weight, with or without TrackingWeight; a group
	// with an address owner (priority 255) among its members tracks
	// them with weight 0. Once the file is read the members hold them
	// too (see syncGroupTracking).
	Track        []TrackInterface
	TrackScripts []TrackScript
	TrackFiles   []TrackFile
}

// syncGroup reads a vrrp_sync_group block. Its members are looked up once
// the whole file is read (resolveSyncGroups), as keepalived does.
func (m *kaMapper) syncGroup(b *node) {
	if !b.block || len(b.args) != 1 {
		m.errf(b, "want vrrp_sync_group NAME { ... }")
		return
	}
	g := SyncGroup{Pos: b.pos, Name: b.args[0].text}
	groupSeen := false
	for _, n := range b.children {
		switch n.name {
		case "group":
			if !m.block(n) {
				continue
			}
			if groupSeen {
				m.errf(n, "group list already specified for sync group %s (keepalived 2.2.7 ignores this one)", g.Name)
				continue
			}
			groupSeen = true
			for _, c := range n.children {
				if c.block || len(c.args) > 0 {
					m.errf(c, "want one instance name per line")
					continue
				}
				g.Instances = append(g.Instances, c.name)
			}
		case "notify":
			m.firstCommand(n, &g.Notify)
		case "notify_master":
			m.firstCommand(n, &g.NotifyMaster)
		case "notify_backup":
			m.firstCommand(n, &g.NotifyBackup)
		case "notify_fault":
			m.firstCommand(n, &g.NotifyFault)
		case "notify_stop":
			m.firstCommand(n, &g.NotifyStop)
		case "sync_group_tracking_weight":
			if m.flag(n) {
				g.TrackingWeight = true
			}
		case "smtp_alert":
			m.smtpAlert(n, "vrrp_sync_group", g.Pos)
		case "notify_priority_changes":
			if m.trueFalse(n, &g.NotifyPriorityChanges) {
				m.extras.groupNotify[g.Name] = true
			}
		case "global_tracking":
			if m.flag(n) {
				g.TrackingWeight = true
				m.warnf(n, "deprecated: keepalived reads it as sync_group_tracking_weight")
			}
		case "track_interface", "track_script", "track_file":
			m.groupTrack(n, &g)
		case "track_process", "track_bfd":
			// Refused for the reasons they are refused in an instance.
			m.unknown(n, "in vrrp_sync_group")
		default:
			if !n.block && len(n.args) == 0 && !groupSeen {
				// An instance name outside group { }: keepalived reports
				// an unknown keyword and ignores it.
				m.warnf(n, "ignored: instance names belong in group { ... } (keepalived 2.2.7 ignores this unknown keyword)")
				continue
			}
			m.unknown(n, "in vrrp_sync_group")
		}
	}
	if !groupSeen {
		m.warnf(b, "vrrp_sync_group %s has no group { ... } of instances: ignored, as keepalived 2.2.7 removes such a group", g.Name)
		return
	}
	m.cfg.SyncGroups = append(m.cfg.SyncGroups, g)
}

// validateSyncGroups checks the groups against the instances: members
// exist, belong to one group only, and carry no weighted tracking unless
// the group allows it.
func validateSyncGroups(l *errList, c *Config) {
	owner := map[string]string{}
	names := map[string]bool{}
	for _, g := range c.SyncGroups {
		at := "vrrp_sync_group " + g.Name
		if names[g.Name] {
			l.add(g.Pos, at, "defined twice")
		}
		names[g.Name] = true
		if len(g.Instances) == 0 {
			l.add(g.Pos, at, "no group { ... } of instances (keepalived 2.2.7 removes such a group)")
		}
		for _, name := range g.Instances {
			i := slices.IndexFunc(c.VRRP, func(in VRRPInstance) bool { return in.Name == name })
			if i < 0 {
				l.add(g.Pos, at, fmt.Sprintf("instance %q does not exist (keepalived 2.2.7 ignores it)", name))
				continue
			}
			if o, ok := owner[name]; ok {
				l.add(g.Pos, at, fmt.Sprintf("instance %s is already in sync group %s (keepalived 2.2.7 ignores it here)", name, o))
				continue
			}
			owner[name] = g.Name
			if g.TrackingWeight {
				continue
			}
			in := &c.VRRP[i]
			// What the group tracks itself keeps its weight in the
			// members (syncGroupTracking).
			for _, t := range in.TrackScripts {
				if t.Weight != 0 && !slices.ContainsFunc(g.TrackScripts, func(o TrackScript) bool { return o.Name == t.Name }) {
					l.add(in.Pos, "vrrp_instance "+in.Name+": track_script "+t.Name, fmt.Sprintf("weight %d in sync group %s: keepalived 2.2.7 ignores weighted scripts of sync group members; use weight 0 or sync_group_tracking_weight", t.Weight, g.Name))
				}
			}
			for _, t := range in.Track {
				if t.Weight != 0 && !slices.ContainsFunc(g.Track, func(o TrackInterface) bool { return o.Name == t.Name }) {
					l.add(in.Pos, "vrrp_instance "+in.Name+": track_interface "+t.Name, fmt.Sprintf("weight %d in sync group %s: keepalived 2.2.7 tracks it with weight 0 (FAULT while down); write no weight or set sync_group_tracking_weight", t.Weight, g.Name))
				}
			}
		}
	}
}
