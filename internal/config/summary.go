package config

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// Summary describes, in a stable human-readable form, what a node with
// this configuration applies: the VRRP instances, the IPVS services with
// their real servers and checkers, the NAT switch, the nginx layer, the
// sysctls and any warnings. The same Config always gives the same text,
// with defaults spelled out.
func (c *Config) Summary() string {
	var b strings.Builder
	w := func(indent int, format string, a ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(&b, format, a...)
		b.WriteByte('\n')
	}
	src := c.Source
	if src == "" {
		src = "(built in code)"
	}
	w(0, "config %s (%s)", src, orDash(string(c.Format)))
	g := c.Global
	w(0, "global: router_id %s, script security %s, script user %s", orDash(g.RouterID), onOff(g.EnableScriptSecurity), orDash(strings.TrimSpace(g.ScriptUser+" "+g.ScriptGroup)))
	if g.DontReleaseIPVS {
		w(1, "dont_release_ipvs: the virtual servers stay in the kernel when the node stops")
	}
	for _, gg := range g.GARPGroups {
		w(1, "garp_group %s: gratuitous ARPs every %s, neighbour advertisements every %s, across them", strings.Join(gg.Interfaces, " "), dur(gg.GARPInterval), dur(gg.GNAInterval))
	}

	w(0, "vrrp instances: %d", len(c.VRRP))
	for _, in := range c.VRRP {
		w(1, "vrrp_instance %s: interface %s, vrid %d, priority %d, state %s, advert_int %s",
			in.Name, in.Interface, in.VirtualRouterID, in.Priority, in.State, dur(in.AdvertInt))
		pre := "preempt"
		switch {
		case in.Nopreempt:
			pre = "nopreempt"
		case in.PreemptDelay > 0:
			pre = "preempt after " + dur(in.PreemptDelay)
		}
		auth := "none"
		if in.Auth != nil {
			auth = string(in.Auth.Type)
			if in.Auth.Type == AuthPass {
				auth += fmt.Sprintf(" (%d-character password)", len(in.Auth.Pass))
			}
		}
		w(2, "%s, authentication %s", pre, auth)
		if in.StrictMode || in.NoAccept {
			fw := "accept mode"
			if in.NoAccept {
				fw = "no accept mode: nftables table keepalived drops the VIPs while MASTER"
				if t := c.Global.NFTables.Table; t != "" {
					fw = "no accept mode: nftables table " + t + " drops the VIPs while MASTER"
				}
			}
			w(2, "strict mode %s, %s", onOff(in.StrictMode), fw)
		}
		for _, v := range in.VirtualIPs {
			w(2, "%s", v.summary("vip", &in))
		}
		for _, v := range in.ExcludedIPs {
			w(2, "%s", v.summary("excluded vip (not advertised)", &in))
		}
		if in.VMAC != nil {
			w(2, "%s", in.VMAC.summary(&in))
		}
		if len(in.Track) > 0 {
			var ts []string
			for _, t := range in.Track {
				s := t.Name
				if t.Weight != 0 {
					s += fmt.Sprintf(" (weight %+d)", t.Weight)
				}
				ts = append(ts, s)
			}
			w(2, "track_interface %s", strings.Join(ts, ", "))
		}
		if len(in.UnicastPeers) > 0 {
			var ps []string
			for _, p := range in.UnicastPeers {
				ps = append(ps, p.String())
			}
			src := "the interface's address"
			if in.UnicastSrcIP.IsValid() {
				src = in.UnicastSrcIP.String()
			}
			w(2, "VRRPv%d unicast from %s to %s", in.vrrpVersion(c.Global), src, strings.Join(ps, ", "))
		} else {
			src := ""
			if in.UnicastSrcIP.IsValid() {
				src = " from " + in.UnicastSrcIP.String()
			}
			w(2, "VRRPv%d multicast adverts to %s%s", in.vrrpVersion(c.Global), c.Global.multicastGroup(&in), src)
		}
		for _, n := range []struct {
			name string
			cmd  Command
		}{{"notify", in.Notify}, {"notify_master", in.NotifyMaster}, {"notify_backup", in.NotifyBackup}, {"notify_fault", in.NotifyFault}, {"notify_stop", in.NotifyStop}, {"notify_master_rx_lower_pri", in.NotifyMasterRxLowerPri}} {
			if n.cmd != nil {
				w(2, "%s %s", n.name, n.cmd)
			}
		}
		refresh := "off"
		if in.GARPMasterRefresh > 0 {
			refresh = "every " + dur(in.GARPMasterRefresh)
		}
		if in.GARPExtraIf > 0 {
			refresh += ", on the addresses' other interfaces every " + dur(in.GARPExtraIf)
		}
		w(2, "gratuitous ARP: %d at once, again after %s, refresh %s", in.GARPMasterRepeat, dur(in.GARPMasterDelay), refresh)
		var more []string
		if in.DontTrackPrimary {
			more = append(more, "interface not tracked (dont_track_primary)")
		}
		if in.PromoteSecondaries {
			more = append(more, "promote_secondaries set on "+in.Interface)
		}
		if in.OldUnicastChecksum != "" {
			more = append(more, "old unicast VRRPv3 checksum: "+in.OldUnicastChecksum)
		}
		if in.NotifyPriorityChanges {
			more = append(more, "priority changes written to the notify FIFOs")
		}
		if len(more) > 0 {
			w(2, "%s", strings.Join(more, "; "))
		}
		answer := "an advert and "
		if in.LowerPrioNoAdvert {
			answer = ""
		}
		w(2, "on a lower-priority advert as MASTER: %s%d gratuitous ARPs, again after %s", answer, in.GARPLowerPrioRepeat, dur(in.GARPLowerPrioDelay))
	}

	w(0, "ipvs virtual servers: %d", len(c.VirtualServers))
	for _, vs := range c.VirtualServers {
		algo := vs.LBAlgo
		if vs.SchedFlags != 0 {
			algo += " (" + strings.Join(vs.SchedFlags.Names(vs.LBAlgo), ",") + ")"
		}
		line := fmt.Sprintf("%s %s %s, delay_loop %s", vs.Key(), algo, vs.LBKind, dur(vs.DelayLoop))
		if vs.PersistenceTimeout > 0 {
			line += ", persistent " + dur(vs.PersistenceTimeout)
			if vs.PersistenceGranularity > 0 {
				line += fmt.Sprintf(" per /%d", vs.PersistenceGranularity)
			}
		}
		if vs.OnePacket {
			line += ", one-packet scheduling (ops)"
		}
		w(1, "%s", line)
		summarizePool(w, &vs)
		for _, rs := range vs.RealServers {
			line := fmt.Sprintf("-> %s weight %d", rs.Addr, rs.Weight)
			if rs.InhibitOnFailure {
				line += ", inhibit_on_failure"
			}
			w(2, "%s", line)
			summarizeRealServer(w, &rs)
			if len(rs.Checkers) == 0 {
				w(3, "no checker: always up")
			}
			for _, ck := range rs.Checkers {
				w(3, "%s", checkerLine(&ck))
			}
		}
	}

	if c.NAT != nil {
		n := c.NAT
		var vips []string
		for _, v := range n.VIPs {
			vips = append(vips, v.String())
		}
		inst := n.Instance
		if inst == "" && len(c.VRRP) == 1 {
			inst = c.VRRP[0].Name
		}
		local := "the first address of " + n.Interface
		if n.LocalAddress.IsValid() {
			local = n.LocalAddress.String()
		}
		w(0, "nat switch: while %s is not MASTER, iif %s daddr %s dnat to %s", inst, n.Interface, strings.Join(vips, ","), local)
	} else {
		w(0, "nat switch: none")
	}

	if c.Nginx != nil {
		w(0, "nginx: %d http, %d stream", len(c.Nginx.Sites), len(c.Nginx.Streams))
		if c.Nginx.Prefix != "" {
			w(1, "prefix %s", c.Nginx.Prefix)
		}
		for _, s := range c.Nginx.Sites {
			w(1, "http %s", s.Name)
			for _, u := range s.Upstreams {
				w(2, "upstream %s%s: %s", u.Name, method(u.Method), upstreamServers(u.Servers))
			}
			for _, srv := range s.Servers {
				w(2, "server listen %s", listens(srv.Listen))
				for _, l := range srv.Locations {
					loc := strings.TrimSpace(l.Match + " " + l.Path)
					scheme := "http"
					if l.HTTPS {
						scheme = "https"
					}
					var hs []string
					for _, h := range l.Headers {
						hs = append(hs, h.Name)
					}
					line := fmt.Sprintf("location %s -> %s://%s", loc, scheme, l.ProxyPass)
					if len(hs) > 0 {
						line += ", headers " + strings.Join(hs, " ")
					}
					if l.ProxyRedirect != "" {
						line += ", proxy_redirect " + l.ProxyRedirect
					}
					w(3, "%s", line)
				}
			}
		}
		for _, s := range c.Nginx.Streams {
			w(1, "stream %s", s.Name)
			for _, u := range s.Upstreams {
				w(2, "upstream %s%s: %s", u.Name, method(u.Method), upstreamServers(u.Servers))
			}
			for _, srv := range s.Servers {
				line := fmt.Sprintf("server listen %s -> %s", listens(srv.Listen), srv.ProxyPass)
				if srv.ProxyConnectTimeout > 0 {
					line += ", connect timeout " + dur(srv.ProxyConnectTimeout)
				}
				if srv.ProxyTimeout > 0 {
					line += ", timeout " + dur(srv.ProxyTimeout)
				}
				if srv.ProxyResponses != nil {
					line += fmt.Sprintf(", responses %d", *srv.ProxyResponses)
				}
				w(2, "%s", line)
			}
		}
	} else {
		w(0, "nginx: none")
	}

	w(0, "sysctls: %d", len(c.Sysctls))
	for _, s := range c.Sysctls {
		w(1, "%s = %s", s.Key, s.Value)
	}
	if len(c.Warnings) > 0 {
		w(0, "warnings: %d", len(c.Warnings))
		for _, wn := range c.Warnings {
			w(1, "%s", wn)
		}
	}
	return b.String()
}

func checkerLine(ck *Checker) string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	if ck.ConnectIP.IsValid() || ck.ConnectPort != 0 {
		ip, port := "-", "-"
		if ck.ConnectIP.IsValid() {
			ip = ck.ConnectIP.String()
		}
		if ck.ConnectPort != 0 {
			port = fmt.Sprint(ck.ConnectPort)
		}
		add("connect %s port %s", ip, port)
	}
	switch ck.Kind {
	case MiscCheck:
		add("%s", ck.MiscPath)
		add("timeout %s", dur(ck.MiscTimeout))
		if ck.MiscDynamic {
			add("dynamic")
		}
	case HTTPGet, SSLGet:
		for _, u := range ck.URLs {
			s := "url " + u.Path
			if len(u.StatusCodes) > 0 {
				var rs []string
				for _, r := range u.StatusCodes {
					rs = append(rs, r.String())
				}
				s += " status " + strings.Join(rs, ",")
			} else {
				s += " status 200-299"
			}
			if u.Digest != "" {
				s += " digest " + u.Digest
			}
			add("%s", s)
		}
		if ck.VirtualHost != "" {
			add("virtualhost %s", ck.VirtualHost)
		}
	case DNSCheck:
		add("%s %s", ck.DNSType, ck.DNSName)
	case SMTPCheck:
		if ck.HeloName != "" {
			add("helo %s", ck.HeloName)
		}
	}
	if ck.Kind != MiscCheck {
		add("connect_timeout %s", dur(ck.ConnectTimeout))
	}
	add("retry %d", ck.Retry)
	add("delay_before_retry %s", dur(ck.DelayBeforeRetry))
	return string(ck.Kind) + " " + strings.Join(parts, ", ")
}

func method(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

func upstreamServers(ss []NginxUpstreamServer) string {
	var out []string
	for _, s := range ss {
		t := s.Address.String()
		if s.Weight != 0 {
			t += fmt.Sprintf(" weight=%d", s.Weight)
		}
		if s.MaxFails != nil {
			t += fmt.Sprintf(" max_fails=%d", *s.MaxFails)
		}
		if s.FailTimeout != 0 {
			t += " fail_timeout=" + dur(s.FailTimeout)
		}
		if s.Backup {
			t += " backup"
		}
		if s.Down {
			t += " down"
		}
		out = append(out, t)
	}
	return strings.Join(out, ", ")
}

func listens(ls []NginxListen) string {
	var out []string
	for _, l := range ls {
		t := fmt.Sprint(l.Port)
		if l.Addr.IsValid() {
			t = l.Addr.String() + ":" + t
			if l.Addr.Is6() {
				t = "[" + l.Addr.String() + "]:" + fmt.Sprint(l.Port)
			}
		}
		if l.UDP {
			t += " udp"
		}
		if l.DefaultServer {
			t += " default_server"
		}
		if l.ReusePort {
			t += " reuseport"
		}
		out = append(out, t)
	}
	return strings.Join(out, ", ")
}

func dur(d time.Duration) string { return fmtDur(d) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// summary is a VIP's line in the plan: what, the address and where it
// goes, with its own settings.
func (v VirtualIP) summary(what string, in *VRRPInstance) string {
	dev := v.Dev
	if dev == "" {
		dev = in.Interface
	}
	if in.VMAC != nil && dev == in.Interface {
		dev = "the VMAC"
	}
	line := fmt.Sprintf("%s %s dev %s", what, v.Prefix, dev)
	if v.Label != "" {
		line += " label " + v.Label
	}
	if v.Scope != 0 {
		line += fmt.Sprintf(" scope %d", v.Scope)
	}
	if v.Broadcast.IsValid() {
		line += " brd " + v.Broadcast.String()
	}
	line += v.AddrSettings.summary(v.Prefix)
	if v.NoTrack {
		line += " no_track"
	}
	return line
}

// summary is what s adds to the plan's line of the address p: the peer,
// the flags, -nodad and the preferred lifetime as the address gets it.
func (s AddrSettings) summary(p netip.Prefix) string {
	var line string
	if s.Peer.IsValid() {
		line += " peer " + s.Peer.String()
	}
	for _, f := range []struct {
		flag uint32
		word string
	}{{IFAFHomeAddress, "home"}, {IFAFManageTempAddr, "mngtmpaddr"}, {IFAFNoPrefixRoute, "noprefixroute"}, {IFAFMCAutojoin, "autojoin"}} {
		if s.Flags&f.flag != 0 {
			line += " " + f.word
		}
	}
	if !p.Addr().Is6() {
		return line
	}
	if s.DAD {
		line += " -nodad (DAD on)"
	}
	switch {
	case s.PreferredLftSet && s.PreferredLft == math.MaxUint32:
		line += " preferred_lft forever"
	case s.PreferredLftSet:
		line += fmt.Sprintf(" preferred_lft %d", s.PreferredLft)
	}
	return line
}
