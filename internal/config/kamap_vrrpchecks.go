package config

import "time"

// refreshRepeat reads garp_master_refresh_repeat and its global form as
// keepalived 2.2.7 does (vrrp_parser.c, global_parser.c,
// vrrp_garp_refresh_rep_handler): 0 is made 1 with a warning. lbnode
// sends at most 255 per VIP in a burst.
func (m *kaMapper) refreshRepeat(n *node, dst *int) {
	var v int
	if !m.intValue(n, 0, 255, &v) {
		return
	}
	if v == 0 {
		m.warnf(n, "must be greater than 0: 1, as keepalived sets it")
		v = 1
	}
	*dst = v
}

// skipCheckAdvAddr reads an instance's skip_check_adv_addr [BOOL]. keepalived
// 2.2.7 sets it for any value check_true_false reads, false too
// (vrrp_parser.c:1051 tests res >= 0): a false value is refused rather
// than run as true or diverged from silently.
func (m *kaMapper) skipCheckAdvAddr(n *node, in *VRRPInstance) {
	if n.block || len(n.args) > 1 {
		m.errf(n, "want skip_check_adv_addr [true|false]")
		return
	}
	if len(n.args) == 0 {
		in.SkipCheckAdvAddr = true
		return
	}
	switch s := n.args[0].text; s {
	case "true", "on", "yes":
		in.SkipCheckAdvAddr = true
	case "false", "off", "no":
		m.errf(n, "%q: keepalived 2.2.7 turns skip_check_adv_addr on for it too (vrrp_parser.c:1051); remove the line to leave it off", s)
	default:
		m.warnf(n, "invalid value %q: ignored, as keepalived does", s)
	}
}

// minGARP reads vrrp_min_garp [BOOL] as keepalived 2.2.7 does
// (global_parser.c, vrrp_min_garp_handler): one gratuitous ARP when an
// instance becomes MASTER and no second burst, for each setting still at
// keepalived's default (the refresh is off by default already).
func (m *kaMapper) minGARP(n *node) {
	on := false
	if !m.trueFalse(n, &on) || !on {
		return
	}
	g := &m.cfg.Global
	if g.GARPMasterRepeat == DefaultGARPMasterRepeat {
		g.GARPMasterRepeat = 1
	}
	if g.GARPMasterDelay == DefaultGARPMasterDelay {
		g.GARPMasterDelay = 0
	}
}

// lenientSeconds reads a global number of seconds as keepalived 2.2.7
// reads vrrp_garp_interval, vrrp_gna_interval and vrrp_startup_delay
// (read_decimal_unsigned_strvec, then report_config_error and go on): a
// value out of lo..hi, or not a number, is ignored with a warning.
func (m *kaMapper) lenientSeconds(n *node, lo, hi time.Duration, dst *time.Duration) {
	s, ok := m.value(n)
	if !ok {
		return
	}
	d, err := parseSeconds(s, lo, hi)
	if err != nil {
		m.warnf(n, "%s: ignored, as keepalived does", err)
		return
	}
	*dst = d
}
