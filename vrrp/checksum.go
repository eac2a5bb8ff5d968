package vrrp

import "net/netip"

// UnicastChecksum says how an IPv4 VRRPv3 instance with unicast peers
// computes the advert checksum. RFC 5798 puts the packet's destination in
// the pseudo-header; keepalived before 2.0 put the multicast group there
// even in unicast adverts. keepalived 2.2.7, built with
// OLD_CHKSUM_COMPAT as Debian's is, follows a peer that still does
// (vrrp.c, unicast_chksum_compat), and so does the Router.
type UnicastChecksum uint8

const (
	// UnicastChecksumAuto computes RFC 5798's until a peer's advert
	// checks only with Group in the pseudo-header, then that one for good
	// (keepalived's default).
	UnicastChecksumAuto UnicastChecksum = iota
	// UnicastChecksumNever always computes RFC 5798's
	// (old_unicast_checksum never).
	UnicastChecksumNever
	// UnicastChecksumOld always puts Group in the pseudo-header
	// (old_unicast_checksum).
	UnicastChecksumOld
)

// oldChecksumApplies reports whether c's adverts may carry keepalived's
// old unicast checksum: IPv4 VRRPv3 with unicast peers.
func (c *Config) oldChecksumApplies() bool {
	return c.Version == Version3 && !c.IPv6 && len(c.UnicastPeers) > 0
}

// OldUnicastChecksum reports whether the instance computes keepalived's
// old unicast checksum, as configured or since a peer's advert showed it.
func (m *Machine) OldUnicastChecksum() bool { return m.oldChecksum }

// pseudoDst is the destination the checksum of an advert to or from dst
// covers.
func (m *Machine) pseudoDst(dst netip.Addr) netip.Addr {
	if m.oldChecksum {
		return m.cfg.Group
	}
	return dst
}
