package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// keepalived's static_ipaddress, static_routes, static_rules and, in a
// vrrp_instance, virtual_routes and virtual_rules, read as keepalived
// 2.2.7 reads them (vrrp_ipaddress.c alloc_ipaddress, vrrp_iproute.c
// alloc_route, vrrp_iprule.c alloc_rule). Each line is one entry.
//
// What keepalived skips with an error because an address in it does not
// parse (the samples' `to 192.168.100./24`) is skipped here too, with a
// warning that says so. A keyword keepalived implements and this reader
// does not is refused, naming it.

// firstRulePriority is the preference keepalived gives the first rule
// without one (vrrp_iprule.c, RULE_START_PRIORITY); the next get one
// less, per family.
const firstRulePriority = 16384

// RTProtoKeepalived is the routing protocol keepalived, and lbnode, mark
// their routes and rules with (RTPROT_KEEPALIVED): `ip route` shows
// "proto keepalived".
const RTProtoKeepalived = 18

// lines calls fn with the words of each line of block n.
func (m *kaMapper) lines(n *node, fn func(c *node, words []string)) {
	if !m.block(n) {
		return
	}
	for _, c := range n.children {
		if c.block {
			m.errf(c, "takes no block")
			continue
		}
		fn(c, append([]string{c.name}, c.argStrings()...))
	}
}

// lineError is a reader's verdict on one line: refused (skip false), or
// skipped as keepalived skips it (skip true, with keepalived's message).
type lineError struct {
	msg  string
	skip bool
}

func refuse(format string, a ...any) *lineError {
	return &lineError{msg: fmt.Sprintf(format, a...)}
}

// report adds e as an error or, for a line keepalived skips, a warning.
func (m *kaMapper) report(c *node, block string, e *lineError) {
	if e.skip {
		m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: c.pos, Directive: block, Msg: e.msg})
		return
	}
	m.errs.add(c.pos, block, e.msg)
}

func (m *kaMapper) staticAddresses(n *node) {
	m.lines(n, func(c *node, words []string) {
		a, warnings, e := parseStaticAddress(words)
		if e != nil {
			m.report(c, "static_ipaddress", e)
			return
		}
		for _, w := range warnings {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: c.pos, Directive: "static_ipaddress", Msg: w})
		}
		a.Pos = c.pos
		m.cfg.StaticAddresses = append(m.cfg.StaticAddresses, a)
	})
}

func (m *kaMapper) routes(n *node, dst *[]Route, warn []string) {
	tracked := false
	m.lines(n, func(c *node, words []string) {
		r, warnings, e := parseRoute(words)
		for _, w := range warnings {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: c.pos, Directive: n.name, Msg: w})
		}
		if e != nil {
			m.report(c, n.name, e)
			return
		}
		r.Pos = c.pos
		tracked = tracked || !r.NoTrack
		*dst = append(*dst, r)
	})
	if tracked && len(warn) > 0 {
		m.warnf(n, "%s", strings.Join(warn, " "))
	}
}

func (m *kaMapper) rules(n *node, dst *[]Rule, warn []string) {
	tracked := false
	m.lines(n, func(c *node, words []string) {
		r, prioSet, e := parseRule(words)
		if e != nil {
			m.report(c, n.name, e)
			return
		}
		r.Pos = c.pos
		if !prioSet {
			fam := 0
			if r.IPv6 {
				fam = 1
			}
			r.Priority = firstRulePriority - m.rulesUnnumbered[fam]
			m.rulesUnnumbered[fam]++
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: c.pos, Directive: n.name,
				Msg: fmt.Sprintf("no preference: %d, as keepalived gives it (keepalived: \"Rule has no preference specified - setting to %d. This is probably not what you want.\")", r.Priority, r.Priority)})
		}
		tracked = tracked || !r.NoTrack
		*dst = append(*dst, r)
	})
	if tracked && len(warn) > 0 {
		m.warnf(n, "%s", strings.Join(warn, " "))
	}
}

// notWatchedVirtual is the warning on a virtual_routes or virtual_rules
// block whose entries keepalived would watch.
var (
	notWatchedVirtual = []string{"lbnode does not watch these entries once added: one deleted behind its back stays deleted,",
		"where keepalived moves the MASTER to BACKUP; write no_track on a line to say that is wanted."}
)

func (m *kaMapper) staticRoutes(n *node) { m.routes(n, &m.cfg.StaticRoutes, nil) }
func (m *kaMapper) staticRules(n *node)  { m.rules(n, &m.cfg.StaticRules, nil) }

func (m *kaMapper) virtualRoutes(n *node, in *VRRPInstance) {
	m.routes(n, &in.VirtualRoutes, notWatchedVirtual)
}

func (m *kaMapper) virtualRules(n *node, in *VRRPInstance) {
	m.rules(n, &in.VirtualRules, notWatchedVirtual)
}

// routeInterfacesTracked makes an instance track, as keepalived does
// (vrrp.c, vrrp_complete_instance), the interface of each of its tracked
// virtual routes: while it is down the instance is in FAULT.
func routeInterfacesTracked(in *VRRPInstance) {
	for _, r := range in.VirtualRoutes {
		if r.NoTrack || r.Dev == "" || r.Dev == in.Interface {
			continue
		}
		if slices.ContainsFunc(in.Track, func(t TrackInterface) bool { return t.Name == r.Dev }) {
			continue
		}
		in.Track = append(in.Track, TrackInterface{Name: r.Dev})
	}
}

// ipWord parses an address with an optional /LEN as keepalived's
// parse_ipaddress does: IPv6 when it holds a ':', a missing length is the
// full one. ok is false for a word that is no address.
func ipWord(s string) (p netip.Prefix, ok bool, e *lineError) {
	addr, length, hasLen := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return netip.Prefix{}, false, nil
	}
	bits := a.BitLen()
	if hasLen {
		n, err := strconv.Atoi(length)
		if err != nil || n < 0 || n > a.BitLen() || length != strconv.Itoa(n) {
			// keepalived uses the full length with a warning.
			return netip.Prefix{}, true, refuse("%q: %q is not a prefix length 0-%d (keepalived 2.2.7 would use /%d)", s, length, a.BitLen(), a.BitLen())
		}
		bits = n
	}
	return netip.PrefixFrom(a, bits), true, nil
}

// looksLikeAddress reports whether a word that does not parse was meant
// as an address (keepalived reads it as one and skips the line).
func looksLikeAddress(s string) bool {
	return strings.ContainsAny(s, ".:/") || s != "" && s[0] >= '0' && s[0] <= '9'
}

func addrFamily(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// parseStaticAddress reads a static_ipaddress line (see parseAddrLine).
func parseStaticAddress(words []string) (StaticAddress, []string, *lineError) {
	v, warnings, e := parseAddrLine(words, true)
	if e != nil {
		return StaticAddress{}, nil, e
	}
	if v.Dev == "" {
		return StaticAddress{}, nil, refuse("%s has no dev: keepalived adds it to its default_interface (eth0 unless set); write dev", words[0])
	}
	return StaticAddress{Prefix: v.Prefix, Dev: v.Dev, Label: v.Label, Scope: v.Scope, Broadcast: v.Broadcast, AddrSettings: v.AddrSettings}, warnings, nil
}

// scopeValue reads a scope as /etc/iproute2/rt_scopes names it, or a
// number.
func scopeValue(s string) (uint8, bool) {
	switch s {
	case "global", "universe":
		return 0, true
	case "site":
		return 200, true
	case "link":
		return 253, true
	case "host":
		return 254, true
	case "nowhere":
		return 255, true
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return uint8(n), err == nil
}

// tableValue reads a routing table: a number or one of the names every
// rt_tables file has.
func tableValue(s string) (uint32, *lineError) {
	switch s {
	case "main":
		return 254, nil
	case "local":
		return 255, nil
	case "default":
		return 253, nil
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, refuse("table %q is not a number (names from /etc/iproute2/rt_tables other than main, local and default are not read)", s)
	}
	if n == 0 {
		return 0, refuse("table 0 is not a table")
	}
	return uint32(n), nil
}

// routeKeywords are the route options keepalived 2.2.7 reads and this
// reader does not.
var routeKeywords = []string{"from", "tos", "dsfield", "protocol", "encap", "expires", "mtu", "hoplimit", "advmss", "rtt", "rttvar",
	"reordering", "window", "cwnd", "ssthresh", "realms", "rto_min", "initcwnd", "initrwnd", "features", "quickack",
	"congctl", "pref", "ttl-propagate", "fastopen_no_cookie", "nexthop", "track_group", "vrf", "as"}

var routeTypes = map[string]RouteType{"unicast": RouteUnicast, "blackhole": RouteBlackhole, "unreachable": RouteUnreachable, "prohibit": RouteProhibit}

// otherRouteTypes are the kernel's other route types, which keepalived
// reads and this reader refuses.
var otherRouteTypes = []string{"local", "broadcast", "anycast", "multicast", "throw", "nat", "xresolve"}

// parseRoute reads a route line. warnings are keepalived's for what it
// accepts (gw, or); the line is refused or skipped with e.
func parseRoute(words []string) (r Route, warnings []string, e *lineError) {
	r = Route{Type: RouteUnicast, Table: 254, Mode: RoutePrepend}
	fam := ""
	setFam := func(f string) *lineError {
		switch fam {
		case "":
			fam = f
		case f:
		default:
			return refuse("mixes IPv4 and IPv6 (keepalived 2.2.7: \"Cannot mix IPv4 and IPv6 addresses for route\", and skips it)")
		}
		return nil
	}
	// addr reads the address after keyword at i+1.
	addr := func(i int, what string) (netip.Addr, *lineError) {
		if i+1 >= len(words) {
			return netip.Addr{}, refuse("%s: missing address", words[i])
		}
		a, err := netip.ParseAddr(words[i+1])
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return a, &lineError{skip: true, msg: fmt.Sprintf("%s %q is not an address: keepalived 2.2.7 skips the route (\"invalid route %s address %s\"), and so does lbnode", words[i], words[i+1], what, words[i+1])}
		}
		return a, setFam(addrFamily(a))
	}
	value := func(i int) (string, *lineError) {
		if i+1 >= len(words) {
			return "", refuse("%s: missing value", words[i])
		}
		return words[i+1], nil
	}
	haveDst := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "inet", "inet6":
			if e := setFam(map[string]string{"inet": "IPv4", "inet6": "IPv6"}[w]); e != nil {
				return r, warnings, e
			}
		case "src":
			if r.Src, e = addr(i, "src"); e != nil {
				return r, warnings, e
			}
			i++
		case "via", "gw":
			if w == "gw" {
				warnings = append(warnings, `"gw" is deprecated, as keepalived says ("\"gw\" for routes is deprecated. Please use \"via\""); read as via`)
			}
			if i+1 < len(words) && (words[i+1] == "inet" || words[i+1] == "inet6") {
				return r, warnings, refuse("via %s: a gateway of another family is not supported", words[i+1])
			}
			if r.Via, e = addr(i, "via"); e != nil {
				return r, warnings, e
			}
			i++
		case "or":
			warnings = append(warnings, `"or" is deprecated, as keepalived says ("\"or\" for routes is deprecated. Please use \"nexthop\""); read as a multipath route`)
			if len(r.Nexthops) > 0 {
				return r, warnings, refuse(`a second "or" (keepalived 2.2.7 ignores it: "\"or\" route already specified - ignoring subsequent")`)
			}
			a, e := addr(i, "or")
			if e != nil {
				if e.skip {
					e.msg = fmt.Sprintf("or %q is not an address: keepalived 2.2.7 skips the route (\"Invalid \\\"or\\\" address %s\"), and so does lbnode", words[i+1], words[i+1])
				}
				return r, warnings, e
			}
			if !r.Via.IsValid() {
				return r, warnings, refuse(`"or" without a via before it`)
			}
			r.Nexthops = []netip.Addr{r.Via, a}
			r.Via = netip.Addr{}
			i++
		case "dev", "oif":
			v, e := value(i)
			if e != nil {
				return r, warnings, e
			}
			if !validIfName(v) {
				return r, warnings, refuse("dev %q is not an interface name", v)
			}
			r.Dev = v
			i++
		case "scope":
			v, e := value(i)
			if e != nil {
				return r, warnings, e
			}
			s, ok := scopeValue(v)
			if !ok {
				return r, warnings, refuse("scope %q is not global, site, link, host, nowhere or a number 0-255 (keepalived 2.2.7 skips the route)", v)
			}
			r.Scope = s
			i++
		case "table":
			v, e := value(i)
			if e != nil {
				return r, warnings, e
			}
			if r.Table, e = tableValue(v); e != nil {
				return r, warnings, e
			}
			i++
		case "metric", "priority", "preference":
			v, e := value(i)
			if e != nil {
				return r, warnings, e
			}
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return r, warnings, refuse("%s %q is not a number 0-4294967295 (keepalived 2.2.7 skips the route)", w, v)
			}
			r.Metric, r.MetricSet = uint32(n), true
			i++
		case "onlink":
			r.OnLink = true
		case "no_track":
			r.NoTrack = true
		case "add", "append", "prepend":
			r.Mode = RouteMode(w)
		default:
			if slices.Contains(routeKeywords, w) {
				return r, warnings, refuse("%q is not supported in a route", w)
			}
			if w == "to" {
				if i+1 >= len(words) {
					return r, warnings, refuse("to: missing destination")
				}
				i++
				w = words[i]
			}
			if t, ok := routeTypes[w]; ok {
				r.Type = t
				if i+1 >= len(words) {
					return r, warnings, refuse("%s: missing destination", w)
				}
				i++
				w = words[i]
			} else if slices.Contains(otherRouteTypes, w) {
				return r, warnings, refuse("route type %q is not supported (unicast, blackhole, unreachable, prohibit)", w)
			}
			second := refuse("%q: a second destination (keepalived 2.2.7 keeps the last)", w)
			switch w {
			case "default", "any", "all":
				if haveDst {
					return r, warnings, second
				}
				haveDst = true
				continue
			case "default6":
				return r, warnings, refuse(`"default6" is deprecated: write inet6 default`)
			}
			p, ok, e := ipWord(w)
			switch {
			case e != nil:
				return r, warnings, e
			case !ok && looksLikeAddress(w):
				return r, warnings, &lineError{skip: true, msg: fmt.Sprintf("%q is not an address/prefix: keepalived 2.2.7 skips the route (\"unknown route keyword %s\"), and so does lbnode", w, w)}
			case !ok:
				return r, warnings, refuse("%q is not a route keyword this reader knows (keepalived 2.2.7 skips the route: \"unknown route keyword %s\")", w, w)
			}
			if haveDst {
				return r, warnings, second
			}
			if e := setFam(addrFamily(p.Addr())); e != nil {
				return r, warnings, e
			}
			if p.Masked() != p {
				return r, warnings, refuse("%s has host bits set: the kernel refuses such a route (write %s)", p, p.Masked())
			}
			r.Dst, haveDst = p, true
		}
	}
	if !haveDst {
		return r, warnings, refuse("no destination (keepalived 2.2.7: \"Route must have a destination\", and skips it)")
	}
	if !r.Dst.IsValid() { // default, any, all
		if fam == "IPv6" {
			r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	if r.Type != RouteUnicast && (r.Via.IsValid() || len(r.Nexthops) > 0) {
		return r, warnings, refuse("a %s route has no gateway", r.Type)
	}
	return r, warnings, nil
}

// ruleKeywords are the rule options keepalived 2.2.7 reads and this
// reader does not.
var ruleKeywords = []string{"tos", "dsfield", "fwmark", "realms", "suppress_prefixlength", "sup_pl", "suppress_ifgroup", "sup_group",
	"dev", "iif", "oif", "tunnel-id", "uidrange", "l3mdev", "protocol", "ipproto", "sport", "dport", "track_group",
	"type", "goto", "nop", "blackhole", "unreachable", "prohibit"}

// parseRule reads a rule line; prioSet is false when it names no
// preference.
func parseRule(words []string) (r Rule, prioSet bool, e *lineError) {
	fam := ""
	setFam := func(f string) *lineError {
		switch fam {
		case "":
			fam = f
		case f:
		default:
			return refuse("mixes IPv4 and IPv6 (keepalived 2.2.7: \"rule specification has mixed IPv4 and IPv6\", and skips it)")
		}
		return nil
	}
	prefix := func(i int) (netip.Prefix, *lineError) {
		if i+1 >= len(words) {
			return netip.Prefix{}, refuse("%s: missing address", words[i])
		}
		s := words[i+1]
		switch s {
		case "default", "any", "all":
			return netip.Prefix{}, nil
		}
		p, ok, e := ipWord(s)
		switch {
		case e != nil:
			return p, e
		case !ok:
			return p, &lineError{skip: true, msg: fmt.Sprintf("%s %q is not an address/prefix: keepalived 2.2.7 skips the rule (\"Invalid rule %s address %s\"), and so does lbnode", words[i], s, words[i], s)}
		}
		return p, setFam(addrFamily(p.Addr()))
	}
	haveTable := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "inet", "inet6":
			if e := setFam(map[string]string{"inet": "IPv4", "inet6": "IPv6"}[w]); e != nil {
				return r, prioSet, e
			}
		case "from":
			if r.From, e = prefix(i); e != nil {
				return r, prioSet, e
			}
			i++
		case "to":
			if r.To, e = prefix(i); e != nil {
				return r, prioSet, e
			}
			i++
		case "table", "lookup":
			if i+1 >= len(words) {
				return r, prioSet, refuse("%s: missing value", w)
			}
			if haveTable {
				return r, prioSet, refuse("a second table (keepalived 2.2.7: \"Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule\", and skips it)")
			}
			if r.Table, e = tableValue(words[i+1]); e != nil {
				return r, prioSet, e
			}
			haveTable = true
			i++
		case "not":
			r.Invert = true
		case "preference", "order", "priority":
			if i+1 >= len(words) {
				return r, prioSet, refuse("%s: missing value", w)
			}
			n, err := strconv.ParseUint(words[i+1], 0, 32)
			if err != nil {
				return r, prioSet, refuse("%s %q is not a number 0-4294967295 (keepalived 2.2.7 skips the rule)", w, words[i+1])
			}
			r.Priority, prioSet = uint32(n), true
			i++
		case "no_track":
			r.NoTrack = true
		default:
			if slices.Contains(ruleKeywords, w) {
				return r, prioSet, refuse("%q is not supported in a rule (supported: from, to, table, priority, not, no_track)", w)
			}
			return r, prioSet, refuse("%q is not a rule keyword (keepalived 2.2.7: \"Unknown rule option %s\", and skips the rule)", w, w)
		}
	}
	if !haveTable {
		return r, prioSet, refuse("no table (keepalived 2.2.7: \"No action specified for rule - ignoring\")")
	}
	r.IPv6 = fam == "IPv6"
	return r, prioSet, nil
}

// validateIPConfig checks the static addresses, routes and rules and each
// instance's virtual routes and rules.
func validateIPConfig(l *errList, c *Config) {
	for _, a := range c.StaticAddresses {
		if !a.Prefix.IsValid() {
			l.add(a.Pos, "static_ipaddress", "missing address")
		}
		if !validIfName(a.Dev) {
			l.add(a.Pos, "static_ipaddress", fmt.Sprintf("%s: dev %q is not an interface name", a.Prefix, a.Dev))
		}
		if a.Broadcast.IsValid() && !(a.Broadcast.Is4() && a.Prefix.Addr().Is4()) {
			l.add(a.Pos, "static_ipaddress", fmt.Sprintf("%s: brd %s is not an IPv4 broadcast address", a.Prefix, a.Broadcast))
		}
		if msg := a.AddrSettings.check(a.Prefix, a.Broadcast); msg != "" {
			l.add(a.Pos, "static_ipaddress", fmt.Sprintf("%s: %s", a.Prefix, msg))
		}
	}
	routes := func(where string, rs []Route) {
		for _, r := range rs {
			bad := func(format string, a ...any) { l.add(r.Pos, where, fmt.Sprintf(format, a...)) }
			switch {
			case !r.Dst.IsValid():
				bad("missing destination")
				continue
			case r.Table == 0:
				bad("%s: table 0 is not a table", r.Dst)
			case r.Dev != "" && !validIfName(r.Dev):
				bad("%s: dev %q is not an interface name", r.Dst, r.Dev)
			}
			if _, ok := routeTypes[string(r.Type)]; !ok {
				bad("%s: type %q is not unicast, blackhole, unreachable or prohibit", r.Dst, r.Type)
			}
			switch r.Mode {
			case RoutePrepend, RouteAdd, RouteAppend:
			default:
				bad("%s: mode %q is not prepend, add or append", r.Dst, r.Mode)
			}
			if len(r.Nexthops) == 1 || len(r.Nexthops) > 0 && r.Via.IsValid() {
				bad("%s: want one via or two nexthops or more", r.Dst)
			}
			for _, a := range append([]netip.Addr{r.Src, r.Via}, r.Nexthops...) {
				if a.IsValid() && a.Is4() != r.Dst.Addr().Is4() {
					bad("%s: %s is not of the destination's family", r.Dst, a)
				}
			}
		}
	}
	rules := func(where string, rs []Rule) {
		for _, r := range rs {
			for _, p := range []netip.Prefix{r.From, r.To} {
				if p.IsValid() && p.Addr().Is6() != r.IPv6 {
					l.add(r.Pos, where, fmt.Sprintf("%s is not of the rule's family", p))
				}
			}
			if r.Table == 0 {
				l.add(r.Pos, where, "table 0 is not a table")
			}
		}
	}
	routes("static_routes", c.StaticRoutes)
	rules("static_rules", c.StaticRules)
	for i := range c.VRRP {
		routes("vrrp_instance "+c.VRRP[i].Name+": virtual_routes", c.VRRP[i].VirtualRoutes)
		rules("vrrp_instance "+c.VRRP[i].Name+": virtual_rules", c.VRRP[i].VirtualRules)
	}
}
