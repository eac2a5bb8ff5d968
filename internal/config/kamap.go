package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ParseKeepalived reads a keepalived.conf from src. name is used in
// messages and to resolve include directives, which are read from the
// file system relative to name's directory.
//
// Unknown or malformed directives are errors naming the file, the line and
// the directive; the result is a validated Config (see Validate) or nil
// and an Errors.
func ParseKeepalived(name string, src []byte) (*Config, error) {
	return parseKeepalived(name, src, osFS{})
}

func parseKeepalived(name string, src []byte, fs fileSystem) (*Config, error) {
	lx := &lexer{fs: fs}
	if err := lx.lexFile(name, src, 0); err != nil {
		return nil, Errors{asError(err)}
	}
	nodes, err := parseTokens(lx.toks)
	if err != nil {
		return nil, Errors{asError(err)}
	}
	m := &kaMapper{cfg: &Config{Source: name, Format: FormatKeepalived, Global: NewGlobal(), Warnings: lx.warnings}, extras: vrrpExtras{groupNotify: map[string]bool{}}}
	for _, n := range nodes {
		m.top(n)
	}
	m.lowerPrioDefaults()
	m.vrrpExtrasEnd()
	m.strictModes()
	m.trackFileWeights()
	m.syncGroupTracking()
	m.advertIntervals()
	m.resolveSyncDaemon()
	m.lvsEnd()
	m.smtpEnd()
	if err := m.errs.err(); err != nil {
		return nil, err
	}
	if err := Validate(m.cfg); err != nil {
		return nil, err
	}
	return m.cfg, nil
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Msg: err.Error()}
}

type kaMapper struct {
	cfg  *Config
	errs errList
	lvs  lvsState
	// lowerSet records, per instance index, which of its lower-priority
	// settings the file set: the others take the global ones once the
	// whole file is read, as keepalived resolves them.
	lowerSet []lowerPrioSet
	// advertAt is, per instance index, where its advert_int is (the
	// instance's own position without one).
	advertAt []Pos
	// globalLowerSet: vrrp_garp_lower_prio_delay and _repeat were set;
	// otherwise they follow vrrp_garp_master_delay and _repeat.
	globalLowerDelaySet, globalLowerRepeatSet bool
	// rulesUnnumbered counts, for IPv4 and IPv6, the rules read without
	// a preference (see firstRulePriority).
	rulesUnnumbered [2]uint32
	// smtp is the mail settings read so far.
	smtp smtpState
	// strict is, per instance index, what it said about strict and
	// accept mode; nftSet: a global nftables line was read.
	strict []strictState
	nftSet bool
	// extras records, per instance, which of the settings vrrpExtrasEnd
	// resolves it set.
	extras vrrpExtras
	// garpAggregated counts the garp_group blocks kept that have an
	// interfaces block (keepalived numbers them).
	garpAggregated int
}

type lowerPrioSet struct{ delay, repeat, noAdvert bool }

// lowerPrioDefaults gives the instances the global lower-priority
// settings they did not set themselves.
func (m *kaMapper) lowerPrioDefaults() {
	g := &m.cfg.Global
	if !m.globalLowerDelaySet {
		g.GARPLowerPrioDelay = g.GARPMasterDelay
	}
	if !m.globalLowerRepeatSet {
		g.GARPLowerPrioRepeat = g.GARPMasterRepeat
	}
	for i := range m.cfg.VRRP {
		in, set := &m.cfg.VRRP[i], m.lowerSet[i]
		if !set.delay {
			in.GARPLowerPrioDelay = g.GARPLowerPrioDelay
		}
		if !set.repeat {
			in.GARPLowerPrioRepeat = g.GARPLowerPrioRepeat
		}
		if !set.noAdvert {
			in.LowerPrioNoAdvert = g.LowerPrioNoAdvert
		}
	}
}

// trueFalse reads keepalived's optional boolean: no value is true, else
// one of true/on/yes or false/off/no.
func (m *kaMapper) trueFalse(n *node, dst *bool) bool {
	switch {
	case n.block:
		m.errf(n, "takes no block")
		return false
	case len(n.args) == 0:
		*dst = true
		return true
	case len(n.args) > 1:
		m.errf(n, "unexpected argument %q after %q", n.args[1].text, n.args[0].text)
		return false
	}
	switch n.args[0].text {
	case "true", "on", "yes":
		*dst = true
	case "false", "off", "no":
		*dst = false
	default:
		m.errf(n, "%q is not one of true, on, yes, false, off, no", n.args[0].text)
		return false
	}
	return true
}

func (m *kaMapper) errf(n *node, format string, a ...any) {
	m.errs.add(n.pos, n.name, fmt.Sprintf(format, a...))
}

func (m *kaMapper) warnf(n *node, format string, a ...any) {
	m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: n.pos, Directive: n.name, Msg: fmt.Sprintf(format, a...)})
}

// flag checks a directive that takes no argument and no block.
func (m *kaMapper) flag(n *node) bool {
	if n.block {
		m.errf(n, "takes no block")
		return false
	}
	if len(n.args) > 0 {
		m.errf(n, "takes no argument, got %q", n.args[0].text)
		return false
	}
	return true
}

// value returns the single argument of a directive.
func (m *kaMapper) value(n *node) (string, bool) {
	switch {
	case n.block:
		m.errf(n, "takes no block")
	case len(n.args) == 0:
		m.errf(n, "missing value")
	case len(n.args) > 1:
		m.errf(n, "unexpected argument %q after %q", n.args[1].text, n.args[0].text)
	default:
		return n.args[0].text, true
	}
	return "", false
}

// words returns the arguments of a directive that takes one or more.
func (m *kaMapper) words(n *node) ([]string, bool) {
	switch {
	case n.block:
		m.errf(n, "takes no block")
	case len(n.args) == 0:
		m.errf(n, "missing value")
	default:
		return n.argStrings(), true
	}
	return nil, false
}

// block checks a directive that is a block with no arguments.
func (m *kaMapper) block(n *node) bool {
	switch {
	case !n.block:
		m.errf(n, "must be a block: %s { ... }", n.name)
	case len(n.args) > 0:
		m.errf(n, "unexpected argument %q before '{'", n.args[0].text)
	default:
		return true
	}
	return false
}

// parsed reads the single argument of n with parse into dst, and reports
// whether it did; a bad value is an error naming the directive.
func parsed[T any](m *kaMapper, n *node, parse func(string) (T, error), dst *T) bool {
	s, ok := m.value(n)
	if !ok {
		return false
	}
	v, err := parse(s)
	if err != nil {
		m.errf(n, "%s", err)
		return false
	}
	*dst = v
	return true
}

func (m *kaMapper) intValue(n *node, lo, hi int, dst *int) bool {
	return parsed(m, n, func(s string) (int, error) { return parseIntRange(s, lo, hi) }, dst)
}

// wholeSeconds reads an unsigned number of seconds, as keepalived reads
// its garp delays.
func (m *kaMapper) wholeSeconds(n *node, lo, hi time.Duration, dst *time.Duration) bool {
	return parsed(m, n, func(s string) (time.Duration, error) { return parseWholeSeconds(s, lo, hi) }, dst)
}

func (m *kaMapper) seconds(n *node, lo, hi time.Duration, dst *time.Duration) {
	parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, lo, hi) }, dst)
}

func (m *kaMapper) command(n *node, dst *Command) {
	ws, ok := m.words(n)
	if !ok {
		return
	}
	// keepalived joins the words and splits the string again, so that a
	// quoted string is one command line.
	c, err := splitCommand(strings.Join(ws, " "))
	if err != nil {
		m.errf(n, "%s", err)
		return
	}
	*dst = c
}

// firstCommand reads a notify program as keepalived does when a block
// names one twice: the first is kept, the others are ignored with a
// warning.
func (m *kaMapper) firstCommand(n *node, dst *Command) {
	if len(*dst) > 0 {
		m.warnf(n, "script already specified: %q ignored, as keepalived keeps the first", strings.Join(n.argStrings(), " "))
		return
	}
	m.command(n, dst)
}

func (m *kaMapper) unknown(n *node, where string) {
	if msg, ok := unsupported[n.name]; ok {
		m.errf(n, "not supported %s: %s", where, msg)
		return
	}
	if msg, ok := kaRefused[n.name]; ok {
		m.errf(n, "not supported %s: %s", where, msg)
		return
	}
	if note, ok := kaIgnored[n.name]; ok {
		m.warnf(n, "accepted and ignored %s: %s", where, note)
		return
	}
	if kaKeywords[n.name] {
		m.errf(n, "not supported %s: keepalived 2.2.7 knows this keyword, and lbnode does not read it here", where)
		return
	}
	m.warnf(n, "ignored %s, as keepalived 2.2.7 ignores this unknown keyword", where)
}

// unsupported are keepalived directives this reader knows of but does not
// implement; they are errors, not silently ignored.
var unsupported = map[string]string{
	"vrrp_track_process": "process tracking",
	"track_process":      "process tracking",
	"track_bfd":          "BFD tracking (keepalived's BFD process)",
	"bfd_instance":       "BFD instances (keepalived's BFD process)",
	"BFD_CHECK":          "BFD checks",
}

func (m *kaMapper) top(n *node) {
	switch n.name {
	case "global_defs":
		if m.block(n) {
			m.global(n)
		}
	case "vrrp_instance":
		m.vrrpInstance(n)
	case "vrrp_script":
		m.vrrpScript(n)
	case "track_file", "vrrp_track_file":
		m.trackedFile(n)
	case "vrrp_sync_group":
		m.syncGroup(n)
	case "virtual_server":
		m.checkLBKindCase(n)
		m.virtualServer(n)
	case "virtual_server_group":
		m.virtualServerGroup(n)
	case "garp_group":
		m.garpGroup(n)
	case "static_ipaddress":
		m.staticAddresses(n)
	case "static_routes":
		m.staticRoutes(n)
	case "static_rules":
		m.staticRules(n)
	default:
		m.unknown(n, "at the top level")
	}
}

func (m *kaMapper) global(b *node) {
	g := &m.cfg.Global
	for _, n := range b.children {
		switch n.name {
		case "router_id":
			if s, ok := m.value(n); ok {
				g.RouterID = s
			}
		case "enable_script_security":
			if m.flag(n) {
				g.EnableScriptSecurity = true
			}
		case "script_user":
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			if len(ws) > 2 {
				m.errf(n, "want USER [GROUP], got %q", strings.Join(ws, " "))
				continue
			}
			g.ScriptUser, g.ScriptUserPos = ws[0], n.pos
			if len(ws) == 2 {
				g.ScriptGroup = ws[1]
			}
		case "vrrp_garp_master_delay":
			m.wholeSeconds(n, 0, maxDuration, &g.GARPMasterDelay)
		case "vrrp_garp_master_repeat":
			m.intValue(n, 1, maxGARPRepeat, &g.GARPMasterRepeat)
		case "vrrp_garp_master_refresh":
			m.wholeSeconds(n, 0, maxDuration, &g.GARPMasterRefresh)
		case "vrrp_garp_master_refresh_repeat":
			m.refreshRepeat(n, &g.GARPMasterRefreshRepeat)
		case "vrrp_skip_check_adv_addr":
			// global_parser.c: set, whatever follows.
			g.SkipCheckAdvAddr = true
		case "vrrp_startup_delay":
			m.lenientSeconds(n, time.Millisecond, maxDuration, &g.StartupDelay)
		case "vrrp_garp_interval":
			m.lenientSeconds(n, time.Microsecond, maxDuration, &g.GARPInterval)
		case "vrrp_gna_interval":
			m.lenientSeconds(n, time.Microsecond, maxDuration, &g.GNAInterval)
		case "vrrp_down_timer_adverts":
			// keepalived's default, RFC 5798's 3, is the only one lbnode
			// runs.
			if s, ok := m.value(n); ok && s != "3" {
				m.errf(n, "%q: not supported: lbnode's Master_Down_Interval is 3 adverts, as RFC 5798's (and keepalived's default)", s)
			}
		case "vrrp_min_garp":
			m.minGARP(n)
		case "vrrp_garp_lower_prio_delay":
			if m.wholeSeconds(n, 0, maxDuration, &g.GARPLowerPrioDelay) {
				m.globalLowerDelaySet = true
			}
		case "vrrp_garp_lower_prio_repeat":
			if m.intValue(n, 0, maxGARPRepeat, &g.GARPLowerPrioRepeat) {
				m.globalLowerRepeatSet = true
			}
		case "vrrp_lower_prio_no_advert":
			m.trueFalse(n, &g.LowerPrioNoAdvert)
		case "vrrp_notify_priority_changes":
			m.trueFalse(n, &g.NotifyPriorityChanges)
		case "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl":
			m.globalGARPExtraIf(n)
		case "notify_fifo":
			m.fifo(n, &g.NotifyFIFO)
		case "vrrp_notify_fifo":
			m.fifo(n, &g.VRRPNotifyFIFO)
		case "notify_fifo_script":
			m.fifoScript(n, &g.NotifyFIFO)
		case "vrrp_notify_fifo_script":
			m.fifoScript(n, &g.VRRPNotifyFIFO)
		case "lvs_notify_fifo":
			m.fifo(n, &g.LVSNotifyFIFO)
		case "lvs_notify_fifo_script":
			m.fifoScript(n, &g.LVSNotifyFIFO)
		case "lvs_sync_daemon":
			m.lvsSyncDaemon(n)
		case "lvs_timeouts":
			m.lvsTimeouts(n)
		case "lvs_flush":
			m.lvsFlush(n)
		case "lvs_flush_on_stop", "lvs_flush_onstop":
			m.lvsFlushOnStop(n)
		case "vmac_prefix":
			m.vmacPrefix(n)
		case "startup_script", "shutdown_script", "startup_script_timeout", "shutdown_script_timeout":
			m.startStop(n, g)
		default:
			if m.strictGlobal(n) {
				continue
			}
			if isVRRPWireGlobal(n.name) {
				m.vrrpGlobal(n)
				continue
			}
			if m.smtpGlobal(n) {
				continue
			}
			m.warnf(n, "%s", globalNote(n.name))
		}
	}
	m.fifoScriptsWithoutFIFO(g)
}

func (m *kaMapper) vrrpInstance(b *node) {
	if !b.block {
		m.errf(b, "must be a block: vrrp_instance NAME { ... }")
		return
	}
	if len(b.args) != 1 {
		m.errf(b, "want one name, got %d words", len(b.args))
		return
	}
	in := NewVRRPInstance(b.args[0].text)
	in.Pos = b.pos
	// As keepalived, an instance starts from the global settings read so
	// far.
	g := &m.cfg.Global
	in.GARPMasterDelay, in.GARPMasterRepeat, in.GARPMasterRefresh = g.GARPMasterDelay, g.GARPMasterRepeat, g.GARPMasterRefresh
	// vrrp_data.c, alloc_vrrp: the globals read so far.
	in.GARPMasterRefreshRepeat, in.SkipCheckAdvAddr = g.GARPMasterRefreshRepeat, g.SkipCheckAdvAddr
	var set lowerPrioSet
	var extra instExtras
	var promoteAt *node // promote_secondaries
	var vmac vmacState
	var strict strictState
	var unicastAt *node // unicast_src_ip
	var faultNoPeerAt *node
	prioritySet, masterSet := false, false
	advertAt := b.pos
	// The instance's family is set by the first line that implies one
	// (native_ipv6, a VIP, unicast_src_ip); what contradicts it is ignored
	// with a warning, as keepalived does (vrrp_parser.c, vrrp_data.c).
	var fam string
	family := func(a netip.Addr) string {
		if a.Is6() {
			return "IPv6"
		}
		return "IPv4"
	}
	for _, n := range b.children {
		switch n.name {
		case "state":
			if s, ok := m.value(n); ok {
				st, err := exactValue("state", s)
				switch {
				case err != nil:
					m.errf(n, "%s", err)
				case in.State == StateMaster && st == string(StateBackup) && masterSet:
					m.warnf(n, "state previously set as MASTER: BACKUP ignored, as keepalived does")
				default:
					in.State = State(st)
					masterSet = masterSet || in.State == StateMaster
					strict.stateSet = true
				}
			}
		case "interface":
			if s, ok := m.value(n); ok {
				if !validIfName(s) {
					m.errf(n, "%q is not an interface name", s)
				}
				in.Interface = s
			}
		case "virtual_router_id":
			m.intValue(n, 1, 255, &in.VirtualRouterID)
		case "version":
			v := in.Version
			if m.intValue(n, 2, 3, &v) {
				switch {
				case in.Version != 0 && v != in.Version:
					m.warnf(n, "%d conflicts with version %d set before: ignored, as keepalived does", v, in.Version)
				case v == 2 && fam == "IPv6":
					m.warnf(n, "2 conflicts with the IPv6 instance (VRRPv3): ignored, as keepalived does")
				default:
					in.Version = v
				}
			}
		case "native_ipv6":
			if m.flag(n) {
				if fam == "IPv4" {
					m.warnf(n, "cannot be set with IPv4 addresses: ignored, as keepalived does")
					continue
				}
				fam, in.NativeIPv6, in.Version = "IPv6", true, 3
			}
		case "priority":
			m.intValue(n, 1, 255, &in.Priority)
			prioritySet = true
		case "advert_int":
			// keepalived reads 0.01-255 seconds, then rounds to what the
			// version allows (advertIntervals).
			if s, ok := m.value(n); ok {
				d, err := parseDecimalSeconds(s, centisecond, 255*time.Second)
				if err != nil {
					m.errf(n, "%s", err)
				}
				in.AdvertInt, advertAt = d, n.pos
			}
		case "authentication":
			if m.block(n) {
				m.auth(n, &in)
			}
		case "nopreempt":
			// keepalived 2.2.7 sets it whatever follows (vrrp_parser.c,
			// vrrp_nopreempt_handler), "nopreempt 0" too.
			if len(n.args) > 0 && !n.block {
				m.warnf(n, "%q after it ignored: keepalived sets nopreempt whatever follows", strings.Join(n.argStrings(), " "))
				in.Nopreempt = true
			} else if m.flag(n) {
				in.Nopreempt = true
			}
		case "preempt":
			if m.flag(n) {
				in.Nopreempt = false
			}
		case "preempt_delay":
			m.seconds(n, 0, maxPreemptDelay, &in.PreemptDelay)
		case "virtual_ipaddress", "virtual_ipaddress_excluded":
			m.vipLines(n, &in, n.name == "virtual_ipaddress_excluded", &fam)
		case "track_interface":
			if m.block(n) {
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
					in.Track = append(in.Track, t)
				}
			}
		case "track_script":
			m.trackScripts(n, &in)
		case "track_file":
			m.trackFiles(n, &in)
		case "unicast_src_ip", "mcast_src_ip":
			// keepalived 2.2.7 reads both alike (vrrp_parser.c,
			// vrrp_srcip_handler): the adverts' source address.
			if n.name == "unicast_src_ip" {
				unicastAt = n
			}
			if s, ok := m.value(n); ok {
				a, err := parseAddr(s)
				switch {
				case err != nil:
					m.errf(n, "%s", err)
				case fam != "" && family(a) != fam:
					m.warnf(n, "%s is not of the instance's family (%s): ignored, as keepalived does", a, fam)
					continue
				case fam == "":
					fam = family(a)
				}
				in.UnicastSrcIP = a
			}
		case "mcast_dst_ip":
			// vrrp_parser.c, vrrp_mcast_dstip_handler.
			if s, ok := m.value(n); ok {
				a, err := parseAddr(s)
				switch {
				case err != nil:
					m.errf(n, "%s", err)
				case !a.IsMulticast():
					m.warnf(n, "%s is not a multicast address: ignored, as keepalived does", a)
				case fam != "" && family(a) != fam:
					m.warnf(n, "%s is not of the instance's family (%s): ignored, as keepalived does", a, fam)
				case a.Is6() && !a.IsLinkLocalMulticast():
					m.errf(n, "%s: not supported: lbnode sends IPv6 adverts to link-local multicast groups (ff02::/16) only", a)
				default:
					fam = family(a)
					in.MulticastGroup = a
				}
			}
		case "down_timer_adverts":
			// keepalived's default, RFC 5798's 3, is the only one lbnode
			// runs.
			if s, ok := m.value(n); ok && s != "3" {
				m.errf(n, "%q: not supported: lbnode's Master_Down_Interval is 3 adverts, as RFC 5798's (and keepalived's default)", s)
			}
		case "unicast_fault_no_peer":
			faultNoPeerAt = n
		case "unicast_peer":
			if m.block(n) {
				for _, c := range n.children {
					if c.block || len(c.args) > 0 {
						m.errf(c, "want one address per line")
						continue
					}
					a, err := parseAddr(c.name)
					if err != nil {
						m.errs.add(c.pos, "unicast_peer", err.Error())
						continue
					}
					switch f := family(a); {
					case fam == "":
						fam = f
					case f != fam:
						m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: c.pos, Directive: "unicast_peer",
							Msg: fmt.Sprintf("%s is not of the instance's family (%s): ignored, as keepalived does", a, fam)})
						continue
					}
					in.UnicastPeers = append(in.UnicastPeers, a)
				}
			}
		case "notify":
			m.firstCommand(n, &in.Notify)
		case "notify_master":
			m.firstCommand(n, &in.NotifyMaster)
		case "notify_backup":
			m.firstCommand(n, &in.NotifyBackup)
		case "notify_fault":
			m.firstCommand(n, &in.NotifyFault)
		case "notify_stop":
			m.firstCommand(n, &in.NotifyStop)
		case "notify_master_rx_lower_pri":
			m.firstCommand(n, &in.NotifyMasterRxLowerPri)
		case "garp_master_delay":
			m.seconds(n, 0, maxDuration, &in.GARPMasterDelay)
		case "garp_master_repeat":
			m.intValue(n, 1, maxGARPRepeat, &in.GARPMasterRepeat)
		case "garp_master_refresh":
			m.seconds(n, 0, maxDuration, &in.GARPMasterRefresh)
		case "garp_master_refresh_repeat":
			m.refreshRepeat(n, &in.GARPMasterRefreshRepeat)
		case "skip_check_adv_addr":
			m.skipCheckAdvAddr(n, &in)
		case "garp_lower_prio_delay":
			set.delay = m.wholeSeconds(n, 0, maxDuration, &in.GARPLowerPrioDelay) || set.delay
		case "garp_lower_prio_repeat":
			set.repeat = m.intValue(n, 0, maxGARPRepeat, &in.GARPLowerPrioRepeat) || set.repeat
		case "lower_prio_no_advert":
			set.noAdvert = m.trueFalse(n, &in.LowerPrioNoAdvert) || set.noAdvert
		case "lvs_sync_daemon_interface":
			m.lvsSyncDaemonInterface(n, in.Name)
		case "virtual_routes":
			m.virtualRoutes(n, &in)
		case "virtual_rules":
			m.virtualRules(n, &in)
		case "smtp_alert":
			m.smtpAlert(n, "vrrp_instance", in.Pos)
		case "old_unicast_checksum":
			m.oldUnicastChecksum(n, &in)
		case "dont_track_primary":
			m.setFlag(n, &in.DontTrackPrimary)
		case "promote_secondaries":
			m.setFlag(n, &in.PromoteSecondaries)
			promoteAt = n
		case "notify_priority_changes":
			extra.notifySet = m.trueFalse(n, &in.NotifyPriorityChanges) || extra.notifySet
		case "garp_extra_if", "vmac_garp_intvl":
			m.garpExtraIf(n, &extra)
		case "use_vmac":
			m.useVMAC(n, &in, &vmac)
		case "vmac_xmit_base":
			m.vmacXmitBase(n, &vmac)
		default:
			if !m.strictInstance(n, &in, &strict) {
				m.unknown(n, "in vrrp_instance")
			}
		}
	}
	if faultNoPeerAt != nil && len(in.UnicastPeers) == 0 {
		m.errf(faultNoPeerAt, "no unicast_peer: keepalived 2.2.7 would hold the instance in FAULT for ever; lbnode refuses it")
	}
	if unicastAt != nil && len(in.UnicastPeers) == 0 {
		// vrrp.c, vrrp_complete_instance: multicast from that source.
		m.warnf(unicastAt, "(%s) a unicast keyword without any unicast peers: multicast adverts, as keepalived 2.2.7 defaults to multicast (a usage it calls deprecated)", in.Name)
	}
	m.finishVMAC(b, &in, &vmac)
	routeInterfacesTracked(&in)
	m.strictStateEnd(b, &in, &strict, prioritySet)
	for _, w := range applyStateDefaults(&in, prioritySet) {
		m.warnf(b, "%s", w)
	}
	if promoteAt != nil && in.VMAC != nil {
		// vrrp.c, vrrp_complete_instance.
		m.warnf(promoteAt, "ignored with use_vmac, as keepalived does (\"promote_secondaries is automatically set for vmacs - ignoring\")")
		in.PromoteSecondaries = false
	}
	m.cfg.VRRP = append(m.cfg.VRRP, in)
	m.lowerSet = append(m.lowerSet, set)
	m.extras.inst = append(m.extras.inst, extra)
	m.strict = append(m.strict, strict)
	m.advertAt = append(m.advertAt, advertAt)
}

func (m *kaMapper) auth(b *node, in *VRRPInstance) {
	a := &Auth{}
	for _, n := range b.children {
		switch n.name {
		case "auth_type":
			if s, ok := m.value(n); ok {
				t, err := exactValue("auth_type", s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				a.Type = AuthType(t)
			}
		case "auth_pass":
			if s, ok := m.value(n); ok {
				if len(s) > maxAuthPass {
					m.warnf(n, "%q is longer than %d characters; only %q is used, as keepalived does", s, maxAuthPass, s[:maxAuthPass])
					s = s[:maxAuthPass]
				}
				a.Pass = s
			}
		default:
			m.unknown(n, "in authentication")
		}
	}
	if a.Type == "" {
		m.errs.add(b.pos, "authentication", "auth_type missing (PASS or AH)")
	}
	in.Auth = a
}
