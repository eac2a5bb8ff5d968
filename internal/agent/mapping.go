package agent

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/vrrp"
)

// vrrpConfigs maps the VRRP instances, grouped by advertisement interface
// (one vrrp.Router per interface, and per VMAC that carries adverts).
func vrrpConfigs(cfg *config.Config) (map[string][]vrrp.Config, error) {
	out := map[string][]vrrp.Config{}
	vmacs := vmacNames(cfg)
	for _, in := range cfg.VRRP {
		if in.Auth != nil && in.Auth.Type != config.AuthPass {
			return nil, fmt.Errorf("%s: vrrp_instance %s: auth_type %s is not supported (only PASS)", in.Pos, in.Name, in.Auth.Type)
		}
		vc := vrrp.Config{
			Name:           in.Name,
			Interface:      in.Interface,
			VRID:           uint8(in.VirtualRouterID),
			Priority:       uint8(in.Priority),
			AdvertInterval: in.AdvertInt,
			NoPreempt:      in.Nopreempt,
			PreemptDelay:   in.PreemptDelay,
			UnicastSrc:     in.UnicastSrcIP,
			UnicastPeers:   in.UnicastPeers,
			GARPRepeat:     in.GARPMasterRepeat,
			GARPDelay:      in.GARPMasterDelay,
			GARPRefresh:    in.GARPMasterRefresh,
		}
		if in.GARPMasterDelay == 0 {
			vc.GARPDelay = -1 // no second burst
		}
		// The instance's version, else the global one; 0 lets vrrp choose
		// as keepalived does.
		vc.Version = uint8(in.Version)
		if vc.Version == 0 {
			vc.Version = uint8(cfg.Global.VRRPVersion)
		}
		vc.IPv6 = in.IPv6()
		vc.VMAC = vrrpVMAC(&in, vmacs)
		vc.Group = cfg.Global.MulticastGroup4
		if vc.IPv6 {
			vc.Group = cfg.Global.MulticastGroup6
		}
		if in.MulticastGroup.IsValid() {
			vc.Group = in.MulticastGroup
		}
		// keepalived's strict mode forbids higher_prio_send_advert: no
		// yield advert either.
		vc.NoYieldAdvert = in.StrictMode
		vc.GARPRefreshRepeat, vc.SkipCheckAdvAddr = in.GARPMasterRefreshRepeat, in.SkipCheckAdvAddr
		vc.StartupDelay = cfg.Global.StartupDelay
		vc.GARPInterval = cfg.Global.GARPInterval
		vc.DontTrackPrimary, vc.PromoteSecondaries, vc.GARPExtraInterval = in.DontTrackPrimary, in.PromoteSecondaries, in.GARPExtraIf
		switch in.OldUnicastChecksum {
		case "always":
			vc.UnicastChecksum = vrrp.UnicastChecksumOld
		case "never":
			vc.UnicastChecksum = vrrp.UnicastChecksumNever
		}
		if vc.IPv6 {
			vc.GARPInterval = cfg.Global.GNAInterval
		}
		// keepalived's 0 is "none" for both; vrrp's is "as GARPRepeat and
		// GARPDelay".
		vc.GARPLowerPrioRepeat, vc.GARPLowerPrioDelay, vc.LowerPrioNoAdvert = in.GARPLowerPrioRepeat, in.GARPLowerPrioDelay, in.LowerPrioNoAdvert
		if in.GARPLowerPrioRepeat == 0 {
			vc.GARPLowerPrioRepeat = -1
		}
		if in.GARPLowerPrioDelay == 0 {
			vc.GARPLowerPrioDelay = -1
		}
		if in.Auth != nil {
			vc.AuthPass = in.Auth.Pass
		}
		for _, v := range in.VirtualIPs {
			vc.VIPs = append(vc.VIPs, v.Prefix)
		}
		for _, v := range in.ExcludedIPs {
			vc.ExcludedVIPs = append(vc.ExcludedVIPs, v.Prefix)
		}
		for _, tr := range in.Track {
			if tr.Weight != 0 || tr.Reverse {
				continue // followed by the agent's tracking (track.go)
			}
			// The advertisement interface is tracked anyway, as keepalived does.
			if tr.Name != in.Interface {
				vc.TrackInterfaces = append(vc.TrackInterfaces, tr.Name)
			}
		}
		if dev, track := vmacAddrDev(&in); vc.VMAC != nil && dev != "" {
			// vrrp puts addresses on the VMAC or on VIPInterface only:
			// all of them on one other interface go there, as before
			// AddrOptions, tracked as keepalived tracks them.
			vc.VIPInterface = dev
			if track && !slices.Contains(vc.TrackInterfaces, dev) {
				vc.TrackInterfaces = append(vc.TrackInterfaces, dev)
			}
		}
		vc.AddrOptions = addrOptions(&in, vc.VIPInterface)
		norm, err := vc.Normalize()
		if err != nil {
			return nil, fmt.Errorf("%s: vrrp_instance %s: %w", in.Pos, in.Name, err)
		}
		key := routerKey(&in, vmacs)
		out[key] = append(out[key], norm)
	}
	return out, nil
}

// addrOptions are the vrrp.AddrOptions of in's virtual and excluded
// addresses that have settings of their own. An address on another
// interface than the instance's (or vipIf) goes there; vrrp refuses that
// with a VMAC, with an error naming the interface.
func addrOptions(in *config.VRRPInstance, vipIf string) []vrrp.AddrOptions {
	var out []vrrp.AddrOptions
	for _, v := range slices.Concat(in.VirtualIPs, in.ExcludedIPs) {
		o := vrrp.AddrOptions{
			Addr: v.Prefix.Addr(), NoTrack: v.NoTrack, Label: v.Label, Scope: v.Scope, Broadcast: v.Broadcast,
			Peer: v.Peer, Flags: v.Flags, DAD: v.DAD, PreferredLft: v.PreferredLft, PreferredLftSet: v.PreferredLftSet,
		}
		if v.Dev != in.Interface && v.Dev != vipIf {
			o.Interface = v.Dev
		}
		if o.Interface == "" {
			o.NoTrack = false // only the address's own interface is tracked
		}
		if o != (vrrp.AddrOptions{Addr: o.Addr}) {
			out = append(out, o)
		}
	}
	return out
}

// vmacAddrDev is the interface every address of in names with dev, if
// they all name the same one and it is not the instance's; track is
// whether one of them is tracked (no no_track).
func vmacAddrDev(in *config.VRRPInstance) (dev string, track bool) {
	for i, v := range slices.Concat(in.VirtualIPs, in.ExcludedIPs) {
		if v.Dev == "" || v.Dev == in.Interface || i > 0 && v.Dev != dev {
			return "", false
		}
		dev, track = v.Dev, track || !v.NoTrack
	}
	return dev, track
}

// garpGroups are the routers' vrrp.GARPGroups from cfg's garp_group
// blocks, and a note for each group whose interfaces carry addresses of
// instances of more than one router: each router (one per advert
// interface) paces its own frames there, where keepalived paces those of
// all its instances together.
func garpGroups(cfg *config.Config, routers map[string][]vrrp.Config) ([]vrrp.GARPGroup, []string) {
	var out []vrrp.GARPGroup
	var notes []string
	for _, g := range cfg.Global.GARPGroups {
		out = append(out, vrrp.GARPGroup{Interfaces: g.Interfaces, GARPInterval: g.GARPInterval, GNAInterval: g.GNAInterval})
		var users []string
		for _, key := range sortedKeys(routers) {
			for _, vc := range routers[key] {
				if slices.ContainsFunc(vc.Addresses(), func(a vrrp.Address) bool { return slices.Contains(g.Interfaces, a.Interface) }) && !slices.Contains(users, key) {
					users = append(users, key)
				}
			}
		}
		if len(users) > 1 {
			notes = append(notes, fmt.Sprintf("%s: the garp_group's interfaces carry addresses of instances advertising on %s: each paces its own frames", g.Pos, strings.Join(users, ", ")))
		}
	}
	return out, notes
}

// destKey names a real server of a virtual server, as health targets do.
func destKey(vs *config.VirtualServer, rs *config.RealServer) string {
	return vs.Key() + " -> " + rs.Addr.String()
}

// ipvsService maps a virtual server onto an IPVS service.
func ipvsService(vs *config.VirtualServer) (ipvs.Service, error) {
	s := ipvs.Service{Scheduler: vs.LBAlgo, FWMark: vs.FWMark}
	if vs.FWMark == 0 {
		s.Address = vs.Addr.Addr()
		s.Port = vs.Addr.Port()
		switch vs.Protocol {
		case config.TCP:
			s.Protocol = ipvs.TCP
		case config.UDP:
			s.Protocol = ipvs.UDP
		case config.SCTP:
			s.Protocol = ipvs.SCTP
		default:
			return s, fmt.Errorf("%s: virtual_server %s: protocol %q", vs.Pos, vs.Key(), vs.Protocol)
		}
	} else {
		s.Family = ipvs.IPv4
		for _, rs := range vs.RealServers {
			if rs.Addr.Addr().Is6() {
				s.Family = ipvs.IPv6
			}
		}
		switch vs.IPFamily {
		case 4:
			s.Family = ipvs.IPv4
		case 6:
			s.Family = ipvs.IPv6
		}
	}
	s.PersistenceEngine = vs.PersistenceEngine
	for _, f := range []struct {
		c config.SchedFlags
		k ipvs.ServiceFlags
	}{{config.SchedFlag1, ipvs.FlagSched1}, {config.SchedFlag2, ipvs.FlagSched2}, {config.SchedFlag3, ipvs.FlagSched3}} {
		if vs.SchedFlags&f.c != 0 {
			s.Flags |= f.k
		}
	}
	if vs.OnePacket {
		s.Flags |= ipvs.FlagOnePacket
	}
	if vs.PersistenceTimeout > 0 {
		s.Flags |= ipvs.FlagPersistent
		s.Timeout = uint32(vs.PersistenceTimeout / time.Second)
		s.Netmask = vs.PersistenceGranularity
	}
	return s, nil
}

// forwardOf sets d's forwarding method to k (the virtual server's when
// empty), with TUN's encapsulation t.
func forwardOf(d *ipvs.Destination, k config.LBKind, t config.Tunnel) error {
	if k != "" {
		fwd, err := forward(k)
		if err != nil {
			return err
		}
		d.Forward = fwd
	}
	if d.Forward != ipvs.Tunnel {
		return nil
	}
	switch t.Type {
	case "gue":
		d.TunnelType, d.TunnelPort = ipvs.TunnelGUE, t.Port
	case "gre":
		d.TunnelType = ipvs.TunnelGRE
	}
	switch t.Csum {
	case "csum":
		d.TunnelFlags = ipvs.TunnelChecksum
	case "remcsum":
		d.TunnelFlags = ipvs.TunnelRemoteChecksum
	}
	return nil
}

func forward(k config.LBKind) (ipvs.ForwardMethod, error) {
	switch k {
	case config.LBKindDR:
		return ipvs.Route, nil
	case config.LBKindNAT:
		return ipvs.Masquerade, nil
	case config.LBKindTUN:
		return ipvs.Tunnel, nil
	}
	return 0, fmt.Errorf("lb_kind %q", k)
}

// plan is the pure mapping of the IPVS and health parts of a configuration.
type plan struct {
	services []ipvs.VirtualServer // configured weights
	pools    []pool
	lvs      *lvsState
	targets  []healthcheck.Target
	// prints describes what each target (by name) was built from, so that
	// a reload can keep the targets whose settings did not change.
	prints map[string]string
	// mail says which virtual and real servers send alert e-mails (nil:
	// none).
	mail *config.Mail
}

// ipvsPlan maps the virtual servers and their checkers.
func ipvsPlan(cfg *config.Config) (*plan, error) {
	p := &plan{prints: map[string]string{}, lvs: &lvsState{}, mail: cfg.Mail}
	cred := cfg.Global.Script.Credential()
	for i := range cfg.VirtualServers {
		vs := &cfg.VirtualServers[i]
		svc, err := ipvsService(vs)
		if err != nil {
			return nil, err
		}
		fwd, err := forward(vs.LBKind)
		if err != nil {
			return nil, fmt.Errorf("%s: virtual_server %s: %w", vs.Pos, vs.Key(), err)
		}
		pl := pool{name: vs.Key(), services: []ipvs.Service{svc}, quorum: max(vs.Quorum, 1), hyst: vs.Hysteresis,
			quorumUp: vs.QuorumUp, quorumDown: vs.QuorumDown, omega: vs.Omega, vs: vs}
		if vs.Group != "" {
			pl.services = groupServices(vs, svc)
		}
		if s := vs.SorryServer; s != nil {
			sd := ipvs.Destination{Address: s.Addr.Addr(), Port: s.Addr.Port(), Forward: fwd, Weight: 1}
			if err := forwardOf(&sd, s.LBKind, s.Tunnel); err != nil {
				return nil, fmt.Errorf("%s: virtual_server %s: sorry_server: %w", vs.Pos, vs.Key(), err)
			}
			pl.sorry = &sd
			pl.sorryInhibit = s.Inhibit
		}
		var dests []ipvs.Destination
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			d := ipvs.Destination{Address: rs.Addr.Addr(), Port: rs.Addr.Port(), Forward: fwd, Weight: uint32(rs.Weight),
				UpperThreshold: rs.UThreshold, LowerThreshold: rs.LThreshold}
			if err := forwardOf(&d, rs.LBKind, rs.Tunnel); err != nil {
				return nil, fmt.Errorf("%s: real_server %s: %w", rs.Pos, rs.Addr, err)
			}
			dests = append(dests, d)
			pd := poolDest{dest: d, inhibit: rs.InhibitOnFailure, alpha: rs.Alpha, notifyUp: rs.NotifyUp, notifyDown: rs.NotifyDown, files: rs.FileChecks, rs: rs}
			if len(rs.Checkers) > 0 { // without checkers always up, as in keepalived
				t, err := target(vs, rs, cred)
				if err != nil {
					return nil, err
				}
				p.targets = append(p.targets, t)
				p.prints[t.Name] = targetPrint(vs, rs, cfg.Global.Script)
				pd.target = t.Name
			}
			pl.dests = append(pl.dests, pd)
		}
		for _, s := range pl.services {
			v := ipvs.VirtualServer{Service: s}
			for _, d := range dests {
				if s.FWMark == 0 && s.Port != 0 && d.Port == 0 {
					d.Port = s.Port
				}
				v.Destinations = append(v.Destinations, d)
			}
			p.services = append(p.services, v)
		}
		p.pools = append(p.pools, pl)
	}
	return p, nil
}

// target builds the health-check target of a real server: all its checkers
// must pass, as in keepalived. MISC_CHECK programs run as cred (nil: as
// the agent).
func target(vs *config.VirtualServer, rs *config.RealServer, cred *syscall.Credential) (healthcheck.Target, error) {
	t := healthcheck.Target{Name: destKey(vs, rs), Interval: vs.DelayLoop}
	if rs.DelayLoop > 0 {
		t.Interval = rs.DelayLoop
	}
	var checks []healthcheck.Checker
	for _, c := range rs.Checkers {
		ck, timeout, err := checker(vs, rs, &c, cred)
		if err != nil {
			return t, fmt.Errorf("%s: %s in real_server %s: %w", c.Pos, c.Kind, rs.Addr, err)
		}
		checks = append(checks, ck)
		t.Timeout += timeout
		t.Retries = max(t.Retries, c.Retry)
		t.RetryDelay = max(t.RetryDelay, c.DelayBeforeRetry)
	}
	if len(checks) == 1 {
		t.Checker = checks[0]
	} else {
		t.Checker = allOf(checks)
	}
	if err := t.Validate(); err != nil {
		return t, fmt.Errorf("%s: real_server %s: %w", rs.Pos, rs.Addr, err)
	}
	return t, nil
}

// targetPrint describes the settings a real server's health target is
// built from: its checkers and the virtual server's delay loop, without
// positions in the file, and who MISC_CHECK programs run as.
func targetPrint(vs *config.VirtualServer, rs *config.RealServer, id config.ScriptIdentity) string {
	r := *rs
	r.Pos = config.Pos{}
	r.Checkers = make([]config.Checker, len(rs.Checkers))
	for i, c := range rs.Checkers {
		c.Pos = config.Pos{}
		r.Checkers[i] = c
	}
	return fmt.Sprintf("%s %v %#v %+v", vs.Key(), vs.DelayLoop, r, id)
}

// allOf is up when every checker is, checked in order.
func allOf(cs []healthcheck.Checker) healthcheck.Checker {
	return healthcheck.CheckerFunc(func(ctx context.Context) healthcheck.Result {
		var last healthcheck.Result
		for _, c := range cs {
			last = c.Check(ctx)
			if !last.Up {
				return last
			}
		}
		return last
	})
}

func checker(vs *config.VirtualServer, rs *config.RealServer, c *config.Checker, cred *syscall.Credential) (healthcheck.Checker, time.Duration, error) {
	addr := rs.Addr
	if rs.CheckPort != 0 {
		addr = netip.AddrPortFrom(addr.Addr(), rs.CheckPort)
	}
	if c.ConnectIP.IsValid() {
		addr = netip.AddrPortFrom(c.ConnectIP, addr.Port())
	}
	if c.ConnectPort != 0 {
		addr = netip.AddrPortFrom(addr.Addr(), c.ConnectPort)
	}
	if addr.Port() == 0 && c.Kind != config.MiscCheck && c.Kind != config.PingCheck {
		return nil, 0, fmt.Errorf("no port to check (set connect_port)")
	}
	to := c.ConnectTimeout
	bind := healthcheck.Bind{Source: c.BindTo, Interface: c.BindIf, SourcePort: c.BindPort, Mark: c.FWMark}
	switch c.Kind {
	case config.TCPCheck:
		return &healthcheck.TCP{Addr: addr, Timeout: to, Bind: bind}, to, nil
	case config.UDPCheck:
		return udpChecker(addr, to, bind, c), to, nil
	case config.SMTPCheck:
		s := &healthcheck.SMTP{Addr: addr, Timeout: to, HeloName: c.HeloName, Bind: bind}
		if err := s.Validate(); err != nil {
			return nil, 0, err
		}
		return s, to, nil
	case config.PingCheck:
		pc := &healthcheck.Ping{Addr: addr.Addr(), Timeout: to}
		if err := pc.Validate(); err != nil {
			return nil, 0, err
		}
		return pc, to, nil
	case config.DNSCheck:
		typ, err := healthcheck.ParseType(c.DNSType)
		if err != nil {
			return nil, 0, err
		}
		return &healthcheck.DNS{Addr: addr, Timeout: to, Name: c.DNSName, Type: typ, Bind: bind}, to, nil
	case config.MiscCheck:
		if len(c.MiscPath) == 0 {
			return nil, 0, fmt.Errorf("misc_path is empty")
		}
		to = c.MiscTimeout
		if to == 0 {
			to = vs.DelayLoop
		}
		if c.MiscUser != "" {
			cred = c.MiscIdentity.Credential()
		}
		return &healthcheck.Exec{Argv: c.MiscPath, Timeout: to, Dynamic: c.MiscDynamic, Credential: cred}, to, nil
	case config.HTTPGet, config.SSLGet:
		scheme := "http"
		if c.Kind == config.SSLGet {
			scheme = "https"
		}
		var cs []healthcheck.Checker
		for _, u := range c.URLs {
			h, err := httpChecker(scheme+"://"+addr.String()+u.Path, to, bind, c, &u)
			if err != nil {
				return nil, 0, err
			}
			for _, r := range u.StatusCodes {
				h.Status = append(h.Status, healthcheck.StatusRange{Min: r.Min, Max: r.Max})
			}
			if err := h.Validate(); err != nil {
				return nil, 0, err
			}
			cs = append(cs, h)
		}
		if len(cs) == 0 {
			return nil, 0, fmt.Errorf("no url")
		}
		if len(cs) == 1 {
			return cs[0], to, nil
		}
		return allOf(cs), to * time.Duration(len(cs)), nil
	}
	return nil, 0, fmt.Errorf("checker kind %q is not supported", c.Kind)
}

// keepalivedUDPPayload is what keepalived 2.2.7's UDP_CHECK sends without
// a payload: 32 bytes of "keepalived check - " repeated (layer4.c).
var keepalivedUDPPayload = []byte("keepalived check - keepalived ch")

// udpChecker is keepalived's UDP_CHECK: its payload, and with
// require_reply a reply within the timeout, holding the reply data if
// set.
func udpChecker(addr netip.AddrPort, to time.Duration, bind healthcheck.Bind, c *config.Checker) *healthcheck.UDP {
	u := &healthcheck.UDP{Addr: addr, Timeout: to, Payload: keepalivedUDPPayload, Bind: bind}
	if c.UDPPayload != nil {
		u.Payload = c.UDPPayload
	}
	if c.UDPRequireReply {
		u.Reply = &healthcheck.UDPReply{Data: c.UDPReply, Mask: c.UDPReplyMask, MinLen: c.UDPMinReply, MaxLen: c.UDPMaxReply}
	}
	return u
}

// httpChecker is one url of keepalived's HTTP_GET or SSL_GET: the request
// of its http_protocol (1.0 by default) with keepalived's User-Agent, the
// url's or checker's virtual host as Host, with enable_sni the url's or
// the checker's (else the virtual server's) virtual host as the TLS
// server name and no server name otherwise, and the url's regex.
func httpChecker(url string, to time.Duration, bind healthcheck.Bind, c *config.Checker, u *config.URL) (*healthcheck.HTTP, error) {
	h := &healthcheck.HTTP{
		URL:                url,
		Timeout:            to,
		Digest:             u.Digest,
		Host:               c.VirtualHost,
		InsecureSkipVerify: true, // keepalived's SSL_GET does not verify either
		Protocol:           c.HTTPProtocol,
		UserAgent:          "KeepAliveClient",
		NoSNI:              true,
		Bind:               bind,
	}
	if h.Protocol == "" {
		h.Protocol = "1.0"
	}
	if u.VirtualHost != "" {
		h.Host = u.VirtualHost
	}
	if c.EnableSNI {
		h.ServerName = c.SNIHost
		if u.VirtualHost != "" {
			h.ServerName = u.VirtualHost
		}
	}
	if u.GoRegex != "" {
		re, err := regexp.Compile(u.GoRegex)
		if err != nil {
			return nil, fmt.Errorf("url %s: regex %q: %w", u.Path, u.Regex, err)
		}
		h.Body, h.BodyBytes, h.BodyNoMatch = re, u.RegexBytes, u.RegexNoMatch
		h.BodyFrom, h.BodyTo = u.RegexMinOffset, u.RegexMaxOffset
	}
	return h, nil
}

// targetState is a health target's last known state.
type targetState struct {
	up        bool
	weight    int
	hasWeight bool
}
