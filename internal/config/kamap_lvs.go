package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// lvsInherit holds the checker settings keepalived 2.2.7 lets a
// virtual_server or real_server block give to the checkers below it: a
// checker's own setting wins, then its real server's, then its virtual
// server's, then the checker kind's default (check_data.c,
// validate_check_config). nil is "not set here".
type lvsInherit struct {
	retry          *int
	delayBeforeTry *time.Duration
	connectTimeout *time.Duration
	delayLoop      *time.Duration
	virtualHost    *string
	// sniHost is the virtual server's virtualhost: SSL_GET's enable_sni
	// skips the real server's (check_ssl.c).
	sniHost *string
	alpha   *bool
	inhibit *bool
	weight  *int
}

// checkerSet records which settings a checker block gave itself.
type checkerSet struct {
	retry, delayBeforeTry, connectTimeout, virtualHost bool
	delayLoop                                          *time.Duration
	pos                                                Pos
	// hosts are SMTP_CHECK host blocks.
	hosts []smtpHostSet
}

// smtpHostSet is an SMTP_CHECK host block: its target and timeout (zero:
// not set).
type smtpHostSet struct {
	pos     Pos
	ip      netip.Addr
	port    uint16
	timeout time.Duration
	bindTo  netip.Addr
	bindIf  string
}

// over returns the setting of the inner block if set, else the outer's.
func over[T any](inner, outer *T) *T {
	if inner != nil {
		return inner
	}
	return outer
}

func (m *kaMapper) virtualServer(b *node) {
	if !b.block {
		m.errf(b, "must be a block: virtual_server IP PORT { ... }, virtual_server fwmark N { ... } or virtual_server group NAME { ... }")
		return
	}
	vs := NewVirtualServer()
	vs.Pos = b.pos
	args := b.argStrings()
	switch {
	case len(args) == 2 && args[0] == "fwmark":
		v, err := parseIntRange(args[1], 1, 1<<31-1)
		if err != nil {
			m.errf(b, "fwmark %s", err)
			return
		}
		vs.FWMark = uint32(v)
	case len(args) == 2 && args[0] == "group":
		vs.Group = args[1]
	case len(args) == 1 || len(args) == 2:
		a, err := parseAddr(args[0])
		if err != nil {
			m.errf(b, "%s", err)
			return
		}
		var p uint16
		if len(args) == 2 {
			if p, err = parsePort(args[1]); err != nil {
				m.errf(b, "%s", err)
				return
			}
		}
		vs.Addr = netip.AddrPortFrom(a, p)
	default:
		m.errf(b, "want IP PORT, fwmark N or group NAME, got %q", strings.Join(args, " "))
		return
	}
	var in lvsInherit
	var haSuspend, ops *node
	algoSet := false // keepalived reads the sh and mh flags with the scheduler set above them
	kindSet := false // a real or sorry server takes the method set above it, else the last
	type rsCheckers struct{ sets []checkerSet }
	var rsSets []rsCheckers
	var rsInherit []lvsInherit
	for _, n := range b.children {
		switch n.name {
		case "lb_algo", "lvs_sched":
			if s, ok := m.value(n); ok {
				v, err := parseLBAlgo(s)
				if err != nil {
					m.warnf(n, "%s: ignored, as keepalived ignores an invalid scheduler", err)
					continue
				}
				vs.LBAlgo = v
				algoSet = true
			}
		case "ops":
			if m.flag(n) {
				vs.OnePacket = true
				ops = n
			}
		case "hashed":
			if m.flag(n) {
				m.warnf(n, "accepted and ignored: keepalived 2.2.7 sets no flag for it (IPVS marks every service hashed itself)")
			}
		case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			if m.flag(n) {
				m.schedFlag(n, &vs, algoSet)
			}
		case "lb_kind", "lvs_method":
			if k, tun, ok := m.forwarding(n, "virtual"); ok {
				vs.LBKind, vs.Tunnel, kindSet = k, tun, true
			}
		case "sorry_server_lvs_method":
			if vs.SorryServer == nil {
				m.errf(n, "sorry_server forwarding used without sorry_server (keepalived 2.2.7 ignores the line)")
				continue
			}
			if k, tun, ok := m.forwarding(n, "sorry"); ok {
				vs.SorryServer.LBKind, vs.SorryServer.Tunnel = k, tun
			}
		case "persistence_engine":
			if s, ok := m.value(n); ok {
				if len(s) > maxPEName {
					m.warnf(n, "persistence_name too long, truncating - %s (as keepalived truncates it to %d bytes)", s, maxPEName)
					s = s[:maxPEName]
				}
				vs.PersistenceEngine = s
			}
		case "ip_family":
			m.ipFamily(n, &vs)
		case "protocol":
			if s, ok := m.value(n); ok {
				v, err := parseProtocol(s)
				if err != nil {
					m.warnf(n, "%s: ignored, as keepalived ignores an unknown protocol", err)
					continue
				}
				vs.Protocol = v
			}
		case "delay_loop":
			m.seconds(n, time.Millisecond, maxDuration, &vs.DelayLoop)
		case "persistence_timeout":
			if n.block || len(n.args) > 1 {
				m.value(n) // reports the error
				continue
			}
			if len(n.args) == 0 {
				vs.PersistenceTimeout = DefaultPersistence
				continue
			}
			if n.args[0].text == "0" {
				m.warnf(n, "0 is out of range 1-2678400: ignored, as keepalived ignores it (the service is not persistent)")
				continue
			}
			m.seconds(n, time.Second, maxDuration, &vs.PersistenceTimeout)
		case "persistence_granularity":
			if s, ok := m.value(n); ok {
				g, err := parseGranularity(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				vs.PersistenceGranularity = g
				if vs.PersistenceTimeout == 0 {
					// keepalived makes the service persistent.
					vs.PersistenceTimeout = DefaultPersistence
				}
			}
		case "sorry_server":
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			if len(ws) > 2 {
				m.errf(n, "want IP [PORT], got %q", strings.Join(ws, " "))
				continue
			}
			a, err := parseAddr(ws[0])
			if err != nil {
				m.errf(n, "%s", err)
				continue
			}
			var p uint16
			if len(ws) == 2 {
				if p, err = parsePort(ws[1]); err != nil {
					m.errf(n, "%s", err)
					continue
				}
			}
			vs.SorryServer = &SorryServer{Pos: n.pos, Addr: netip.AddrPortFrom(a, p)}
			if kindSet {
				vs.SorryServer.LBKind, vs.SorryServer.Tunnel = vs.LBKind, vs.Tunnel
			}
		case "sorry_server_inhibit":
			if m.flag(n) {
				if vs.SorryServer == nil {
					m.warnf(n, "ignored: used before or without sorry_server, as keepalived ignores it")
					continue
				}
				vs.SorryServer.Inhibit = true
			}
		case "quorum":
			m.intValue(n, 1, 1<<31-1, &vs.Quorum)
		case "hysteresis":
			m.intValue(n, 0, 1<<31-1, &vs.Hysteresis)
		case "quorum_up":
			m.firstLVSCommand(n, &vs.QuorumUp)
		case "quorum_down":
			m.firstLVSCommand(n, &vs.QuorumDown)
		case "alpha":
			if m.flag(n) {
				vs.Alpha = true
			}
		case "omega":
			if m.flag(n) {
				vs.Omega = true
			}
		case "ha_suspend":
			if m.flag(n) {
				vs.HASuspend = true
				haSuspend = n
			}
		case "virtualhost":
			if s, ok := m.value(n); ok {
				in.virtualHost = &s
			}
		case "inhibit_on_failure":
			if m.flag(n) {
				t := true
				in.inhibit = &t
			}
		case "weight":
			var w int
			if m.intValue(n, 1, maxWeight, &w) {
				in.weight = &w
			}
		case "real_server":
			rs, sets, rin, ok := m.realServer(n)
			if ok && rs.LBKind == "" && kindSet {
				rs.LBKind, rs.Tunnel = vs.LBKind, vs.Tunnel
			}
			if ok {
				vs.RealServers = append(vs.RealServers, rs)
				rsSets = append(rsSets, rsCheckers{sets})
				rsInherit = append(rsInherit, rin)
			}
		case "smtp_alert":
			m.smtpAlert(n, "virtual_server", vs.Pos)
		default:
			if m.inheritable(n, &in) {
				continue
			}
			m.lvsUnknown(n, "virtual_server")
		}
	}
	if vs.Protocol == "" && vs.FWMark == 0 && vs.Group == "" {
		m.warnf(b, "no protocol set: UDP, as keepalived defaults to")
		vs.Protocol = UDP
	}
	if vs.Protocol == "" && vs.Group == "" {
		vs.Protocol = TCP // fwmark: ignored by IPVS
	}
	// A method not set when a real or sorry server was read is the
	// virtual server's last; one the same as that is left empty (the
	// virtual server's).
	for i := range vs.RealServers {
		rs := &vs.RealServers[i]
		if rs.LBKind == vs.LBKind && rs.Tunnel == vs.Tunnel {
			rs.LBKind, rs.Tunnel = "", Tunnel{}
		}
	}
	if s := vs.SorryServer; s != nil && s.LBKind == vs.LBKind && s.Tunnel == vs.Tunnel {
		s.LBKind, s.Tunnel = "", Tunnel{}
	}
	m.lvsPorts(b, &vs)
	if haSuspend != nil {
		m.lvs.haSuspend = append(m.lvs.haSuspend, vsAt{len(m.cfg.VirtualServers), haSuspend})
	}
	if ops != nil {
		if vs.Group != "" {
			m.lvs.ops = append(m.lvs.ops, vsAt{len(m.cfg.VirtualServers), ops})
		} else {
			m.opsNeedsUDP(ops, &vs)
		}
	}
	// Real servers and their checkers take the settings they did not
	// give themselves.
	for i := range vs.RealServers {
		rs := &vs.RealServers[i]
		rin := rsInherit[i]
		if rin.weight == nil && in.weight != nil {
			rs.Weight = *in.weight
		}
		if rin.inhibit == nil && in.inhibit != nil {
			rs.InhibitOnFailure = *in.inhibit
		}
		rs.Alpha = vs.Alpha
		if rin.alpha != nil {
			rs.Alpha = *rin.alpha
		}
		eff := lvsInherit{
			retry:          over(rin.retry, in.retry),
			delayBeforeTry: over(rin.delayBeforeTry, in.delayBeforeTry),
			connectTimeout: over(rin.connectTimeout, in.connectTimeout),
			delayLoop:      over(rin.delayLoop, in.delayLoop),
			virtualHost:    over(rin.virtualHost, in.virtualHost),
			sniHost:        in.virtualHost,
		}
		m.resolveCheckers(&vs, rs, rsSets[i].sets, eff)
	}
	m.cfg.VirtualServers = append(m.cfg.VirtualServers, vs)
}

// resolveCheckers gives a real server's checkers the settings they
// inherit, and the real server the delay loop of its checkers when it
// differs from the virtual server's.
func (m *kaMapper) resolveCheckers(vs *VirtualServer, rs *RealServer, sets []checkerSet, in lvsInherit) {
	loop := vs.DelayLoop
	if in.delayLoop != nil {
		loop = *in.delayLoop
	}
	var own *time.Duration
	for k := range rs.Checkers {
		ck, set := &rs.Checkers[k], sets[k]
		l := loop
		if set.delayLoop != nil {
			l = *set.delayLoop
			if own != nil && *own != l {
				m.errs.add(set.pos, string(ck.Kind), "delay_loop "+fmtDur(l)+" differs from "+fmtDur(*own)+" of another checker of real_server "+rs.Addr.String()+": not supported, give the checkers of one real server one delay_loop")
			}
			own = &l
		}
		if !set.retry && in.retry != nil {
			ck.Retry = *in.retry
		}
		if !set.connectTimeout && in.connectTimeout != nil && ck.Kind != MiscCheck {
			ck.ConnectTimeout = *in.connectTimeout
		}
		if !set.delayBeforeTry {
			switch {
			case in.delayBeforeTry != nil:
				ck.DelayBeforeRetry = *in.delayBeforeTry
			case ck.Kind == HTTPGet || ck.Kind == SSLGet:
				ck.DelayBeforeRetry = 3 * time.Second // keepalived's HTTP default
			case ck.Kind == DNSCheck:
				ck.DelayBeforeRetry = l // keepalived's DNS default: the delay loop
			}
		}
		if !set.virtualHost && in.virtualHost != nil && (ck.Kind == HTTPGet || ck.Kind == SSLGet) {
			ck.VirtualHost = *in.virtualHost
		}
		if !set.virtualHost && in.sniHost != nil && (ck.Kind == HTTPGet || ck.Kind == SSLGet) {
			ck.SNIHost = *in.sniHost
		}
		if ck.Kind == MiscCheck && ck.MiscTimeout == 0 {
			ck.MiscTimeout = l // keepalived's MISC_CHECK timeout defaults to the delay loop
		}
	}
	switch {
	case own != nil && *own != vs.DelayLoop:
		rs.DelayLoop = *own
	case own == nil && loop != vs.DelayLoop:
		rs.DelayLoop = loop
	}
}

// inheritable reads a setting a virtual_server or real_server block
// gives its checkers, and reports whether n was one.
func (m *kaMapper) inheritable(n *node, in *lvsInherit) bool {
	switch n.name {
	case "retry":
		var r int
		if m.intValue(n, 1, 1000, &r) {
			in.retry = &r
		}
	case "delay_before_retry":
		var d time.Duration
		if parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, 0, maxDuration) }, &d) {
			in.delayBeforeTry = &d
		}
	case "connect_timeout":
		var d time.Duration
		if parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, time.Millisecond, maxDuration) }, &d) {
			in.connectTimeout = &d
		}
	case "delay_loop":
		var d time.Duration
		if parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, time.Millisecond, maxDuration) }, &d) {
			in.delayLoop = &d
		}
	case "warmup":
		var d time.Duration
		if parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, 0, maxDuration) }, &d) {
			m.warnf(n, "accepted; lbnode starts the checks of one delay loop together where keepalived spreads them over the warmup")
		}
	case "nb_get_retry":
		m.warnf(n, "unknown keyword here: ignored, as keepalived 2.2.7 ignores it (use retry)")
	default:
		return false
	}
	return true
}

// schedFlag reads a scheduler flag keyword as keepalived 2.2.7 does
// (check_parser.c, lbflags_handler): flag-1..3 whatever the scheduler;
// sh-port and sh-fallback only when the scheduler set above them is sh,
// mh-port and mh-fallback only when it is mh, and otherwise ignored with
// a warning.
func (m *kaMapper) schedFlag(n *node, vs *VirtualServer, algoSet bool) {
	f, _, err := parseSchedFlag(n.name, vs.LBAlgo)
	switch {
	case err != nil && !algoSet:
		m.warnf(n, "ignored: applies to the %s scheduler only, and no lb_algo comes before it, as keepalived ignores it", n.name[:2])
	case err != nil:
		m.warnf(n, "ignored: %s, as keepalived ignores it", err)
	default:
		vs.SchedFlags |= f
	}
}

// opsNeedsUDP clears one-packet scheduling, as keepalived does
// (check_data.c, validate_check_config), where the virtual server has
// addresses and a protocol other than UDP.
func (m *kaMapper) opsNeedsUDP(n *node, vs *VirtualServer) {
	addrs := vs.Group == "" && vs.FWMark == 0 || len(vs.GroupAddrs) > 0
	if !addrs || vs.Protocol == UDP {
		return
	}
	if vs.Group != "" && len(vs.GroupFWMarks) > 0 {
		m.warnf(n, "one-packet scheduling requires UDP, not %s: cleared for the whole group %s, its fwmarks included, as keepalived clears it", vs.Protocol, vs.Group)
	} else {
		m.warnf(n, "one-packet scheduling requires UDP, not %s: cleared, as keepalived clears it", vs.Protocol)
	}
	vs.OnePacket = false
}

// firstLVSCommand reads a quorum or notify program; as keepalived does,
// a second one is ignored with a warning.
func (m *kaMapper) firstLVSCommand(n *node, dst *Command) {
	if len(*dst) > 0 {
		m.warnf(n, "script already specified: %q ignored, as keepalived keeps the first", strings.Join(n.argStrings(), " "))
		return
	}
	m.command(n, dst)
}

// lvsPorts corrects ports as keepalived does (check_data.c,
// validate_check_config): an address service with port 0 becomes
// persistent; a real server without a port takes the service's; with DR
// or TUN a real server's port that differs from the service's is reset
// to it, and a fwmark service's real servers lose theirs, each with a
// warning.
func (m *kaMapper) lvsPorts(b *node, vs *VirtualServer) {
	if vs.Group != "" {
		return
	}
	if vs.FWMark == 0 && vs.Addr.Port() == 0 && vs.PersistenceTimeout == 0 {
		m.warnf(b, "port 0 is valid only for persistent services: persistence_timeout %s set, as keepalived sets it", fmtDur(DefaultPersistence))
		vs.PersistenceTimeout = DefaultPersistence
	}
	for i := range vs.RealServers {
		rs := &vs.RealServers[i]
		port := rs.Addr.Port()
		switch {
		case rs.Kind(vs) == LBKindNAT:
			if vs.FWMark == 0 && port == 0 {
				rs.Addr = netip.AddrPortFrom(rs.Addr.Addr(), vs.Addr.Port())
			}
		case vs.FWMark != 0:
			if port != 0 {
				m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: rs.Pos, Directive: "real_server", Msg: fmt.Sprintf("port %d with fwmark and %s: cleared, as keepalived clears it (its checks still connect to port %d)", port, rs.Kind(vs), port)})
				rs.Addr = netip.AddrPortFrom(rs.Addr.Addr(), 0)
				rs.CheckPort = port
			}
		case port == 0:
			rs.Addr = netip.AddrPortFrom(rs.Addr.Addr(), vs.Addr.Port())
		case port != vs.Addr.Port():
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: rs.Pos, Directive: "real_server", Msg: fmt.Sprintf("port %d differs from the virtual server's %d with %s: reset, as keepalived resets it (its checks still connect to port %d)", port, vs.Addr.Port(), rs.Kind(vs), port)})
			rs.Addr = netip.AddrPortFrom(rs.Addr.Addr(), vs.Addr.Port())
			rs.CheckPort = port
		}
	}
}
