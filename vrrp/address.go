package vrrp

import (
	"net/netip"
	"slices"
	"strconv"
)

// AddrOptions are one virtual address's own settings (keepalived's
// virtual_ipaddress options dev, no_track, label, scope and brd).
type AddrOptions struct {
	// Addr is the address, one of the VIPs or ExcludedVIPs.
	Addr netip.Addr
	// Interface carries the address and its gratuitous ARPs; "" means
	// VIPInterface. Unless NoTrack, the instance is FAULT while it is
	// down, as while Interface is, and a MASTER whose address is deleted
	// there by someone else resigns and comes back at once (see
	// AddrWatcher), as keepalived follows its addresses.
	Interface string
	NoTrack   bool
	// Label is the address's label (ip address ... label), at most 15
	// bytes; IPv4 only.
	Label string
	// Scope is the address's scope, as /etc/iproute2/rt_scopes numbers
	// them: 0 global, 200 site, 253 link, 254 host, 255 nowhere.
	Scope uint8
	// Broadcast is the IPv4 broadcast address; the zero Addr means none.
	Broadcast netip.Addr
	// Peer, when valid, is the other end of a point-to-point address
	// (ip address ... peer): the address is Addr alone, the prefix is
	// Peer's. Broadcast must then be unset.
	Peer netip.Prefix
	// Flags are the flags the address is added with: AddrFlagHome,
	// AddrFlagManageTemp, AddrFlagNoPrefixRoute, AddrFlagMCAutojoin.
	Flags uint32
	// DAD has the kernel run duplicate address detection on an IPv6
	// address (keepalived's -nodad); by default it does not (IFA_F_NODAD),
	// so that the address is usable at once.
	DAD bool
	// PreferredLft, when PreferredLftSet, is an IPv6 address's preferred
	// lifetime in seconds (0xffffffff: forever); by default a /128 is
	// added deprecated (0), so that it is not chosen as a source
	// address, and others forever, as keepalived adds them.
	PreferredLft    uint32
	PreferredLftSet bool
}

// Address is a virtual address as the Host adds it, with the settings
// of its AddrOptions.
type Address struct {
	Prefix          netip.Prefix
	Interface       string
	Label           string
	Scope           uint8
	Broadcast       netip.Addr
	Peer            netip.Prefix
	Flags           uint32
	DAD             bool
	PreferredLft    uint32
	PreferredLftSet bool
}

// Addresses returns the addresses a MASTER adds, as the Host adds them:
// the VIPs, then the ExcludedVIPs, each with its AddrOptions. c must be
// normalized.
func (c Config) Addresses() []Address {
	out := make([]Address, 0, len(c.VIPs)+len(c.ExcludedVIPs))
	for _, p := range slices.Concat(c.VIPs, c.ExcludedVIPs) {
		a := Address{Prefix: p, Interface: c.VIPInterface}
		if i := slices.IndexFunc(c.AddrOptions, func(o AddrOptions) bool { return o.Addr == p.Addr() }); i >= 0 {
			o := c.AddrOptions[i]
			if o.Interface != "" {
				a.Interface = o.Interface
			}
			a.Label, a.Scope, a.Broadcast, a.Peer, a.Flags = o.Label, o.Scope, o.Broadcast, o.Peer, o.Flags
			a.DAD, a.PreferredLft, a.PreferredLftSet = o.DAD, o.PreferredLft, o.PreferredLftSet
		}
		out = append(out, a)
	}
	return out
}

// ExtraGARPs are what GARPExtraInterval announces: the first address on
// each interface other than the one the adverts leave from (the VMAC's
// own included when VMAC.XmitBase sends them from its base), as
// keepalived's vrrp_send_vmac_update picks them. c must be normalized.
func (c Config) ExtraGARPs() []Address {
	own := c.Interface
	if c.VMAC != nil {
		own = c.VMAC.Name
	}
	var out []Address
	for _, a := range c.Addresses() {
		switch {
		case a.Interface == own && (c.VMAC == nil || !c.VMAC.XmitBase):
		case slices.ContainsFunc(out, func(b Address) bool { return b.Interface == a.Interface }):
		default:
			out = append(out, a)
		}
	}
	return out
}

// tracksAddr reports whether a is one of c's addresses on ifname whose
// deletion the instance follows (not NoTrack).
func (c Config) tracksAddr(ifname string, a netip.Addr) bool {
	for _, x := range c.Addresses() {
		if x.Prefix.Addr() == a && x.Interface == ifname {
			i := slices.IndexFunc(c.AddrOptions, func(o AddrOptions) bool { return o.Addr == a })
			return i < 0 || !c.AddrOptions[i].NoTrack
		}
	}
	return false
}

// addrInterfaces are the interfaces that carry c's addresses, in order,
// VIPInterface first. c must be normalized.
func (c Config) addrInterfaces() []string {
	names := []string{c.VIPInterface}
	for _, o := range c.AddrOptions {
		if o.Interface != "" && !slices.Contains(names, o.Interface) {
			names = append(names, o.Interface)
		}
	}
	return names
}

// byInterface groups addrs by interface, in order of first appearance.
func byInterface(addrs []Address) (names []string, prefixes map[string][]netip.Prefix) {
	prefixes = map[string][]netip.Prefix{}
	for _, a := range addrs {
		if _, ok := prefixes[a.Interface]; !ok {
			names = append(names, a.Interface)
		}
		prefixes[a.Interface] = append(prefixes[a.Interface], a.Prefix)
	}
	return names, prefixes
}

// normalizeAddrs checks ExcludedVIPs and AddrOptions; c's VIPs, IPv6,
// Interface, VIPInterface and VMAC are already normalized.
func (c *Config) normalizeAddrs() error {
	seen := map[netip.Addr]bool{}
	for _, p := range c.VIPs {
		seen[p.Addr()] = true
	}
	for _, p := range c.ExcludedVIPs {
		// keepalived lets the excluded addresses be of either family.
		if !p.IsValid() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			return &FieldError{Field: "ExcludedVIPs", Value: p.String(), Msg: "not an address with a prefix length"}
		}
		if seen[p.Addr()] {
			return &FieldError{Field: "ExcludedVIPs", Value: p.String(), Msg: "listed twice among the VIPs and ExcludedVIPs"}
		}
		seen[p.Addr()] = true
	}
	if len(c.VIPs)+len(c.ExcludedVIPs) > maxAddresses {
		return &FieldError{Field: "ExcludedVIPs", Value: strconv.Itoa(len(c.ExcludedVIPs)), Msg: "more than " + strconv.Itoa(maxAddresses) + " addresses with the VIPs"}
	}
	var opts []AddrOptions
	for _, o := range c.AddrOptions {
		v := o.Addr.String()
		switch {
		case !seen[o.Addr]:
			return &FieldError{Field: "AddrOptions", Value: v, Msg: "not one of the VIPs or ExcludedVIPs"}
		case slices.ContainsFunc(opts, func(x AddrOptions) bool { return x.Addr == o.Addr }):
			return &FieldError{Field: "AddrOptions", Value: v, Msg: "given twice"}
		case o.Interface != "" && !ValidIfName(o.Interface):
			return &FieldError{Field: "AddrOptions.Interface", Value: o.Interface, Msg: "not an interface name (1-15 bytes, no '/', ':' or space)"}
		case o.Label != "" && (len(o.Label) >= ifNameSize || o.Addr.Is6()):
			return &FieldError{Field: "AddrOptions.Label", Value: o.Label, Msg: "a label is for an IPv4 address, at most 15 bytes"}
		case o.Broadcast.IsValid() && (!o.Broadcast.Is4() || !o.Addr.Is4()):
			return &FieldError{Field: "AddrOptions.Broadcast", Value: o.Broadcast.String(), Msg: "a broadcast address is for an IPv4 address, and IPv4"}
		case o.Peer.IsValid() && (o.Peer.Addr().Is4() != o.Addr.Is4() || o.Peer.Addr().Zone() != ""):
			return &FieldError{Field: "AddrOptions.Peer", Value: o.Peer.String(), Msg: "not of the address's family"}
		case o.Peer.IsValid() && o.Broadcast.IsValid():
			return &FieldError{Field: "AddrOptions.Peer", Value: o.Peer.String(), Msg: "a point-to-point address has no broadcast address"}
		case o.Flags&^addrFlags != 0:
			return &FieldError{Field: "AddrOptions.Flags", Value: "0x" + strconv.FormatUint(uint64(o.Flags), 16), Msg: "only AddrFlagHome, AddrFlagManageTemp, AddrFlagNoPrefixRoute and AddrFlagMCAutojoin may be set"}
		}
		if c.VMAC != nil && o.Interface == c.Interface {
			// The addresses that would go on the base interface go on
			// the VMAC, as the VIPs do.
			o.Interface = c.VIPInterface
		}
		if o.Interface == c.VIPInterface {
			o.Interface = ""
		}
		if c.VMAC != nil && o.Interface != "" {
			return &FieldError{Field: "AddrOptions.Interface", Value: o.Interface, Msg: "an address on another interface than the VMAC's is not supported with VMAC"}
		}
		opts = append(opts, o)
	}
	c.AddrOptions = opts
	return nil
}

// The address flags AddrOptions.Flags may hold: Linux's IFA_F_* values
// (linux/if_addr.h) for keepalived's address options.
const (
	AddrFlagHome          uint32 = 0x10  // IFA_F_HOMEADDRESS: home
	AddrFlagManageTemp    uint32 = 0x100 // IFA_F_MANAGETEMPADDR: mngtmpaddr
	AddrFlagNoPrefixRoute uint32 = 0x200 // IFA_F_NOPREFIXROUTE: noprefixroute
	AddrFlagMCAutojoin    uint32 = 0x400 // IFA_F_MCAUTOJOIN: autojoin

	addrFlags = AddrFlagHome | AddrFlagManageTemp | AddrFlagNoPrefixRoute | AddrFlagMCAutojoin
)

// maxAddresses bounds the VIPs and ExcludedVIPs of one instance together.
const maxAddresses = 4096
