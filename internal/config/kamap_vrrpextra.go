package config

import (
	"strconv"
	"strings"
	"time"
)

// vrrpExtras records what vrrpExtrasEnd resolves once the whole file is
// read: per instance (in order) which settings it made itself, and the
// sync groups that set notify_priority_changes.
type vrrpExtras struct {
	inst        []instExtras
	groupNotify map[string]bool
}

// instExtras is what one instance set: notify_priority_changes, and
// garp_extra_if with its interval and "all".
type instExtras struct {
	notifySet, extraSet bool
	extraAll            bool
	extra               time.Duration
}

// setFlag reads a keyword keepalived 2.2.7 sets whatever follows it
// (dont_track_primary, promote_secondaries: vrrp_parser.c).
func (m *kaMapper) setFlag(n *node, dst *bool) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	if len(n.args) > 0 {
		m.warnf(n, "%q after it ignored: keepalived sets %s whatever follows", strings.Join(n.argStrings(), " "), n.name)
	}
	*dst = true
}

// oldUnicastChecksum reads old_unicast_checksum [never] as keepalived
// 2.2.7 does (vrrp_parser.c, vrrp_unicast_chksum_handler): no word is
// "always", "never" is never, another word is ignored with its message.
func (m *kaMapper) oldUnicastChecksum(n *node, in *VRRPInstance) {
	switch {
	case n.block:
		m.errf(n, "takes no block")
	case len(n.args) == 0:
		in.OldUnicastChecksum = "always"
	case n.args[0].text == "never":
		in.OldUnicastChecksum = "never"
	default:
		m.warnf(n, "%q is not never: ignored, as keepalived does (\"(%s) Unknown old_unicast_chksum mode %s - ignoring\")", n.args[0].text, in.Name, n.args[0].text)
	}
}

// extraIfArgs reads the words of garp_extra_if and vrrp_garp_extra_if:
// "all" and an interval of whole seconds, lo-86400, in any order, as
// keepalived 2.2.7 reads them (vrrp_parser.c, vrrp_garp_extra_if_handler;
// global_parser.c, vrrp_vmac_garp_extra_if_handler). A bad word or no
// interval makes keepalived ignore the line, with an error it runs on
// after: a warning here.
func (m *kaMapper) extraIfArgs(n *node, lo uint64) (d time.Duration, all, ok bool) {
	if n.block {
		m.errf(n, "takes no block")
		return 0, false, false
	}
	if strings.Contains(n.name, "vmac_garp_intvl") {
		m.warnf(n, "deprecated: keepalived reads it as %s", strings.Replace(n.name, "vmac_garp_intvl", "garp_extra_if", 1))
	}
	secs := int64(-1)
	for _, w := range n.argStrings() {
		if w == "all" {
			all = true
			continue
		}
		v, err := strconv.ParseUint(w, 10, 32)
		if err != nil || v < lo || v > 86400 {
			m.warnf(n, "%q is not a number of seconds %d-86400: the line is ignored, as keepalived does (\"%s '%s' invalid - ignoring\")", w, lo, n.name, w)
			return 0, false, false
		}
		secs = int64(v)
	}
	if secs < 0 || secs == 0 && lo > 0 {
		m.warnf(n, "no interval: the line is ignored, as keepalived does (\"%s specified without time - ignoring\")", n.name)
		return 0, false, false
	}
	return time.Duration(secs) * time.Second, all, true
}

// garpExtraIf reads an instance's garp_extra_if (or the deprecated
// vmac_garp_intvl).
func (m *kaMapper) garpExtraIf(n *node, e *instExtras) {
	d, all, ok := m.extraIfArgs(n, 0)
	if !ok {
		return
	}
	e.extraSet, e.extra, e.extraAll = true, d, all
	if !all && d > 0 {
		m.warnf(n, "without \"all\" keepalived sends these on the VMACs of single addresses (use_vmac in an address line) only, which lbnode does not have: no gratuitous ARP is sent")
	}
}

// globalGARPExtraIf reads vrrp_garp_extra_if (or the deprecated
// vrrp_vmac_garp_intvl).
func (m *kaMapper) globalGARPExtraIf(n *node) {
	d, all, ok := m.extraIfArgs(n, 1)
	if !ok {
		return
	}
	g := &m.cfg.Global
	g.GARPExtraIf = d
	if all {
		// keepalived only ever sets the global "all".
		g.GARPExtraAll = true
	}
	if !g.GARPExtraAll {
		m.warnf(n, "without \"all\" keepalived sends these on the VMACs of single addresses (use_vmac in an address line) only, which lbnode does not have: no gratuitous ARP is sent")
	}
}

// syncGroupOf maps the instances in a sync group to it.
func (c *Config) syncGroupOf() map[string]*SyncGroup {
	out := map[string]*SyncGroup{}
	for i := range c.SyncGroups {
		for _, name := range c.SyncGroups[i].Instances {
			out[name] = &c.SyncGroups[i]
		}
	}
	return out
}

// vrrpExtrasEnd gives each instance the notify_priority_changes of its
// sync group, or else the global one, when it set none, and its
// garp_extra_if interval, or else the global one (vrrp.c,
// vrrp_complete_instance): what is sent only with "all".
func (m *kaMapper) vrrpExtrasEnd() {
	g := &m.cfg.Global
	groupOf := m.cfg.syncGroupOf()
	for i := range m.cfg.VRRP {
		in := &m.cfg.VRRP[i]
		var e instExtras
		if i < len(m.extras.inst) {
			e = m.extras.inst[i]
		}
		if !e.notifySet {
			in.NotifyPriorityChanges = g.NotifyPriorityChanges
			if sg := groupOf[in.Name]; sg != nil && m.extras.groupNotify[sg.Name] {
				in.NotifyPriorityChanges = sg.NotifyPriorityChanges
			}
		}
		d, all := e.extra, e.extraAll
		if !e.extraSet {
			d, all = g.GARPExtraIf, g.GARPExtraAll
		}
		if all {
			in.GARPExtraIf = d
		}
	}
}
