package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Validate checks a configuration as a whole: ranges, required fields and
// consistency between items (unique names, virtual router IDs and
// services, references between the NAT switch, nginx and VRRP). It returns
// nil or an Errors; each error names the item (with its position when it
// was read from a file), the field and the value.
//
// The readers call Validate; call it again after changing a Config in code.
func Validate(c *Config) error {
	var l errList
	if len(c.VRRP) == 0 && len(c.VirtualServers) == 0 && c.NAT == nil && c.Nginx == nil {
		msg := "empty configuration: no vrrp instance, virtual server, nat switch or nginx"
		for _, w := range c.Warnings {
			if strings.Contains(w.Msg, "unknown keyword") {
				msg += "; first ignored: " + w.String()
				break
			}
		}
		l.add(Pos{File: c.Source}, "", msg)
	}
	validateVRRP(&l, c.VRRP, &c.Global)
	validateTracking(&l, c)
	validateTrackedFiles(&l, c)
	validateSyncGroups(&l, c)
	validateVirtualServers(&l, c.VirtualServers)
	if c.NAT != nil {
		validateNAT(&l, c.NAT, c.VRRP)
	}
	if c.Nginx != nil {
		validateNginx(&l, c.Nginx)
	}
	if c.BGP != nil {
		validateBGP(&l, c.BGP, c.VirtualServers)
	}
	validateSysctls(&l, c.Sysctls)
	validateIPConfig(&l, c)
	return l.err()
}

func validateVRRP(l *errList, insts []VRRPInstance, g *Global) {
	if g.VRRPVersion != 0 && g.VRRPVersion != 2 && g.VRRPVersion != 3 {
		l.add(Pos{}, "vrrp_version", fmt.Sprintf("%d is not 2 or 3", g.VRRPVersion))
	}
	if a := g.MulticastGroup4; a.IsValid() && (!a.Is4() || !a.IsMulticast()) {
		l.add(Pos{}, "vrrp_mcast_group4", fmt.Sprintf("%s is not an IPv4 multicast address", a))
	}
	if a := g.MulticastGroup6; a.IsValid() && (!a.Is6() || !a.IsLinkLocalMulticast()) {
		l.add(Pos{}, "vrrp_mcast_group6", fmt.Sprintf("%s is not an IPv6 link-local multicast address", a))
	}
	names := map[string]bool{}
	type ifVRID struct {
		ifname string
		vrid   int
		v6     bool
	}
	vrids := map[ifVRID]string{}
	for i := range insts {
		in := &insts[i]
		at := func(field string) string {
			if in.Name == "" {
				return fmt.Sprintf("vrrp_instance #%d: %s", i+1, field)
			}
			return "vrrp_instance " + in.Name + ": " + field
		}
		bad := func(field, format string, a ...any) { l.add(in.Pos, at(field), fmt.Sprintf(format, a...)) }
		switch {
		case in.Name == "":
			bad("name", "missing")
		case strings.ContainsAny(in.Name, " \t\n{}\"'"):
			bad("name", "%q must not contain blanks, braces or quotes", in.Name)
		case names[in.Name]:
			bad("name", "%q is defined twice", in.Name)
		}
		names[in.Name] = true
		if !validIfName(in.Interface) {
			if in.Interface == "" {
				bad("interface", "missing")
			} else {
				bad("interface", "%q is not an interface name", in.Interface)
			}
		}
		if in.State != StateMaster && in.State != StateBackup {
			bad("state", "%q is not MASTER or BACKUP", in.State)
		}
		if in.VirtualRouterID < 1 || in.VirtualRouterID > 255 {
			bad("virtual_router_id", "%d is not a number 1-255", in.VirtualRouterID)
		}
		if in.Priority < 1 || in.Priority > 255 {
			bad("priority", "%d is not a number 1-255", in.Priority)
		}
		switch in.vrrpVersion(*g) {
		case 2:
			if in.AdvertInt < time.Second || in.AdvertInt > 255*time.Second || in.AdvertInt%time.Second != 0 {
				bad("advert_int", "%s is not a whole number of seconds 1-255 (VRRPv2)", in.AdvertInt)
			}
		default:
			if in.AdvertInt < centisecond || in.AdvertInt > maxAdvertIntV3 || in.AdvertInt%centisecond != 0 {
				bad("advert_int", "%s is not a whole number of centiseconds 0.01-40.95s (VRRPv3)", in.AdvertInt)
			}
		}
		if in.Version == 2 && in.IPv6() {
			bad("version", "2 with IPv6: VRRPv2 is IPv4 only (RFC 3768); use version 3")
		}
		if in.Version != 0 && in.Version != 2 && in.Version != 3 {
			bad("version", "%d is not 2 or 3", in.Version)
		}
		if v := in.Version; in.Auth != nil && (v == 3 || v == 0 && g.VRRPVersion == 3) {
			bad("authentication", "VRRP version 3 has no authentication (keepalived 2.2.7 ignores the block); remove it")
		}
		if in.Auth != nil {
			if in.Auth.Type != AuthPass && in.Auth.Type != AuthAH {
				bad("authentication.auth_type", "%q is not PASS or AH", in.Auth.Type)
			}
			if in.Auth.Type == AuthPass && in.Auth.Pass == "" {
				bad("authentication.auth_pass", "missing (auth_type PASS)")
			}
			if len(in.Auth.Pass) > maxAuthPass {
				bad("authentication.auth_pass", "%q is longer than %d characters", in.Auth.Pass, maxAuthPass)
			}
		}
		if in.PreemptDelay < 0 || in.PreemptDelay > maxPreemptDelay {
			bad("preempt_delay", "%s is not a duration 0-1000s", in.PreemptDelay)
		}
		if len(in.VirtualIPs) == 0 {
			bad("virtual_ipaddress", "no address")
		}
		var v4, v6 int
		seenVIP := map[netip.Addr]bool{}
		for _, v := range in.VirtualIPs {
			if !v.Prefix.IsValid() {
				bad("virtual_ipaddress", "%v is not an address/prefix", v.Prefix)
				continue
			}
			if v.Dev != "" && !validIfName(v.Dev) {
				bad("virtual_ipaddress", "%s: dev %q is not an interface name", v.Prefix, v.Dev)
			}
			if msg := v.AddrSettings.check(v.Prefix, v.Broadcast); msg != "" {
				bad("virtual_ipaddress", "%s: %s", v.Prefix, msg)
			}
			if seenVIP[v.Prefix.Addr()] {
				bad("virtual_ipaddress", "%s is listed twice", v.Prefix.Addr())
			}
			seenVIP[v.Prefix.Addr()] = true
			if v.Prefix.Addr().Is4() {
				v4++
			} else {
				v6++
			}
		}
		if v4 > 0 && v6 > 0 {
			bad("virtual_ipaddress", "mixes IPv4 and IPv6 addresses (use one instance per family)")
		}
		for _, t := range in.Track {
			if !validIfName(t.Name) {
				bad("track_interface", "%q is not an interface name", t.Name)
			}
			if t.Weight < -253 || t.Weight > 253 {
				bad("track_interface", "%s: weight %d is not a number -253-253", t.Name, t.Weight)
			}
		}
		for _, p := range in.UnicastPeers {
			if !p.IsValid() {
				bad("unicast_peer", "invalid address")
			} else if in.UnicastSrcIP.IsValid() && p.Is4() != in.UnicastSrcIP.Is4() {
				bad("unicast_peer", "%s is not of the family of unicast_src_ip %s", p, in.UnicastSrcIP)
			}
		}
		for _, n := range []struct {
			name string
			cmd  Command
		}{{"notify", in.Notify}, {"notify_master", in.NotifyMaster}, {"notify_backup", in.NotifyBackup}, {"notify_fault", in.NotifyFault}, {"notify_stop", in.NotifyStop}, {"notify_master_rx_lower_pri", in.NotifyMasterRxLowerPri}} {
			if n.cmd != nil && (len(n.cmd) == 0 || n.cmd[0] == "") {
				bad(n.name, "empty command")
			}
		}
		if in.GARPMasterDelay < 0 || in.GARPMasterDelay > maxDuration {
			bad("garp_master_delay", "%s is out of range", in.GARPMasterDelay)
		}
		if in.GARPMasterRepeat < 1 || in.GARPMasterRepeat > maxGARPRepeat {
			bad("garp_master_repeat", "%d is not a number 1-%d", in.GARPMasterRepeat, maxGARPRepeat)
		}
		if in.GARPMasterRefresh < 0 || in.GARPMasterRefresh > maxDuration {
			bad("garp_master_refresh", "%s is out of range", in.GARPMasterRefresh)
		}
		if in.GARPLowerPrioDelay < 0 || in.GARPLowerPrioDelay > maxDuration {
			bad("garp_lower_prio_delay", "%s is out of range", in.GARPLowerPrioDelay)
		}
		if in.GARPLowerPrioRepeat < 0 || in.GARPLowerPrioRepeat > maxGARPRepeat {
			bad("garp_lower_prio_repeat", "%d is not a number 0-%d", in.GARPLowerPrioRepeat, maxGARPRepeat)
		}
		if validIfName(in.Interface) && in.VirtualRouterID >= 1 && in.VirtualRouterID <= 255 {
			k := ifVRID{in.Interface, in.VirtualRouterID, v6 > 0}
			if other, ok := vrids[k]; ok {
				bad("virtual_router_id", "%d on %s is also used by vrrp_instance %s", in.VirtualRouterID, in.Interface, other)
			} else {
				vrids[k] = in.Name
			}
		}
	}
}

func validateVirtualServers(l *errList, vss []VirtualServer) {
	seen := map[string]bool{}
	for i := range vss {
		vs := &vss[i]
		name := "virtual_server " + vs.Key()
		if vs.FWMark == 0 && !vs.Addr.IsValid() {
			name = fmt.Sprintf("virtual_server #%d", i+1)
		}
		bad := func(field, format string, a ...any) {
			l.add(vs.Pos, name+": "+field, fmt.Sprintf(format, a...))
		}
		switch {
		case vs.Group != "":
			validateGroup(vs, bad)
		case vs.FWMark != 0 && vs.Addr.IsValid():
			bad("fwmark", "%d is set together with an address %s", vs.FWMark, vs.Addr)
		case vs.FWMark == 0 && !vs.Addr.IsValid():
			bad("address", "missing (an address and port, or a fwmark)")
		case vs.FWMark == 0 && vs.Addr.Port() == 0 && vs.PersistenceTimeout == 0:
			bad("address", "port 0 (all ports) needs persistence_timeout")
		}
		if seen[vs.Key()] {
			bad("address", "%s is defined twice", vs.Key())
		}
		seen[vs.Key()] = true
		if vs.FWMark == 0 {
			if _, err := parseProtocol(string(vs.Protocol)); err != nil {
				bad("protocol", "%s", err)
			}
		}
		if _, err := parseLBAlgo(vs.LBAlgo); err != nil {
			bad("lb_algo", "%s", err)
		}
		validateFlags(vs, bad)
		if _, err := parseLBKind(string(vs.LBKind)); err != nil {
			bad("lb_kind", "%s", err)
		}
		if vs.DelayLoop <= 0 || vs.DelayLoop > maxDuration {
			bad("delay_loop", "%s is not a duration above 0", vs.DelayLoop)
		}
		if vs.PersistenceTimeout < 0 || vs.PersistenceTimeout > maxDuration {
			bad("persistence_timeout", "%s is out of range", vs.PersistenceTimeout)
		}
		maxBits := 32
		if vs.Addr.Addr().Is6() {
			maxBits = 128
		}
		if vs.PersistenceGranularity < 0 || vs.PersistenceGranularity > maxBits {
			bad("persistence_granularity", "%d is not a prefix length 1-%d", vs.PersistenceGranularity, maxBits)
		}
		if len(vs.RealServers) == 0 {
			bad("real_server", "none given")
		}
		validateQuorum(vs, bad)
		rsSeen := map[netip.AddrPort]bool{}
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			rname := name + ": real_server " + rs.Addr.String()
			rbad := func(field, format string, a ...any) {
				l.add(rs.Pos, rname+": "+field, fmt.Sprintf(format, a...))
			}
			if !rs.Addr.Addr().IsValid() {
				rbad("address", "missing")
			} else if vs.Addr.IsValid() && rs.Addr.Addr().Is4() != vs.Addr.Addr().Is4() && rs.Kind(vs) != LBKindTUN {
				rbad("address", "%s is not of the family of %s", rs.Addr.Addr(), vs.Addr.Addr())
			}
			if rs.Addr.Port() == 0 && vs.FWMark == 0 && vs.Group == "" && vs.Addr.Port() != 0 {
				rbad("address", "port 0 is valid only for fwmark or all-port services")
			}
			if rsSeen[rs.Addr] {
				rbad("address", "%s is listed twice", rs.Addr)
			}
			rsSeen[rs.Addr] = true
			if rs.Weight < 0 || rs.Weight > maxWeight {
				rbad("weight", "%d is not a number 0-%d", rs.Weight, maxWeight)
			}
			for k := range rs.Checkers {
				validateChecker(l, &rs.Checkers[k], rname)
			}
		}
	}
}

func validateChecker(l *errList, ck *Checker, parent string) {
	name := parent + ": " + string(ck.Kind)
	bad := func(field, format string, a ...any) {
		l.add(ck.Pos, name+": "+field, fmt.Sprintf(format, a...))
	}
	if _, err := parseCheckKind(string(ck.Kind)); err != nil {
		l.add(ck.Pos, parent+": checker", err.Error())
		return
	}
	if ck.Kind != MiscCheck && (ck.ConnectTimeout <= 0 || ck.ConnectTimeout > maxDuration) {
		bad("connect_timeout", "%s is not a duration above 0", ck.ConnectTimeout)
	}
	if ck.Retry < 0 || ck.Retry > 1000 {
		bad("retry", "%d is not a number 0-1000", ck.Retry)
	}
	if ck.DelayBeforeRetry < 0 || ck.DelayBeforeRetry > maxDuration {
		bad("delay_before_retry", "%s is out of range", ck.DelayBeforeRetry)
	}
	isHTTP := ck.Kind == HTTPGet || ck.Kind == SSLGet
	switch {
	case isHTTP && len(ck.URLs) == 0:
		bad("url", "none given")
	case !isHTTP && (len(ck.URLs) > 0 || ck.VirtualHost != ""):
		bad("url", "only HTTP_GET and SSL_GET take url and virtualhost")
	}
	for _, u := range ck.URLs {
		if !strings.HasPrefix(u.Path, "/") {
			bad("url.path", "%q does not start with /", u.Path)
		}
		if u.Digest != "" {
			if _, err := parseDigest(u.Digest); err != nil {
				bad("url.digest", "%s", err)
			}
		}
		for _, r := range u.StatusCodes {
			if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
				bad("url.status_code", "%s is not a status code or range within 100-599", r)
			}
		}
	}
	if ck.Kind == MiscCheck {
		if len(ck.MiscPath) == 0 || ck.MiscPath[0] == "" {
			bad("misc_path", "missing")
		}
		if ck.MiscTimeout <= 0 || ck.MiscTimeout > maxDuration {
			bad("misc_timeout", "%s is not a duration above 0", ck.MiscTimeout)
		}
	} else if len(ck.MiscPath) > 0 || ck.MiscTimeout != 0 || ck.MiscDynamic {
		bad("misc_path", "only MISC_CHECK takes misc_path, misc_timeout and misc_dynamic")
	}
	if ck.Kind == DNSCheck {
		if _, err := parseDNSType(ck.DNSType); err != nil {
			bad("type", "%s", err)
		}
		if ck.DNSName == "" {
			bad("name", "missing")
		}
	} else if ck.DNSName != "" || ck.DNSType != "" {
		bad("name", "only DNS_CHECK takes name and type")
	}
}

func validateNAT(l *errList, n *NATSwitch, insts []VRRPInstance) {
	bad := func(field, format string, a ...any) { l.add(n.Pos, "nat: "+field, fmt.Sprintf(format, a...)) }
	if !validIfName(n.Interface) {
		if n.Interface == "" {
			bad("interface", "missing")
		} else {
			bad("interface", "%q is not an interface name", n.Interface)
		}
	}
	if len(n.VIPs) == 0 {
		bad("vips", "no address")
	}
	for _, v := range n.VIPs {
		if !v.Is4() {
			bad("vips", "%s is not an IPv4 address", v)
		}
	}
	if n.LocalAddress.IsValid() && !n.LocalAddress.Is4() {
		bad("local_address", "%s is not an IPv4 address", n.LocalAddress)
	}
	switch {
	case n.Instance == "" && len(insts) != 1:
		bad("vrrp_instance", "missing (required when there is not exactly one vrrp instance; there are %d)", len(insts))
	case n.Instance != "":
		found := false
		for _, in := range insts {
			found = found || in.Name == n.Instance
		}
		if !found {
			bad("vrrp_instance", "%q is not a vrrp instance", n.Instance)
		}
	}
}

func validateNginx(l *errList, n *Nginx) {
	bad := func(field, format string, a ...any) { l.add(n.Pos, "nginx: "+field, fmt.Sprintf(format, a...)) }
	if n.Prefix != "" && !filepath.IsAbs(n.Prefix) {
		bad("prefix", "%q is not an absolute path", n.Prefix)
	}
	files := map[string]bool{}
	checkName := func(kind, name string) {
		if !validFileName(name) {
			bad(kind+" "+name, "name %q must be letters, digits, '.', '_' or '-', not starting with '.'", name)
		}
		if files[kind+"/"+name] {
			bad(kind+" "+name, "name %q is used twice", name)
		}
		files[kind+"/"+name] = true
	}
	checkUpstreams := func(kind string, ups []NginxUpstream, names map[string]bool) {
		for _, u := range ups {
			at := kind + " upstream " + u.Name
			if !validFileName(u.Name) {
				bad(at, "name %q must be letters, digits, '.', '_' or '-'", u.Name)
			}
			if names[u.Name] {
				bad(at, "is defined twice")
			}
			names[u.Name] = true
			switch u.Method {
			case "", "least_conn", "random":
			case "ip_hash":
				if kind != "http" {
					bad(at+": method", "ip_hash exists in http upstreams only")
				}
			default:
				bad(at+": method", "%q is not least_conn, ip_hash or random", u.Method)
			}
			if len(u.Servers) == 0 {
				bad(at+": servers", "none given")
			}
			for _, s := range u.Servers {
				if !s.Address.IsValid() || s.Address.Port() == 0 {
					bad(at+": servers", "%v is not an address:port", s.Address)
				}
				if s.Weight < 0 {
					bad(at+": servers", "%s: weight %d is negative", s.Address, s.Weight)
				}
			}
		}
	}
	httpUps, streamUps := map[string]bool{}, map[string]bool{}
	for _, s := range n.Sites {
		checkName("http", s.Name)
		checkUpstreams("http", s.Upstreams, httpUps)
	}
	for _, s := range n.Streams {
		checkName("stream", s.Name)
		checkUpstreams("stream", s.Upstreams, streamUps)
	}
	for _, s := range n.Sites {
		for _, srv := range s.Servers {
			if len(srv.Listen) == 0 {
				bad("http "+s.Name+": listen", "none given")
			}
			for _, li := range srv.Listen {
				if li.UDP {
					bad("http "+s.Name+": listen", "udp is for stream servers only")
				}
			}
			for _, loc := range srv.Locations {
				if !httpUps[loc.ProxyPass] {
					bad("http "+s.Name+": location "+loc.Path+": proxy_pass", "%q is not an http upstream", loc.ProxyPass)
				}
			}
		}
	}
	for _, s := range n.Streams {
		for _, srv := range s.Servers {
			if len(srv.Listen) == 0 {
				bad("stream "+s.Name+": listen", "none given")
			}
			for _, li := range srv.Listen {
				if li.DefaultServer {
					bad("stream "+s.Name+": listen", "default_server is for http servers only")
				}
			}
			if !streamUps[srv.ProxyPass] {
				bad("stream "+s.Name+": proxy_pass", "%q is not a stream upstream", srv.ProxyPass)
			}
		}
	}
}

func validFileName(s string) bool {
	if s == "" || s[0] == '.' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func validateSysctls(l *errList, ss []Sysctl) {
	seen := map[string]bool{}
	for _, s := range ss {
		if !validSysctlKey(s.Key) {
			l.add(Pos{}, "sysctls", fmt.Sprintf("%q is not a sysctl name (such as net.ipv4.ip_nonlocal_bind)", s.Key))
			continue
		}
		if seen[s.Key] {
			l.add(Pos{}, "sysctls", fmt.Sprintf("%q is set twice", s.Key))
		}
		seen[s.Key] = true
		if s.Value == "" || strings.ContainsAny(s.Value, "\n\x00") {
			l.add(Pos{}, "sysctls: "+s.Key, fmt.Sprintf("%q is not a value", s.Value))
		}
	}
}

func validSysctlKey(s string) bool {
	if s == "" || strings.Contains(s, "..") || s[0] == '.' || s[0] == '/' || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '/') {
			return false
		}
	}
	return true
}
