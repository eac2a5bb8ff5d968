package config

import (
	"net/netip"
	"strings"
	"time"
)

func (m *kaMapper) virtualServer(b *node) {
	if !b.block {
		m.errf(b, "must be a block: virtual_server IP PORT { ... } or virtual_server fwmark N { ... }")
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
		m.errf(b, "not supported: virtual server groups")
		return
	case len(args) == 2:
		a, err := parseAddr(args[0])
		if err != nil {
			m.errf(b, "%s", err)
			return
		}
		p, err := parsePort(args[1])
		if err != nil {
			m.errf(b, "%s", err)
			return
		}
		vs.Addr = netip.AddrPortFrom(a, p)
	default:
		m.errf(b, "want IP PORT or fwmark N, got %q", strings.Join(args, " "))
		return
	}
	miscTimeoutSet := map[int]bool{}
	for _, n := range b.children {
		switch n.name {
		case "lb_algo", "lvs_sched":
			if s, ok := m.value(n); ok {
				v, err := parseLBAlgo(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				vs.LBAlgo = v
			}
		case "lb_kind", "lvs_method":
			if s, ok := m.value(n); ok {
				v, err := parseLBKind(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				vs.LBKind = v
			}
		case "protocol":
			if s, ok := m.value(n); ok {
				v, err := parseProtocol(s)
				if err != nil {
					m.errf(n, "%s", err)
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
			m.seconds(n, time.Second, maxDuration, &vs.PersistenceTimeout)
		case "persistence_granularity":
			if s, ok := m.value(n); ok {
				g, err := parseGranularity(s)
				if err != nil {
					m.errf(n, "%s", err)
				}
				vs.PersistenceGranularity = g
			}
		case "real_server":
			rs, misc, ok := m.realServer(n)
			if ok {
				for k := range misc {
					miscTimeoutSet[len(vs.RealServers)<<16|k] = true
				}
				vs.RealServers = append(vs.RealServers, rs)
			}
		default:
			if checkerDefaults[n.name] {
				m.errf(n, "not supported in virtual_server: set it in each checker")
				continue
			}
			m.unknown(n, "in virtual_server")
		}
	}
	if vs.Protocol == "" {
		if vs.FWMark == 0 {
			m.warnf(b, "no protocol set: UDP, as keepalived defaults to")
			vs.Protocol = UDP
		} else {
			vs.Protocol = TCP
		}
	}
	// keepalived's MISC_CHECK timeout defaults to the delay loop.
	for i := range vs.RealServers {
		for k := range vs.RealServers[i].Checkers {
			ck := &vs.RealServers[i].Checkers[k]
			if ck.Kind == MiscCheck && !miscTimeoutSet[i<<16|k] {
				ck.MiscTimeout = vs.DelayLoop
			}
		}
	}
	m.cfg.VirtualServers = append(m.cfg.VirtualServers, vs)
}

// realServer maps a real_server block; misc holds the indexes of the
// MISC_CHECKs that set misc_timeout.
func (m *kaMapper) realServer(b *node) (rs RealServer, misc map[int]bool, ok bool) {
	if !b.block {
		m.errf(b, "must be a block: real_server IP PORT { ... }")
		return rs, nil, false
	}
	args := b.argStrings()
	if len(args) < 1 || len(args) > 2 {
		m.errf(b, "want IP [PORT], got %q", strings.Join(args, " "))
		return rs, nil, false
	}
	a, err := parseAddr(args[0])
	if err != nil {
		m.errf(b, "%s", err)
		return rs, nil, false
	}
	var port uint16
	if len(args) == 2 {
		if port, err = parsePort(args[1]); err != nil {
			m.errf(b, "%s", err)
			return rs, nil, false
		}
	}
	rs = NewRealServer(netip.AddrPortFrom(a, port))
	rs.Pos = b.pos
	misc = map[int]bool{}
	for _, n := range b.children {
		switch n.name {
		case "weight":
			m.intValue(n, 0, maxWeight, &rs.Weight)
		case "inhibit_on_failure":
			if m.flag(n) {
				rs.InhibitOnFailure = true
			}
		case string(TCPCheck), string(HTTPGet), string(SSLGet), string(MiscCheck), string(DNSCheck), string(UDPCheck):
			if !m.block(n) {
				continue
			}
			ck, timeoutSet := m.checker(n)
			if timeoutSet {
				misc[len(rs.Checkers)] = true
			}
			rs.Checkers = append(rs.Checkers, ck)
		case "delay_loop":
			m.errf(n, "not supported in real_server: set it in the virtual_server")
		default:
			if checkerDefaults[n.name] {
				m.errf(n, "not supported in real_server: set it in each checker")
				continue
			}
			m.unknown(n, "in real_server")
		}
	}
	return rs, misc, true
}

func (m *kaMapper) checker(b *node) (ck Checker, miscTimeoutSet bool) {
	kind := CheckKind(b.name)
	ck = NewChecker(kind)
	ck.Pos = b.pos
	isHTTP := kind == HTTPGet || kind == SSLGet
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
		case name == "retry" || (name == "nb_get_retry" && isHTTP):
			m.intValue(n, 0, 1000, &ck.Retry)
		case name == "delay_before_retry":
			m.seconds(n, 0, maxDuration, &ck.DelayBeforeRetry)
		case name == "url" && isHTTP:
			if m.block(n) {
				if u, ok := m.url(n); ok {
					ck.URLs = append(ck.URLs, u)
				}
			}
		case name == "virtualhost" && isHTTP:
			if s, ok := m.value(n); ok {
				ck.VirtualHost = s
			}
		case name == "misc_path" && kind == MiscCheck:
			m.command(n, &ck.MiscPath)
		case name == "misc_timeout" && kind == MiscCheck:
			m.seconds(n, time.Millisecond, maxDuration, &ck.MiscTimeout)
			miscTimeoutSet = true
		case name == "misc_dynamic" && kind == MiscCheck:
			if m.flag(n) {
				ck.MiscDynamic = true
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
			m.unknown(n, "in "+b.name)
		}
	}
	if kind == MiscCheck && len(ck.MiscPath) == 0 {
		m.errs.add(b.pos, b.name, "misc_path missing")
	}
	if isHTTP && len(ck.URLs) == 0 {
		m.errs.add(b.pos, b.name, "no url block")
	}
	return ck, miscTimeoutSet
}

func (m *kaMapper) url(b *node) (URL, bool) {
	var u URL
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
		default:
			m.unknown(n, "in url")
		}
	}
	if u.Path == "" {
		m.errs.add(b.pos, "url", "path missing")
		return u, false
	}
	return u, true
}
