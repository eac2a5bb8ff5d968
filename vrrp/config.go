package vrrp

import (
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Defaults applied by Config.Normalize.
const (
	DefaultPriority       = 100
	DefaultAdvertInterval = time.Second
	DefaultGARPRepeat     = 5
	DefaultGARPDelay      = 5 * time.Second
	// OwnerPriority is the priority of the address owner, which becomes
	// MASTER at once and cannot be preempted.
	OwnerPriority = 255
)

// Config describes one VRRP instance (keepalived's vrrp_instance).
type Config struct {
	// Name names the instance in transitions and notify calls;
	// default "VI_<VRID>".
	Name string
	// Interface sends and receives the advertisements (keepalived's
	// "interface"). It is tracked, with the VMAC, unless DontTrackPrimary:
	// when it goes down the instance is FAULT.
	Interface        string
	DontTrackPrimary bool
	// VRID is the virtual router ID, 1-255.
	VRID uint8
	// Priority is 1-255; 255 makes this router the address owner.
	// 0 means DefaultPriority.
	Priority uint8
	// Version is the VRRP version: 2 (RFC 3768, IPv4 only) or 3 (RFC
	// 5798/9568, IPv4 or IPv6). 0 means 2 for an IPv4 instance and 3 for
	// an IPv6 one, as keepalived chooses.
	Version uint8
	// IPv6 makes this an IPv6 instance (keepalived's native_ipv6). An
	// instance whose first VIP is IPv6 is one too; Normalize sets it.
	// Every VIP, peer and the unicast source must be of the instance's
	// family.
	IPv6 bool
	// VIPs are the virtual addresses with their prefix length, all IPv4 or
	// all IPv6.
	VIPs []netip.Prefix
	// VIPInterface carries the VIPs and the gratuitous ARPs; default
	// Interface.
	VIPInterface string
	// AdvertInterval is, for VRRPv2, a whole number of seconds, 1s-255s;
	// for VRRPv3 a whole number of centiseconds, 10ms-40.95s. 0 means 1s.
	AdvertInterval time.Duration
	// AuthPass enables simple password authentication (keepalived's
	// "auth_type PASS"); at most 8 bytes, VRRPv2 only. Empty means no
	// authentication.
	AuthPass string
	// Group is the multicast group of the adverts (keepalived's
	// vrrp_mcast_group4 and vrrp_mcast_group6): an IPv4 multicast address,
	// or an IPv6 link-local multicast one. Default 224.0.0.18 or ff02::12.
	Group netip.Addr
	// NoPreempt keeps a higher-priority BACKUP from taking over from a
	// lower-priority MASTER.
	NoPreempt bool
	// PreemptDelay is how long after startup, or after first hearing a
	// lower-priority MASTER, a BACKUP waits before preempting it.
	PreemptDelay time.Duration
	// UnicastPeers switch to unicast adverts: they are sent to each peer,
	// and only adverts from a peer are accepted. The TTL (hop limit) check
	// is relaxed.
	//
	// UnicastSrc is the source address of the adverts, unicast or
	// multicast (keepalived's unicast_src_ip and mcast_src_ip); default:
	// the primary IPv4 address, or the interface's IPv6 link-local
	// address. An IPv6 UnicastSrc must be link-local (RFC 5798 section
	// 5.1.2.1).
	UnicastSrc   netip.Addr
	UnicastPeers []netip.Addr
	// TrackInterfaces also put the instance in FAULT while any of them is
	// down.
	TrackInterfaces []string
	// GARPRepeat is the number of gratuitous ARPs per VIP in each burst;
	// 0 means DefaultGARPRepeat.
	GARPRepeat int
	// GARPDelay is the delay of the second burst after becoming MASTER;
	// 0 means DefaultGARPDelay, negative means no second burst.
	GARPDelay time.Duration
	// GARPRefresh, when positive, repeats GARPRefreshRepeat gratuitous
	// ARPs per VIP (0 means 1) this often while MASTER.
	GARPRefresh       time.Duration
	GARPRefreshRepeat int
	// GARPInterval, when positive, spaces the gratuitous ARPs (IPv6:
	// unsolicited neighbour advertisements) sent on VIPInterface: one
	// frame per interval, across the instances with it on that interface
	// (keepalived's vrrp_garp_interval and vrrp_gna_interval). Zero sends
	// each burst at once.
	GARPInterval time.Duration
	// GARPExtraInterval, when positive, sends while MASTER, this often,
	// one gratuitous ARP (IPv6: neighbour advertisement) on each interface
	// that carries an address of the instance but not its adverts, for
	// its first address there (ExtraGARPs), so that switches keep the
	// interface's MAC address in their caches (keepalived's garp_extra_if
	// and vrrp_garp_extra_if with "all"); at most 24 hours.
	GARPExtraInterval time.Duration
	// A MASTER that hears an advert of lower priority (another router that
	// also thinks it is MASTER, as when a split brain heals) answers with
	// an advert, unless LowerPrioNoAdvert, and sends GARPLowerPrioRepeat
	// gratuitous ARPs per VIP at once and again after GARPLowerPrioDelay
	// (keepalived's garp_lower_prio_repeat and garp_lower_prio_delay), so
	// that hosts that learnt the other router's MAC for the VIPs while
	// both were MASTER come back at once. GARPLowerPrioRepeat 0 means
	// GARPRepeat, negative none; GARPLowerPrioDelay 0 means GARPDelay,
	// negative no second burst.
	GARPLowerPrioRepeat int
	GARPLowerPrioDelay  time.Duration
	LowerPrioNoAdvert   bool
	// A MASTER that yields to a higher-priority master (or an equal one
	// with a higher address) first sends one last advert at its own
	// priority, unless NoYieldAdvert. Its gratuitous ARPs may have moved
	// hosts to its MAC for the VIPs; if the other master never heard its
	// adverts (they were lost, as under packet loss or when a partition
	// heals on this side first), that advert is what makes the other
	// master refresh the hosts' caches (see GARPLowerPrioRepeat). keepalived
	// sends no such advert: each packet is the same on the wire, only the
	// sequence differs, and a keepalived MASTER answers it as any
	// lower-priority advert.
	NoYieldAdvert bool
	// SkipCheckAdvAddr has a BACKUP accept an advert whose addresses
	// differ from VIPs when it comes from the router whose advert it last
	// adopted (keepalived's skip_check_adv_addr); the first advert of a
	// router is checked.
	SkipCheckAdvAddr bool
	// UnicastChecksum is how an IPv4 VRRPv3 instance with UnicastPeers
	// computes the advert checksum; see UnicastChecksum.
	UnicastChecksum UnicastChecksum
	// StartupDelay holds a BACKUP's Master_Down timer until this long
	// after the start at the earliest, adverts heard meanwhile rearming
	// it from there (keepalived's vrrp_startup_delay).
	StartupDelay time.Duration
	// VMAC, if set, puts the instance on a virtual MAC interface
	// (keepalived's use_vmac); see VMAC.
	VMAC *VMAC
	// PromoteSecondaries sets the interface's promote_secondaries while
	// the instance runs, unless it is set already, so that removing a VIP
	// that is the primary address of its subnet there does not remove the
	// other addresses of the subnet (keepalived's promote_secondaries). A
	// VMAC has it set anyway.
	PromoteSecondaries bool
	// ExcludedVIPs are added, removed and announced by gratuitous ARPs
	// with the VIPs, but are neither carried in the adverts nor checked in
	// those heard (keepalived's virtual_ipaddress_excluded); they may be
	// of either family.
	ExcludedVIPs []netip.Prefix
	// AddrOptions give some of the VIPs and ExcludedVIPs, matched by
	// address, an interface of their own and the attributes of the
	// kernel's address; see AddrOptions.
	AddrOptions []AddrOptions
}

// Normalize returns a copy of c with the defaults filled in, or a
// *FieldError naming the first invalid field and its value.
func (c Config) Normalize() (Config, error) {
	if c.VRID == 0 {
		return c, &FieldError{Field: "VRID", Value: "0", Msg: "must be 1-255"}
	}
	if c.Name == "" {
		c.Name = "VI_" + strconv.Itoa(int(c.VRID))
	}
	if c.Interface == "" {
		return c, &FieldError{Field: "Interface", Msg: "is required"}
	}
	if c.Priority == 0 {
		c.Priority = DefaultPriority
	}
	if c.VMAC != nil {
		v := *c.VMAC
		if v.Name == "" {
			v.Name = DefaultVMACName(c.VRID)
		}
		switch {
		case !ValidIfName(v.Name):
			return c, &FieldError{Field: "VMAC.Name", Value: v.Name, Msg: "not an interface name (1-15 bytes, no '/', ':' or space)"}
		case v.Name == c.Interface:
			return c, &FieldError{Field: "VMAC.Name", Value: v.Name, Msg: "is the instance's Interface"}
		case v.Addr != nil && (len(v.Addr) != 6 || v.Addr[0]&1 != 0):
			return c, &FieldError{Field: "VMAC.Addr", Value: v.Addr.String(), Msg: "not a unicast Ethernet address"}
		case !v.XmitBase && len(c.UnicastPeers) > 0:
			// keepalived sets vmac_xmit_base itself, with a warning.
			return c, &FieldError{Field: "VMAC.XmitBase", Value: "false", Msg: "unicast peers need the adverts on the base interface"}
		}
		// The VIPs that would go on the base interface go on the VMAC.
		if c.VIPInterface == "" || c.VIPInterface == c.Interface {
			c.VIPInterface = v.Name
		}
		c.VMAC = &v
	}
	if c.VIPInterface == "" {
		c.VIPInterface = c.Interface
	}
	if len(c.VIPs) == 0 {
		return c, &FieldError{Field: "VIPs", Msg: "at least one is required"}
	}
	if len(c.VIPs) > MaxAddrs {
		return c, &FieldError{Field: "VIPs", Value: strconv.Itoa(len(c.VIPs)), Msg: "more than 255"}
	}
	if c.VIPs[0].IsValid() && c.VIPs[0].Addr().Is6() {
		c.IPv6 = true
	}
	fam := "IPv4"
	if c.IPv6 {
		fam = "IPv6"
	}
	for _, p := range c.VIPs {
		if !p.IsValid() {
			return c, &FieldError{Field: "VIPs", Value: p.String(), Msg: "not an address with a prefix length"}
		}
		if p.Addr().Is6() != c.IPv6 || p.Addr().Is4In6() {
			return c, &FieldError{Field: "VIPs", Value: p.String(), Msg: "not an " + fam + " prefix in an " + fam + " instance"}
		}
		if p.Addr().Zone() != "" {
			return c, &FieldError{Field: "VIPs", Value: p.String(), Msg: "has a zone"}
		}
	}
	switch {
	case c.Version == 0 && c.IPv6:
		c.Version = Version3
	case c.Version == 0:
		c.Version = Version2
	case c.Version == Version2 && c.IPv6:
		// keepalived 2.2.7 keeps version 2 for IPv6 unless vrrp_strict
		// (vrrp.c:2864), a protocol no RFC defines.
		return c, &FieldError{Field: "Version", Value: "2", Msg: "VRRPv2 is IPv4 only (RFC 3768); IPv6 needs version 3"}
	case c.Version != Version2 && c.Version != Version3:
		return c, &FieldError{Field: "Version", Value: strconv.Itoa(int(c.Version)), Msg: "must be 2 or 3"}
	}
	if c.AdvertInterval == 0 {
		c.AdvertInterval = DefaultAdvertInterval
	}
	if c.Version == Version2 {
		if c.AdvertInterval%time.Second != 0 || c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second {
			return c, &FieldError{Field: "AdvertInterval", Value: c.AdvertInterval.String(), Msg: "must be a whole number of seconds, 1s-255s, with VRRPv2"}
		}
	} else if c.AdvertInterval%centisecond != 0 || c.AdvertInterval < centisecond || c.AdvertInterval > MaxIntervalV3 {
		return c, &FieldError{Field: "AdvertInterval", Value: c.AdvertInterval.String(), Msg: "must be a whole number of centiseconds, 10ms-40.95s, with VRRPv3"}
	}
	if len(c.AuthPass) > 8 {
		return c, &FieldError{Field: "AuthPass", Value: strconv.Itoa(len(c.AuthPass)) + " bytes", Msg: "longer than 8 bytes"}
	}
	if c.AuthPass != "" && c.Version == Version3 {
		// keepalived 2.2.7 ignores it with a warning (vrrp.c:2929).
		return c, &FieldError{Field: "AuthPass", Value: strconv.Itoa(len(c.AuthPass)) + " bytes", Msg: "VRRPv3 has no authentication (RFC 5798)"}
	}
	if c.PreemptDelay < 0 {
		return c, &FieldError{Field: "PreemptDelay", Value: c.PreemptDelay.String(), Msg: "negative"}
	}
	switch {
	case !c.Group.IsValid() && c.IPv6:
		c.Group = MulticastGroup6
	case !c.Group.IsValid():
		c.Group = MulticastGroup
	case c.IPv6 && (!c.Group.Is6() || !c.Group.IsLinkLocalMulticast() || c.Group.Zone() != ""):
		return c, &FieldError{Field: "Group", Value: c.Group.String(), Msg: "not an IPv6 link-local multicast address (such as ff02::12)"}
	case !c.IPv6 && (!c.Group.Is4() || !c.Group.IsMulticast()):
		return c, &FieldError{Field: "Group", Value: c.Group.String(), Msg: "not an IPv4 multicast address (such as 224.0.0.18)"}
	}
	if c.UnicastSrc.IsValid() {
		switch {
		case c.UnicastSrc.Is6() != c.IPv6 || c.UnicastSrc.Is4In6():
			return c, &FieldError{Field: "UnicastSrc", Value: c.UnicastSrc.String(), Msg: "not " + fam + " in an " + fam + " instance"}
		case c.IPv6 && !c.UnicastSrc.IsLinkLocalUnicast():
			// RFC 5798 section 5.1.2.1; keepalived 2.2.7 accepts any.
			return c, &FieldError{Field: "UnicastSrc", Value: c.UnicastSrc.String(), Msg: "an IPv6 source must be the interface's link-local address (RFC 5798 section 5.1.2.1)"}
		case !c.IPv6 && (c.UnicastSrc.IsMulticast() || c.UnicastSrc.IsUnspecified()):
			return c, &FieldError{Field: "UnicastSrc", Value: c.UnicastSrc.String(), Msg: "not a unicast address"}
		}
		c.UnicastSrc = c.UnicastSrc.WithZone("")
	}
	for _, p := range c.UnicastPeers {
		if p.Is6() != c.IPv6 || p.Is4In6() || p.IsMulticast() || p.IsUnspecified() || p.Zone() != "" {
			return c, &FieldError{Field: "UnicastPeers", Value: p.String(), Msg: "not a unicast " + fam + " address in an " + fam + " instance"}
		}
	}
	for _, n := range c.TrackInterfaces {
		if n == "" {
			return c, &FieldError{Field: "TrackInterfaces", Msg: "empty interface name"}
		}
	}
	if err := c.normalizeAddrs(); err != nil {
		return c, err
	}
	if c.GARPRepeat == 0 {
		c.GARPRepeat = DefaultGARPRepeat
	}
	if c.GARPRepeat < 0 || c.GARPRepeat > 255 {
		return c, &FieldError{Field: "GARPRepeat", Value: strconv.Itoa(c.GARPRepeat), Msg: "must be 1-255"}
	}
	if c.GARPDelay == 0 {
		c.GARPDelay = DefaultGARPDelay
	}
	if c.GARPRefresh < 0 {
		return c, &FieldError{Field: "GARPRefresh", Value: c.GARPRefresh.String(), Msg: "negative"}
	}
	if c.GARPExtraInterval < 0 || c.GARPExtraInterval > 24*time.Hour {
		return c, &FieldError{Field: "GARPExtraInterval", Value: c.GARPExtraInterval.String(), Msg: "must be 0-24h"}
	}
	if c.GARPInterval < 0 {
		return c, &FieldError{Field: "GARPInterval", Value: c.GARPInterval.String(), Msg: "negative"}
	}
	if c.UnicastChecksum > UnicastChecksumOld {
		return c, &FieldError{Field: "UnicastChecksum", Value: strconv.Itoa(int(c.UnicastChecksum)), Msg: "not UnicastChecksumAuto, Never or Old"}
	}
	if c.StartupDelay < 0 {
		return c, &FieldError{Field: "StartupDelay", Value: c.StartupDelay.String(), Msg: "negative"}
	}
	switch {
	case c.GARPRefreshRepeat == 0:
		c.GARPRefreshRepeat = 1
	case c.GARPRefreshRepeat < 0 || c.GARPRefreshRepeat > 255:
		return c, &FieldError{Field: "GARPRefreshRepeat", Value: strconv.Itoa(c.GARPRefreshRepeat), Msg: "must be 1-255"}
	}
	switch {
	case c.GARPLowerPrioRepeat == 0:
		c.GARPLowerPrioRepeat = c.GARPRepeat
	case c.GARPLowerPrioRepeat > 255:
		return c, &FieldError{Field: "GARPLowerPrioRepeat", Value: strconv.Itoa(c.GARPLowerPrioRepeat), Msg: "must be at most 255"}
	case c.GARPLowerPrioRepeat < 0:
		c.GARPLowerPrioRepeat = -1
	}
	switch {
	case c.GARPLowerPrioDelay == 0:
		c.GARPLowerPrioDelay = c.GARPDelay
	case c.GARPLowerPrioDelay < 0:
		c.GARPLowerPrioDelay = -1
	}
	return c, nil
}

// tracked lists the interfaces whose state matters, the advert interface
// first unless DontTrackPrimary, without duplicates.
func (c *Config) tracked() []string {
	var names []string
	if !c.DontTrackPrimary {
		names = append(names, c.Interface)
		if c.VMAC != nil {
			names = append(names, c.VMAC.Name)
		}
	}
	for _, n := range c.TrackInterfaces {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, o := range c.AddrOptions {
		if o.Interface != "" && !o.NoTrack && !slices.Contains(names, o.Interface) {
			names = append(names, o.Interface)
		}
	}
	return names
}

// centisecond is the unit of the VRRPv3 interval.
const centisecond = 10 * time.Millisecond

// MaxIntervalV3 is the longest VRRPv3 advertisement interval, 4095
// centiseconds.
const MaxIntervalV3 = 0xfff * centisecond

// SkewTime is (256 - priority) / 256 seconds (RFC 3768 section 6.1).
func SkewTime(priority uint8) time.Duration {
	return time.Duration(256-int(priority)) * time.Second / 256
}

// MasterDownInterval is 3 * interval + SkewTime(priority), VRRPv2's
// Master_Down_Interval.
func MasterDownInterval(interval time.Duration, priority uint8) time.Duration {
	return 3*interval + SkewTime(priority)
}

// SkewTimeV3 is ((256 - priority) * interval) / 256, VRRPv3's Skew_Time
// for the master's advertised interval (RFC 5798 section 6.1).
func SkewTimeV3(interval time.Duration, priority uint8) time.Duration {
	return time.Duration(256-int(priority)) * interval / 256
}

// MasterDownIntervalV3 is 3 * interval + SkewTimeV3(interval, priority),
// VRRPv3's Master_Down_Interval: 36.09375 ms for 10 ms at priority 100.
func MasterDownIntervalV3(interval time.Duration, priority uint8) time.Duration {
	return 3*interval + SkewTimeV3(interval, priority)
}
