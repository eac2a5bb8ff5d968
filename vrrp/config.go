package vrrp

import (
	"net/netip"
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
	// "interface"). It is tracked: when it goes down the instance is FAULT.
	Interface string
	// VRID is the virtual router ID, 1-255.
	VRID uint8
	// Priority is 1-255; 255 makes this router the address owner.
	// 0 means DefaultPriority.
	Priority uint8
	// VIPs are the virtual addresses, IPv4 with their prefix length.
	VIPs []netip.Prefix
	// VIPInterface carries the VIPs and the gratuitous ARPs; default
	// Interface.
	VIPInterface string
	// AdvertInterval is a whole number of seconds, 1-255; 0 means 1s.
	AdvertInterval time.Duration
	// AuthPass enables simple password authentication (keepalived's
	// "auth_type PASS"); at most 8 bytes. Empty means no authentication.
	AuthPass string
	// NoPreempt keeps a higher-priority BACKUP from taking over from a
	// lower-priority MASTER.
	NoPreempt bool
	// PreemptDelay is how long after startup, or after first hearing a
	// lower-priority MASTER, a BACKUP waits before preempting it.
	PreemptDelay time.Duration
	// UnicastSrc and UnicastPeers switch to unicast adverts: they are sent
	// from UnicastSrc (default: the primary address) to each peer, and
	// only adverts from a peer are accepted. The TTL check is relaxed.
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
	// GARPRefresh, when positive, repeats a gratuitous ARP per VIP this
	// often while MASTER.
	GARPRefresh time.Duration
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
	if c.VIPInterface == "" {
		c.VIPInterface = c.Interface
	}
	if len(c.VIPs) == 0 {
		return c, &FieldError{Field: "VIPs", Msg: "at least one is required"}
	}
	if len(c.VIPs) > MaxAddrs {
		return c, &FieldError{Field: "VIPs", Value: strconv.Itoa(len(c.VIPs)), Msg: "more than 255"}
	}
	for _, p := range c.VIPs {
		if !p.IsValid() || !p.Addr().Is4() {
			return c, &FieldError{Field: "VIPs", Value: p.String(), Msg: "not an IPv4 prefix"}
		}
	}
	if c.AdvertInterval == 0 {
		c.AdvertInterval = DefaultAdvertInterval
	}
	if c.AdvertInterval%time.Second != 0 || c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second {
		return c, &FieldError{Field: "AdvertInterval", Value: c.AdvertInterval.String(), Msg: "must be a whole number of seconds, 1s-255s"}
	}
	if len(c.AuthPass) > 8 {
		return c, &FieldError{Field: "AuthPass", Value: strconv.Itoa(len(c.AuthPass)) + " bytes", Msg: "longer than 8 bytes"}
	}
	if c.PreemptDelay < 0 {
		return c, &FieldError{Field: "PreemptDelay", Value: c.PreemptDelay.String(), Msg: "negative"}
	}
	if c.UnicastSrc.IsValid() && !c.UnicastSrc.Is4() {
		return c, &FieldError{Field: "UnicastSrc", Value: c.UnicastSrc.String(), Msg: "not IPv4"}
	}
	if c.UnicastSrc.IsValid() && len(c.UnicastPeers) == 0 {
		return c, &FieldError{Field: "UnicastPeers", Msg: "required with UnicastSrc"}
	}
	for _, p := range c.UnicastPeers {
		if !p.Is4() || p.IsMulticast() || p.IsUnspecified() {
			return c, &FieldError{Field: "UnicastPeers", Value: p.String(), Msg: "not a unicast IPv4 address"}
		}
	}
	for _, n := range c.TrackInterfaces {
		if n == "" {
			return c, &FieldError{Field: "TrackInterfaces", Msg: "empty interface name"}
		}
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
// first, without duplicates.
func (c *Config) tracked() []string {
	names := []string{c.Interface}
	for _, n := range c.TrackInterfaces {
		dup := false
		for _, m := range names {
			dup = dup || m == n
		}
		if !dup {
			names = append(names, n)
		}
	}
	return names
}

// SkewTime is (256 - priority) / 256 seconds (RFC 3768 section 6.1).
func SkewTime(priority uint8) time.Duration {
	return time.Duration(256-int(priority)) * time.Second / 256
}

// MasterDownInterval is 3 * interval + SkewTime(priority).
func MasterDownInterval(interval time.Duration, priority uint8) time.Duration {
	return 3*interval + SkewTime(priority)
}
