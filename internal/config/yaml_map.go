package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

func (y *yReader) config(f *yFile) *Config {
	c := &Config{Source: y.file, Format: FormatYAML, Global: NewGlobal()}
	if g := f.Global; g != nil {
		y.str(&g.RouterID, "global.router_id", &c.Global.RouterID)
		y.boolean(&g.EnableScriptSecurity, "global.enable_script_security", &c.Global.EnableScriptSecurity)
		y.str(&g.ScriptUser, "global.script_user", &c.Global.ScriptUser)
		y.str(&g.ScriptGroup, "global.script_group", &c.Global.ScriptGroup)
		y.boolean(&g.DontReleaseIPVS, "global.dont_release_ipvs", &c.Global.DontReleaseIPVS)
		y.intv(&g.VRRPVersion, "global.vrrp_version", 2, 3, &c.Global.VRRPVersion)
		y.addr(&g.VRRPMcastGroup4, "global.vrrp_mcast_group4", &c.Global.MulticastGroup4)
		y.addr(&g.VRRPMcastGroup6, "global.vrrp_mcast_group6", &c.Global.MulticastGroup6)
		switch {
		case !absent(&g.ScriptUser):
			c.Global.ScriptUserPos = y.pos(&g.ScriptUser)
		case !absent(&g.ScriptGroup):
			c.Global.ScriptUserPos = y.pos(&g.ScriptGroup)
		}
	}
	for i := range f.VRRP {
		path := fmt.Sprintf("vrrp_instances[%d]", i)
		in := y.vrrp(&f.VRRP[i], path)
		// The interval its version allows, named at its line.
		if n := &f.VRRP[i].AdvertInt; !absent(n) && in.AdvertInt != 0 {
			switch d := in.AdvertInt; {
			case in.vrrpVersion(c.Global) == 2 && d%time.Second != 0:
				y.errf(n, path+".advert_int", "%s is not a whole number of seconds 1-255, as VRRPv2 needs (VRRPv3 takes 0.01-40.95s)", fmtDur(d))
			case in.vrrpVersion(c.Global) == 3 && (d%centisecond != 0 || d > maxAdvertIntV3):
				y.errf(n, path+".advert_int", "%s is not a whole number of centiseconds 0.01-40.95s, as VRRPv3 needs", fmtDur(d))
			}
		}
		c.VRRP = append(c.VRRP, in)
	}
	for i := range f.VirtualServers {
		c.VirtualServers = append(c.VirtualServers, y.virtualServer(&f.VirtualServers[i], fmt.Sprintf("virtual_servers[%d]", i)))
	}
	if f.NAT != nil {
		c.NAT = y.nat(f.NAT)
	}
	if f.Nginx != nil {
		c.Nginx = y.nginx(f.Nginx)
	}
	if f.BGP != nil {
		c.BGP = y.bgp(f.BGP)
	}
	c.Warnings = y.warnings
	if !absent(&f.Sysctls) {
		c.Sysctls = []Sysctl{}
		for _, kv := range y.pairs(&f.Sysctls, "sysctls") {
			k, ok1 := y.scalar(kv[0], "sysctls")
			v, ok2 := y.scalar(kv[1], "sysctls."+kv[0].Value)
			if ok1 && ok2 {
				if !validSysctlKey(k) {
					y.errf(kv[0], "sysctls", "%q is not a sysctl name (such as net.ipv4.ip_nonlocal_bind)", k)
				}
				c.Sysctls = append(c.Sysctls, Sysctl{Key: k, Value: v})
			}
		}
	}
	if c.BGP != nil {
		c.Warnings = append(c.Warnings, bgpWarnings(c.BGP, c.VirtualServers, c.Sysctls)...)
	}
	return c
}

func (y *yReader) vrrp(v *yVRRP, path string) VRRPInstance {
	in := NewVRRPInstance("")
	in.Pos = y.firstPos(&v.Name, &v.Interface, &v.State, &v.VirtualRouterID, &v.Priority, &v.AdvertInt, &v.Version, &v.NativeIPv6,
		&v.Nopreempt, &v.PreemptDelay, &v.VirtualIPAddress, &v.TrackInterface, &v.UnicastSrcIP,
		&v.UnicastPeer, &v.Notify, &v.NotifyMaster, &v.NotifyBackup, &v.NotifyFault, &v.NotifyStop, &v.NotifyMasterRxLowerPri,
		&v.GARPMasterDelay, &v.GARPMasterRepeat, &v.GARPMasterRefresh)
	p := func(f string) string { return path + "." + f }
	if absent(&v.Name) {
		y.errs.add(in.Pos, p("name"), "missing")
	}
	y.str(&v.Name, p("name"), &in.Name)
	if absent(&v.Interface) {
		y.errs.add(in.Pos, p("interface"), "missing")
	}
	y.str(&v.Interface, p("interface"), &in.Interface)
	if s, ok := y.scalar(&v.State, p("state")); ok {
		st, err := parseState(s)
		if err != nil {
			y.errf(&v.State, p("state"), "%s", err)
		}
		in.State = st
	}
	if absent(&v.VirtualRouterID) {
		y.errs.add(in.Pos, p("virtual_router_id"), "missing")
	}
	y.intv(&v.VirtualRouterID, p("virtual_router_id"), 1, 255, &in.VirtualRouterID)
	y.intv(&v.Priority, p("priority"), 1, 255, &in.Priority)
	// Seconds ("1", "0.05") or a duration ("50ms"); Validate checks what
	// the instance's version allows.
	y.seconds(&v.AdvertInt, p("advert_int"), centisecond, 255*time.Second, &in.AdvertInt)
	y.intv(&v.Version, p("version"), 2, 3, &in.Version)
	y.boolean(&v.NativeIPv6, p("native_ipv6"), &in.NativeIPv6)
	if a := v.Authentication; a != nil {
		in.Auth = &Auth{}
		if s, ok := y.scalar(&a.AuthType, p("authentication.auth_type")); ok {
			t, err := parseAuthType(s)
			if err != nil {
				y.errf(&a.AuthType, p("authentication.auth_type"), "%s", err)
			}
			in.Auth.Type = t
		} else if absent(&a.AuthType) {
			y.errs.add(in.Pos, p("authentication.auth_type"), "missing (PASS or AH)")
		}
		if s, ok := y.scalar(&a.AuthPass, p("authentication.auth_pass")); ok {
			if len(s) > maxAuthPass {
				y.errf(&a.AuthPass, p("authentication.auth_pass"), "%q is longer than %d characters", s, maxAuthPass)
			}
			in.Auth.Pass = s
		}
	}
	y.boolean(&v.Nopreempt, p("nopreempt"), &in.Nopreempt)
	y.seconds(&v.PreemptDelay, p("preempt_delay"), 0, maxPreemptDelay, &in.PreemptDelay)
	for i, it := range y.list(&v.VirtualIPAddress, p("virtual_ipaddress")) {
		ip := fmt.Sprintf("%s[%d]", p("virtual_ipaddress"), i)
		if s, ok := y.scalar(it, ip); ok {
			vip, warnings, err := parseVIP(strings.Fields(s))
			if err != nil {
				y.errf(it, ip, "%s", err)
				continue
			}
			for _, w := range warnings {
				y.warnings = append(y.warnings, Warning{Pos: y.pos(it), Directive: ip, Msg: w})
			}
			in.VirtualIPs = append(in.VirtualIPs, vip)
		}
	}
	for i, it := range y.list(&v.TrackInterface, p("track_interface")) {
		ip := fmt.Sprintf("%s[%d]", p("track_interface"), i)
		if s, ok := y.scalar(it, ip); ok {
			t, err := parseTrack(strings.Fields(s))
			if err != nil {
				y.errf(it, ip, "%s", err)
				continue
			}
			in.Track = append(in.Track, t)
		}
	}
	y.addr(&v.UnicastSrcIP, p("unicast_src_ip"), &in.UnicastSrcIP)
	for i, it := range y.list(&v.UnicastPeer, p("unicast_peer")) {
		var a netip.Addr
		y.addr(it, fmt.Sprintf("%s[%d]", p("unicast_peer"), i), &a)
		if a.IsValid() {
			in.UnicastPeers = append(in.UnicastPeers, a)
		}
	}
	if in.UnicastSrcIP.IsValid() && len(in.UnicastPeers) == 0 {
		y.errf(&v.UnicastSrcIP, p("unicast_src_ip"), "%s is set without unicast_peer", in.UnicastSrcIP)
	}
	y.command(&v.Notify, p("notify"), &in.Notify)
	y.command(&v.NotifyMaster, p("notify_master"), &in.NotifyMaster)
	y.command(&v.NotifyBackup, p("notify_backup"), &in.NotifyBackup)
	y.command(&v.NotifyFault, p("notify_fault"), &in.NotifyFault)
	y.command(&v.NotifyStop, p("notify_stop"), &in.NotifyStop)
	y.command(&v.NotifyMasterRxLowerPri, p("notify_master_rx_lower_pri"), &in.NotifyMasterRxLowerPri)
	y.seconds(&v.GARPMasterDelay, p("garp_master_delay"), 0, maxDuration, &in.GARPMasterDelay)
	y.intv(&v.GARPMasterRepeat, p("garp_master_repeat"), 1, maxGARPRepeat, &in.GARPMasterRepeat)
	y.seconds(&v.GARPMasterRefresh, p("garp_master_refresh"), 0, maxDuration, &in.GARPMasterRefresh)
	y.seconds(&v.GARPLowerPrioDelay, p("garp_lower_prio_delay"), 0, maxDuration, &in.GARPLowerPrioDelay)
	y.intv(&v.GARPLowerPrioRepeat, p("garp_lower_prio_repeat"), 0, maxGARPRepeat, &in.GARPLowerPrioRepeat)
	y.boolean(&v.LowerPrioNoAdvert, p("lower_prio_no_advert"), &in.LowerPrioNoAdvert)
	for _, w := range applyStateDefaults(&in, !absent(&v.Priority)) {
		y.warnings = append(y.warnings, Warning{Pos: in.Pos, Directive: path, Msg: w})
	}
	return in
}

func (y *yReader) virtualServer(v *yVS, path string) VirtualServer {
	vs := NewVirtualServer()
	vs.Pos = y.firstPos(&v.Address, &v.FWMark, &v.Protocol, &v.LBAlgo, &v.SchedFlags, &v.OPS, &v.LBKind, &v.DelayLoop, &v.PersistenceTimeout, &v.PersistenceGranularity)
	p := func(f string) string { return path + "." + f }
	if s, ok := y.scalar(&v.Address, p("address")); ok {
		ap, err := parseAddrPort(s)
		if err != nil {
			y.errf(&v.Address, p("address"), "%s", err)
		}
		vs.Addr = ap
	}
	if s, ok := y.scalar(&v.FWMark, p("fwmark")); ok {
		n, err := parseIntRange(s, 1, 1<<31-1)
		if err != nil {
			y.errf(&v.FWMark, p("fwmark"), "%s", err)
		}
		vs.FWMark = uint32(n)
	}
	if absent(&v.Address) && absent(&v.FWMark) {
		y.errs.add(vs.Pos, p("address"), "missing (address: IP:PORT, or fwmark: N)")
	}
	if s, ok := y.scalar(&v.Protocol, p("protocol")); ok {
		pr, err := parseProtocol(s)
		if err != nil {
			y.errf(&v.Protocol, p("protocol"), "%s", err)
		}
		vs.Protocol = pr
	} else if absent(&v.Protocol) {
		if absent(&v.FWMark) {
			y.errs.add(vs.Pos, p("protocol"), "missing (TCP, UDP or SCTP)")
		}
		vs.Protocol = TCP
	}
	if s, ok := y.scalar(&v.LBAlgo, p("lb_algo")); ok {
		a, err := parseLBAlgo(s)
		if err != nil {
			y.errf(&v.LBAlgo, p("lb_algo"), "%s", err)
		}
		vs.LBAlgo = a
	}
	if s, ok := y.scalar(&v.LBKind, p("lb_kind")); ok {
		k, err := parseLBKind(s)
		if err != nil {
			y.errf(&v.LBKind, p("lb_kind"), "%s", err)
		}
		vs.LBKind = k
	}
	y.schedFlags(&v.SchedFlags, p("sched_flags"), &vs)
	y.boolean(&v.OPS, p("ops"), &vs.OnePacket)
	if vs.OnePacket && vs.FWMark == 0 && vs.Protocol != UDP && vs.Protocol != "" {
		y.errf(&v.OPS, p("ops"), "one-packet scheduling requires protocol UDP, not %s", vs.Protocol)
	}
	y.seconds(&v.DelayLoop, p("delay_loop"), time.Millisecond, maxDuration, &vs.DelayLoop)
	y.seconds(&v.PersistenceTimeout, p("persistence_timeout"), 0, maxDuration, &vs.PersistenceTimeout)
	if s, ok := y.scalar(&v.PersistenceGranularity, p("persistence_granularity")); ok {
		g, err := parseGranularity(s)
		if err != nil {
			y.errf(&v.PersistenceGranularity, p("persistence_granularity"), "%s", err)
		}
		vs.PersistenceGranularity = g
	}
	for i := range v.RealServers {
		vs.RealServers = append(vs.RealServers, y.realServer(&v.RealServers[i], fmt.Sprintf("%s.real_servers[%d]", path, i), vs.DelayLoop))
	}
	return vs
}

// schedFlags reads sched_flags: a list of keepalived's scheduler flag
// keywords, flag-1..3 for any scheduler, sh-port and sh-fallback with
// lb_algo sh, mh-port and mh-fallback with lb_algo mh.
func (y *yReader) schedFlags(n *yaml.Node, path string, vs *VirtualServer) {
	for i, it := range y.list(n, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		s, ok := y.scalar(it, ip)
		if !ok {
			continue
		}
		f, known, err := parseSchedFlag(s, vs.LBAlgo)
		switch {
		case !known:
			y.errf(it, ip, "%q is not a scheduler flag (flag-1, flag-2, flag-3, sh-port, sh-fallback, mh-port, mh-fallback)", s)
		case err != nil:
			y.errf(it, ip, "%s", err)
		case vs.SchedFlags&f != 0:
			y.errf(it, ip, "%q sets a flag set already (%s)", s, strings.Join(vs.SchedFlags.Names(vs.LBAlgo), ", "))
		default:
			vs.SchedFlags |= f
		}
	}
}

func (y *yReader) realServer(r *yRS, path string, delayLoop time.Duration) RealServer {
	rs := NewRealServer(netip.AddrPort{})
	rs.Pos = y.firstPos(&r.Address, &r.Weight, &r.InhibitOnFailure)
	p := func(f string) string { return path + "." + f }
	if s, ok := y.scalar(&r.Address, p("address")); ok {
		ap, err := parseAddrPort(s)
		if err != nil {
			// An address without a port, for fwmark services.
			a, err2 := parseAddr(s)
			if err2 != nil {
				y.errf(&r.Address, p("address"), "%s", err)
			}
			ap = netip.AddrPortFrom(a, 0)
		}
		rs.Addr = ap
	} else if absent(&r.Address) {
		y.errs.add(rs.Pos, p("address"), "missing")
	}
	y.intv(&r.Weight, p("weight"), 0, maxWeight, &rs.Weight)
	y.boolean(&r.InhibitOnFailure, p("inhibit_on_failure"), &rs.InhibitOnFailure)
	for i := range r.Checkers {
		if ck, ok := y.checker(&r.Checkers[i], fmt.Sprintf("%s.checkers[%d]", path, i), delayLoop); ok {
			rs.Checkers = append(rs.Checkers, ck)
		}
	}
	return rs
}

func (y *yReader) checker(c *yChecker, path string, delayLoop time.Duration) (Checker, bool) {
	p := func(f string) string { return path + "." + f }
	pos := y.firstPos(&c.Type, &c.ConnectIP, &c.ConnectPort, &c.ConnectTimeout, &c.Retry, &c.DelayBeforeRetry,
		&c.VirtualHost, &c.MiscPath, &c.MiscTimeout, &c.MiscDynamic, &c.Name, &c.QueryType)
	s, ok := y.scalar(&c.Type, p("type"))
	if !ok {
		if absent(&c.Type) {
			y.errs.add(pos, p("type"), "missing (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK or UDP_CHECK)")
		}
		return Checker{}, false
	}
	kind, err := parseCheckKind(s)
	if err != nil {
		y.errf(&c.Type, p("type"), "%s", err)
		return Checker{}, false
	}
	ck := NewChecker(kind)
	ck.Pos = pos
	not := func(n *yaml.Node, field string, cond bool) bool {
		if !absent(n) && !cond {
			y.errf(n, p(field), "not valid in %s", kind)
			return true
		}
		return false
	}
	isHTTP := kind == HTTPGet || kind == SSLGet
	isMisc := kind == MiscCheck
	if !not(&c.ConnectIP, "connect_ip", !isMisc) {
		y.addr(&c.ConnectIP, p("connect_ip"), &ck.ConnectIP)
	}
	if !not(&c.ConnectPort, "connect_port", !isMisc) {
		if s, ok := y.scalar(&c.ConnectPort, p("connect_port")); ok {
			port, err := parsePort(s)
			if err != nil {
				y.errf(&c.ConnectPort, p("connect_port"), "%s", err)
			}
			ck.ConnectPort = port
		}
	}
	if !not(&c.ConnectTimeout, "connect_timeout", !isMisc) {
		y.seconds(&c.ConnectTimeout, p("connect_timeout"), time.Millisecond, maxDuration, &ck.ConnectTimeout)
	}
	y.intv(&c.Retry, p("retry"), 0, 1000, &ck.Retry)
	y.seconds(&c.DelayBeforeRetry, p("delay_before_retry"), 0, maxDuration, &ck.DelayBeforeRetry)
	if c.URL != nil && !isHTTP {
		y.errs.add(pos, p("url"), fmt.Sprintf("not valid in %s", kind))
	}
	for i := range c.URL {
		if !isHTTP {
			break
		}
		u := &c.URL[i]
		up := fmt.Sprintf("%s.url[%d]", path, i)
		var url URL
		if absent(&u.Path) {
			y.errs.add(y.firstPos(&u.Digest, &u.StatusCode), up+".path", "missing")
		}
		y.str(&u.Path, up+".path", &url.Path)
		if s, ok := y.scalar(&u.Digest, up+".digest"); ok {
			d, err := parseDigest(s)
			if err != nil {
				y.errf(&u.Digest, up+".digest", "%s", err)
			}
			url.Digest = d
		}
		if s, ok := y.scalar(&u.StatusCode, up+".status_code"); ok {
			r, err := parseStatusCodes(strings.Fields(s))
			if err != nil {
				y.errf(&u.StatusCode, up+".status_code", "%s", err)
			}
			url.StatusCodes = r
		}
		ck.URLs = append(ck.URLs, url)
	}
	if !not(&c.VirtualHost, "virtualhost", isHTTP) {
		y.str(&c.VirtualHost, p("virtualhost"), &ck.VirtualHost)
	}
	if !not(&c.MiscPath, "misc_path", isMisc) {
		if isMisc && absent(&c.MiscPath) {
			y.errs.add(pos, p("misc_path"), "missing")
		}
		y.command(&c.MiscPath, p("misc_path"), &ck.MiscPath)
	}
	if !not(&c.MiscTimeout, "misc_timeout", isMisc) {
		if isMisc {
			ck.MiscTimeout = delayLoop
		}
		y.seconds(&c.MiscTimeout, p("misc_timeout"), time.Millisecond, maxDuration, &ck.MiscTimeout)
	}
	if !not(&c.MiscDynamic, "misc_dynamic", isMisc) {
		y.boolean(&c.MiscDynamic, p("misc_dynamic"), &ck.MiscDynamic)
	}
	if !not(&c.Name, "name", kind == DNSCheck) {
		y.str(&c.Name, p("name"), &ck.DNSName)
	}
	if !not(&c.QueryType, "query_type", kind == DNSCheck) {
		if s, ok := y.scalar(&c.QueryType, p("query_type")); ok {
			t, err := parseDNSType(s)
			if err != nil {
				y.errf(&c.QueryType, p("query_type"), "%s", err)
			}
			ck.DNSType = t
		}
	}
	return ck, true
}

func (y *yReader) nat(n *yNAT) *NATSwitch {
	ns := &NATSwitch{Pos: y.firstPos(&n.VRRPInstance, &n.Interface, &n.VIPs, &n.LocalAddress)}
	y.str(&n.VRRPInstance, "nat.vrrp_instance", &ns.Instance)
	if absent(&n.Interface) {
		y.errs.add(ns.Pos, "nat.interface", "missing")
	}
	y.str(&n.Interface, "nat.interface", &ns.Interface)
	for i, it := range y.list(&n.VIPs, "nat.vips") {
		var a netip.Addr
		y.addr(it, fmt.Sprintf("nat.vips[%d]", i), &a)
		if a.IsValid() {
			ns.VIPs = append(ns.VIPs, a)
		}
	}
	y.addr(&n.LocalAddress, "nat.local_address", &ns.LocalAddress)
	return ns
}
