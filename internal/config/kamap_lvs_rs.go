package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// realServer maps a real_server block; sets tells, per checker, what the
// checker set itself, and in what the block gives its checkers.
func (m *kaMapper) realServer(b *node) (rs RealServer, sets []checkerSet, in lvsInherit, ok bool) {
	if !b.block {
		m.errf(b, "must be a block: real_server IP PORT { ... }")
		return rs, nil, in, false
	}
	args := b.argStrings()
	if len(args) < 1 || len(args) > 2 {
		m.errf(b, "want IP [PORT], got %q", strings.Join(args, " "))
		return rs, nil, in, false
	}
	a, err := parseAddr(args[0])
	if err != nil {
		m.errf(b, "%s", err)
		return rs, nil, in, false
	}
	var port uint16
	if len(args) == 2 {
		if port, err = parsePort(args[1]); err != nil {
			m.errf(b, "%s", err)
			return rs, nil, in, false
		}
	}
	rs = NewRealServer(netip.AddrPortFrom(a, port))
	rs.Pos = b.pos
	for _, n := range b.children {
		switch n.name {
		case "weight":
			var w int
			if m.intValue(n, 0, maxWeight, &w) {
				rs.Weight = w
				in.weight = &w
			}
		case "inhibit_on_failure":
			v := true
			if m.trueFalse(n, &v) {
				rs.InhibitOnFailure = v
				in.inhibit = &v
			}
		case "alpha":
			v := true
			if m.trueFalse(n, &v) {
				in.alpha = &v
			}
		case "lvs_method":
			if k, tun, ok := m.forwarding(n, "real"); ok {
				rs.LBKind, rs.Tunnel = k, tun
			}
		case "uthreshold", "lthreshold":
			if s, ok := m.value(n); ok {
				v, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					m.errf(n, "invalid real_server %s %q (keepalived 2.2.7 ignores the line)", n.name, s)
					continue
				}
				if n.name == "uthreshold" {
					rs.UThreshold = uint32(v)
				} else {
					rs.LThreshold = uint32(v)
				}
			}
		case "notify_up":
			m.firstLVSCommand(n, &rs.NotifyUp)
		case "notify_down":
			m.firstLVSCommand(n, &rs.NotifyDown)
		case "virtualhost":
			if s, ok := m.value(n); ok {
				in.virtualHost = &s
			}
		case "FILE_CHECK":
			if fc, ok := m.fileCheck(n); ok {
				rs.FileChecks = append(rs.FileChecks, fc)
			}
		case string(TCPCheck), string(HTTPGet), string(SSLGet), string(MiscCheck), string(DNSCheck), string(UDPCheck), string(SMTPCheck), string(PingCheck):
			if !m.block(n) {
				continue
			}
			ck, set := m.checker(n)
			if len(set.hosts) == 0 {
				rs.Checkers = append(rs.Checkers, ck)
				sets = append(sets, set)
				continue
			}
			// keepalived's deprecated SMTP_CHECK host blocks: one
			// checker per host, and the block's own target only when
			// it set a connection setting (check_smtp.c).
			if ck.ConnectIP.IsValid() || ck.ConnectPort != 0 || set.connectTimeout {
				rs.Checkers = append(rs.Checkers, ck)
				sets = append(sets, set)
			}
			for _, h := range set.hosts {
				hc, hs := ck, set
				hc.Pos, hs.pos = h.pos, h.pos
				hc.ConnectIP, hc.ConnectPort, hc.BindTo, hc.BindIf = h.ip, h.port, h.bindTo, h.bindIf
				// A host's timeout is its own, else the real or
				// virtual server's, not the SMTP_CHECK's.
				hs.connectTimeout = h.timeout != 0
				hc.ConnectTimeout = DefaultConnectTimeout
				if hs.connectTimeout {
					hc.ConnectTimeout = h.timeout
				}
				hs.hosts = nil
				rs.Checkers = append(rs.Checkers, hc)
				sets = append(sets, hs)
			}
		case "smtp_alert":
			m.smtpAlert(n, "real_server", rs.Pos)
		default:
			if m.inheritable(n, &in) {
				continue
			}
			m.lvsUnknown(n, "real_server")
		}
	}
	return rs, sets, in, true
}

func (m *kaMapper) checker(b *node) (ck Checker, set checkerSet) {
	kind := CheckKind(b.name)
	ck = NewChecker(kind)
	ck.Pos = b.pos
	set.pos = b.pos
	isHTTP := kind == HTTPGet || kind == SSLGet
	var bindPort *node // where bind_port was set
	for _, n := range b.children {
		name := n.name
		if kind == MiscCheck && (name == "connect_timeout" || name == "connect_port" || name == "connect_ip") {
			// keepalived logs "Unknown keyword" and goes on; the
			// article's configuration has connect_timeout here.
			if _, ok := m.value(n); ok {
				m.warnf(n, "ignored in MISC_CHECK, as keepalived ignores it (use misc_timeout)")
			}
			continue
		}
		switch {
		case name == "connect_ip" && kind != MiscCheck:
			if s, ok := m.value(n); ok {
				a, err := parseAddr(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.ConnectIP = a
			}
		case name == "connect_port" && kind != MiscCheck:
			if s, ok := m.value(n); ok {
				p, err := parsePort(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.ConnectPort = p
			}
		case name == "connect_timeout" && kind != MiscCheck:
			m.seconds(n, time.Millisecond, maxDuration, &ck.ConnectTimeout)
			set.connectTimeout = true
		case name == "retry":
			if m.intValue(n, 0, 1000, &ck.Retry) {
				set.retry = true
			}
		case name == "nb_get_retry" && isHTTP:
			if m.intValue(n, 0, 1000, &ck.Retry) {
				set.retry = true
				m.warnf(n, "deprecated: read as retry, as keepalived reads it")
			}
		case name == "nb_get_retry":
			m.warnf(n, "ignored in %s, as keepalived 2.2.7 ignores this unknown keyword there (use retry)", b.name)
		case name == "delay_before_retry":
			m.seconds(n, 0, maxDuration, &ck.DelayBeforeRetry)
			set.delayBeforeTry = true
		case name == "delay_loop":
			var d time.Duration
			if parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, time.Millisecond, maxDuration) }, &d) {
				set.delayLoop = &d
			}
		case name == "warmup":
			var d time.Duration
			if parsed(m, n, func(s string) (time.Duration, error) { return parseSeconds(s, 0, maxDuration) }, &d) {
				m.warnf(n, "accepted; lbnode starts the checks of one delay loop together where keepalived spreads them over the warmup")
			}
		case name == "log_all_failures":
			v := true
			if m.trueFalse(n, &v) {
				m.warnf(n, "accepted; lbnode logs every health transition and does not log each failure")
			}
		case name == "url" && isHTTP:
			if m.block(n) {
				if u, ok := m.url(n); ok {
					ck.URLs = append(ck.URLs, u)
				}
			}
		case name == "virtualhost" && isHTTP:
			if s, ok := m.value(n); ok {
				ck.VirtualHost, ck.SNIHost = s, s
				set.virtualHost = true
			}
		case name == "misc_path" && kind == MiscCheck:
			m.command(n, &ck.MiscPath)
		case name == "misc_timeout" && kind == MiscCheck:
			m.seconds(n, time.Millisecond, maxDuration, &ck.MiscTimeout)
		case name == "misc_dynamic" && kind == MiscCheck:
			if m.flag(n) {
				ck.MiscDynamic = true
			}
		case (name == "bindto" || name == "bind_if" || name == "bind_port" || name == "fwmark") && kind == PingCheck:
			if _, ok := m.value(n); ok {
				m.warnf(n, "accepted and ignored, as keepalived 2.2.7's PING_CHECK ignores it")
			}
		case name == "bind_port" && kind != MiscCheck:
			if s, ok := m.value(n); ok {
				p, err := parsePort(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.BindPort = p
				bindPort = n
			}
		case name == "fwmark" && kind != MiscCheck:
			if s, ok := m.value(n); ok {
				v, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					m.errf(n, "%q is not a firewall mark (0-4294967295)", s)
				}
				ck.FWMark = uint32(v)
			}
		case name == "http_protocol" && isHTTP:
			if s, ok := m.value(n); ok {
				switch s {
				case "1.0", "1.1", "1.0C":
					ck.HTTPProtocol = s
				case "1.0c":
					ck.HTTPProtocol = "1.0C"
				default:
					m.errf(n, "%q is not 1.0, 1.0C or 1.1", s)
				}
			}
		case name == "enable_sni" && isHTTP:
			v := true
			if m.trueFalse(n, &v) {
				ck.EnableSNI = v
			}
		case name == "fast_recovery" && isHTTP:
			v := true
			if m.trueFalse(n, &v) {
				ck.FastRecovery = v
			}
		case name == "payload" && kind == UDPCheck:
			if ws, ok := m.words(n); ok {
				b, _, err := parseHexString(strings.Join(ws, " "), false)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.UDPPayload = b
			}
		case name == "require_reply" && kind == UDPCheck:
			if n.block {
				m.errf(n, "takes no block")
				continue
			}
			ck.UDPRequireReply = true
			if len(n.args) > 0 {
				b, mask, err := parseHexString(strings.Join(n.argStrings(), " "), true)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.UDPReply, ck.UDPReplyMask = b, mask
			}
		case name == "min_reply_length" && kind == UDPCheck:
			m.intValue(n, 0, 65535, &ck.UDPMinReply)
		case name == "max_reply_length" && kind == UDPCheck:
			m.intValue(n, 0, 65535, &ck.UDPMaxReply)
		case name == "user" && kind == MiscCheck:
			ws, ok := m.words(n)
			if !ok {
				continue
			}
			if len(ws) > 2 {
				m.errf(n, "want USER [GROUP], got %q", strings.Join(ws, " "))
				continue
			}
			ck.MiscUser, ck.MiscGroup, ck.MiscUserPos = ws[0], "", n.pos
			if len(ws) == 2 {
				ck.MiscGroup = ws[1]
			}
		case name == "bindto" && kind != MiscCheck:
			if s, ok := m.value(n); ok {
				a, err := parseAddr(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.BindTo = a
			}
		case name == "bind_if" && kind != MiscCheck:
			if s, ok := m.value(n); ok {
				if !validIfName(s) {
					m.errf(n, "%q is not an interface name", s)
				}
				ck.BindIf = s
			}
		case name == "helo_name" && kind == SMTPCheck:
			if s, ok := m.value(n); ok {
				ck.HeloName = s
			}
		case name == "host" && kind == SMTPCheck:
			if m.block(n) {
				set.hosts = append(set.hosts, m.smtpHost(n))
				m.warnf(n, "deprecated: one more SMTP check of this real server, as keepalived reads it")
			}
		case name == "name" && kind == DNSCheck:
			if s, ok := m.value(n); ok {
				ck.DNSName = s
			}
		case name == "type" && kind == DNSCheck:
			if s, ok := m.value(n); ok {
				t, err := parseDNSType(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				ck.DNSType = t
			}
		default:
			m.lvsUnknown(n, b.name)
		}
	}
	if kind == MiscCheck && len(ck.MiscPath) == 0 {
		m.errs.add(b.pos, b.name, "misc_path missing")
	}
	if bindPort != nil && !ck.BindTo.IsValid() && len(set.hosts) == 0 {
		m.warnf(bindPort, "ignored without bindto, as keepalived 2.2.7 binds a check's socket only to a bindto address")
		ck.BindPort = 0
	}
	if kind == UDPCheck && len(ck.UDPReply) > 0 && ck.UDPMinReply > ck.UDPMaxReply {
		m.warnf(b, "min_reply_length %d > max_reply_length %d: the check always fails, as keepalived warns", ck.UDPMinReply, ck.UDPMaxReply)
	}
	if isHTTP && len(ck.URLs) == 0 {
		m.errs.add(b.pos, b.name, "no url block")
	}
	return ck, set
}

func (m *kaMapper) url(b *node) (URL, bool) {
	var u URL
	var rx regexSet
	for _, n := range b.children {
		switch n.name {
		case "path":
			if s, ok := m.value(n); ok {
				if !strings.HasPrefix(s, "/") {
					m.errf(n, "%q does not start with /", s)
				}
				u.Path = s
			}
		case "digest":
			if s, ok := m.value(n); ok {
				d, err := parseDigest(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				u.Digest = d
			}
		case "status_code":
			if ws, ok := m.words(n); ok {
				r, err := parseStatusCodes(ws)
				if err != nil {
					m.errf(n, "%s", err)
				}
				u.StatusCodes = append(u.StatusCodes, r...)
			}
		case "virtualhost":
			if s, ok := m.value(n); ok {
				u.VirtualHost = s
			}
		case "regex", "regex_no_match", "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack":
			m.regexKeyword(n, &u, &rx)
		default:
			m.lvsUnknown(n, "url")
		}
	}
	m.regexEnd(b, &u, &rx)
	if u.Path == "" {
		m.errs.add(b.pos, "url", "path missing")
		return u, false
	}
	return u, true
}

// smtpHost reads an SMTP_CHECK host block.
func (m *kaMapper) smtpHost(b *node) smtpHostSet {
	h := smtpHostSet{pos: b.pos}
	for _, n := range b.children {
		switch n.name {
		case "connect_ip":
			if s, ok := m.value(n); ok {
				a, err := parseAddr(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				h.ip = a
			}
		case "connect_port":
			if s, ok := m.value(n); ok {
				p, err := parsePort(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				h.port = p
			}
		case "connect_timeout":
			m.seconds(n, time.Millisecond, maxDuration, &h.timeout)
		case "bindto":
			if s, ok := m.value(n); ok {
				a, err := parseAddr(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				h.bindTo = a
			}
		case "bind_if":
			if s, ok := m.value(n); ok {
				if !validIfName(s) {
					m.errf(n, "%q is not an interface name", s)
				}
				h.bindIf = s
			}
		case "retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures":
			m.errf(n, "not supported in an SMTP_CHECK host block: set it in the SMTP_CHECK")
		default:
			m.lvsUnknown(n, "host")
		}
	}
	return h
}
