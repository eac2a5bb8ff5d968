package config

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// addrFlagWords are the address flags keepalived 2.2.7 reads
// (vrrp_ipaddress.c, alloc_ipaddress) and adds to either family.
var addrFlagWords = map[string]uint32{
	"home": IFAFHomeAddress, "mngtmpaddr": IFAFManageTempAddr,
	"noprefixroute": IFAFNoPrefixRoute, "autojoin": IFAFMCAutojoin,
}

// parseAddrLine reads a static_ipaddress (static true), virtual_ipaddress
// or virtual_ipaddress_excluded line as keepalived 2.2.7's alloc_ipaddress
// does: ADDR[/LEN] then, in any order, dev IF, scope SCOPE, brd|broadcast
// ADDR|+|-, label LABEL, peer ADDR, home, mngtmpaddr, noprefixroute,
// autojoin, -nodad, preferred_lft N|forever and no_track. What keepalived
// ignores with a message is ignored with a warning (an unknown word, a
// scope it cannot read, a label or scope on an IPv6 address, brd +/- on a
// /31 or /32, a peer it cannot read or a second one, brd or a prefix
// length with a peer, a preferred_lft out of range); what makes it drop
// the address is refused, quoting keepalived. Only track_group (static)
// and use_vmac (virtual) are refused as unsupported.
func parseAddrLine(words []string, static bool) (v VirtualIP, warnings []string, e *lineError) {
	p, ok, e := ipWord(words[0])
	switch {
	case e != nil:
		return v, nil, e
	case !ok:
		return v, nil, &lineError{skip: true, msg: fmt.Sprintf("%q is not an address: keepalived 2.2.7 skips the line (\"VRRP parsed invalid IP %s. skipping IP...\"), and so does lbnode", words[0], words[0])}
	}
	v.Prefix = p
	addr := words[0]
	brd := ""
	warn := func(format string, a ...any) { warnings = append(warnings, fmt.Sprintf(format, a...)) }
	for i := 1; i < len(words); i++ {
		w := words[i]
		unsupported := static && w == "track_group" || !static && w == "use_vmac"
		takesValue := w == "track_group"
		switch w {
		case "dev", "scope", "brd", "broadcast", "label", "peer", "preferred_lft":
			takesValue = true
		}
		if takesValue && i+1 >= len(words) {
			return v, nil, refuse("%s: missing value (keepalived 2.2.7: \"No %s parameter specified for %s\")", w, w, addr)
		}
		if unsupported {
			return v, nil, refuse("%s %q is not supported", addr, w)
		}
		if w == "peer" && v.Peer.IsValid() {
			// keepalived steps onto the value and reads it as the next
			// word (its loop continues without stepping over it).
			warn("peer %s: a second peer is ignored, as keepalived 2.2.7 ignores it (\"Peer %s - another peer has already been specified\"); like keepalived, lbnode then reads %q as the next word", words[i+1], words[i+1], words[i+1])
			continue
		}
		if takesValue {
			i++
		}
		if f, ok := addrFlagWords[w]; ok {
			v.Flags |= f
			continue
		}
		switch w {
		case "no_track":
			v.NoTrack = true
		case "-nodad":
			v.DAD = true
		case "dev":
			if v.Dev != "" {
				return v, nil, refuse("dev %s: a second dev (keepalived 2.2.7: \"Cannot specify ipaddress device more than once for %s\", and drops the address)", words[i], addr)
			}
			if !validIfName(words[i]) {
				return v, nil, refuse("dev %q is not an interface name", words[i])
			}
			v.Dev = words[i]
		case "label":
			if len(words[i]) > 15 {
				return v, nil, refuse("label %q is longer than 15 characters (keepalived 2.2.7: \"Address label %s is longer than maximum length 15 - removing address\")", words[i], words[i])
			}
			v.Label = words[i]
		case "scope":
			s, ok := scopeValue(words[i])
			if !ok {
				warn("scope %q is not global, site, link, host, nowhere or a number 0-255: ignored, as keepalived 2.2.7 does (\"Invalid scope '%s' specified for %s - ignoring\")", words[i], words[i], addr)
				continue
			}
			v.Scope = s
		case "brd", "broadcast":
			if p.Addr().Is6() {
				return v, nil, refuse("%s %s for the IPv6 address %s (keepalived 2.2.7 drops the address: \"VRRP is trying to assign a broadcast %s to the IPv6 address %s\")", w, words[i], addr, w, addr)
			}
			if b := words[i]; b != "+" && b != "-" {
				a, err := netip.ParseAddr(b)
				if err != nil || !a.Is4() {
					return v, nil, refuse("%s %q is not an IPv4 address (keepalived 2.2.7 drops the address: \"VRRP is trying to assign invalid broadcast %s. skipping VIP...\")", w, b, b)
				}
			}
			brd = words[i]
		case "peer":
			// keepalived reads the peer without a prefix length, of the
			// family a ':' says.
			a, err := netip.ParseAddr(words[i])
			switch {
			case err != nil || a.Zone() != "":
				warn("peer %q is not an address: ignored, as keepalived 2.2.7 ignores it (\"Invalid peer address %s\")", words[i], words[i])
			case a.Is4() != p.Addr().Is4():
				warn("peer %s is not of the family of %s: ignored, as keepalived 2.2.7 ignores it (\"Peer address %s does not match address family\")", words[i], addr, words[i])
			default:
				if p.Bits() != p.Addr().BitLen() {
					warn("%s: the prefix length is ignored with a peer, as keepalived 2.2.7 ignores it (\"Cannot specify address prefix when specifying peer address - ignoring\"): the address is a /%d", addr, p.Addr().BitLen())
				}
				v.Prefix = netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
				v.Peer = netip.PrefixFrom(a, a.BitLen())
			}
		case "preferred_lft":
			n, msg, e := preferredLft(words[i])
			switch {
			case e != nil:
				return v, nil, e
			case msg != "":
				warn("%s", msg)
			default:
				v.PreferredLft, v.PreferredLftSet = n, true
			}
		default:
			warn("%q ignored, as keepalived 2.2.7 ignores it (\"Unknown configuration entry '%s' for ip address - ignoring\")", w, w)
		}
	}
	switch {
	case brd != "" && v.Peer.IsValid():
		warn("brd %s ignored with a peer, as keepalived 2.2.7 ignores it (\"Cannot specify broadcast and peer addresses - ignoring broadcast address\")", brd)
	case brd == "+" || brd == "-":
		if v.Prefix.Bits() > 30 {
			warn("brd %s: no broadcast address for a /%d, as keepalived 2.2.7 sets none (\"Address prefix length %d too long for broadcast\")", brd, v.Prefix.Bits(), v.Prefix.Bits())
			break
		}
		v.Broadcast = broadcastOf(v.Prefix, brd == "+")
	case brd != "":
		v.Broadcast = netip.MustParseAddr(brd)
	}
	if p.Addr().Is6() {
		if v.Scope != 0 {
			warn("scope ignored for the IPv6 address %s, as keepalived 2.2.7 ignores it (\"Cannot specify scope for IPv6 addresses (%s) - ignoring scope\")", addr, addr)
			v.Scope = 0
		}
		if v.Label != "" {
			warn("label ignored for the IPv6 address %s, as keepalived 2.2.7 ignores it (\"Cannot specify label for IPv6 addresses (%s) - ignoring label\")", addr, addr)
			v.Label = ""
		}
	} else {
		// keepalived reads both on an IPv4 address and, silently, sets
		// neither: duplicate address detection and lifetimes are IPv6's.
		if v.DAD {
			warn("-nodad has no effect on the IPv4 address %s (keepalived 2.2.7 too asks for DAD on IPv6 addresses only)", addr)
			v.DAD = false
		}
		if v.PreferredLftSet {
			warn("preferred_lft has no effect on the IPv4 address %s (keepalived 2.2.7 too sets it on IPv6 addresses only)", addr)
			v.PreferredLft, v.PreferredLftSet = 0, false
		}
	}
	return v, warnings, nil
}

// preferredLft reads a preferred_lft value as keepalived 2.2.7 does:
// forever, or a number 0-4294967295 as strtoul reads it (an optional sign,
// then decimal digits). A number out of range is ignored with a message
// (msg); a word that is no number is refused, as keepalived -t ignores
// it while keepalived at run time uses its leading digits (0 if none).
func preferredLft(s string) (n uint32, msg string, e *lineError) {
	if s == "forever" {
		return math.MaxUint32, "", nil
	}
	digits, neg := s, false
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits, neg = digits[1:], digits[0] == '-'
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, "", refuse("preferred_lft %q is not a number 0-4294967295 or forever (keepalived 2.2.7 -t ignores it, \"preferred_lft %s is invalid\", but at run time uses its leading digits, 0 if none)", s, s)
	}
	u, err := strconv.ParseUint(digits, 10, 64)
	switch {
	case neg && err == nil && u == 0:
		return 0, "", refuse("preferred_lft %q is not a number 0-4294967295 or forever (keepalived 2.2.7 -t ignores it, \"preferred_lft %s is invalid\", but at run time uses 0)", s, s)
	case neg || err != nil || u > math.MaxUint32:
		return 0, fmt.Sprintf("preferred_lft %s is out of the range 0-4294967295: ignored, as keepalived 2.2.7 ignores it (\"preferred_lft %s is invalid\")", s, s), nil
	}
	return uint32(u), "", nil
}

// broadcastOf is p's address with its host bits all set (ones) or all
// cleared; p is IPv4.
func broadcastOf(p netip.Prefix, ones bool) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := uint32(math.MaxUint32) >> p.Bits()
	if ones {
		v |= host
	} else {
		v &^= host
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// vipLines reads a virtual_ipaddress block (excluded false) or a
// virtual_ipaddress_excluded one into in. fam is the instance's family so
// far ("" none yet), which the first virtual_ipaddress sets; excluded
// addresses may be of either family. An address listed twice, in one
// block or across both, is kept once, as the kernel holds it once: as a
// VIP if it is one, since the adverts carry those.
func (m *kaMapper) vipLines(n *node, in *VRRPInstance, excluded bool, fam *string) {
	block := n.name
	m.lines(n, func(c *node, words []string) {
		v, warnings, e := parseAddrLine(words, false)
		if e != nil {
			m.report(c, block, e)
			return
		}
		warn := func(format string, a ...any) {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: c.pos, Directive: block, Msg: fmt.Sprintf(format, a...)})
		}
		for _, w := range warnings {
			warn("%s", w)
		}
		same := func(o VirtualIP) bool { return o.Prefix.Addr() == v.Prefix.Addr() }
		switch {
		case slices.ContainsFunc(in.VirtualIPs, same):
			warn("%s is listed twice: this line is ignored, as the address can be added once", v.Prefix.Addr())
			return
		case excluded && slices.ContainsFunc(in.ExcludedIPs, same):
			warn("%s is listed twice: this line is ignored, as the address can be added once", v.Prefix.Addr())
			return
		case excluded:
			in.ExcludedIPs = append(in.ExcludedIPs, v)
			return
		}
		switch f := addrFamily(v.Prefix.Addr()); {
		case *fam == "":
			*fam = f
		case f != *fam:
			warn("%s is not of the instance's family (%s): ignored, as keepalived does", v.Prefix, *fam)
			return
		}
		if i := slices.IndexFunc(in.ExcludedIPs, same); i >= 0 {
			warn("%s is also in virtual_ipaddress_excluded: added once, as a virtual address the adverts carry", v.Prefix.Addr())
			in.ExcludedIPs = slices.Delete(in.ExcludedIPs, i, i+1)
		}
		in.VirtualIPs = append(in.VirtualIPs, v)
	})
}

// check returns what is wrong with s on the address p with the broadcast
// address brd, "" if nothing: a peer of another family, with a prefix
// length on the address or with a broadcast address, a flag keepalived
// does not name.
func (s AddrSettings) check(p netip.Prefix, brd netip.Addr) string {
	const flags = IFAFHomeAddress | IFAFManageTempAddr | IFAFNoPrefixRoute | IFAFMCAutojoin
	switch {
	case s.Peer.IsValid() && (s.Peer.Addr().Is4() != p.Addr().Is4() || s.Peer.Addr().Zone() != ""):
		return fmt.Sprintf("peer %s is not of the address's family", s.Peer)
	case s.Peer.IsValid() && p.Bits() != p.Addr().BitLen():
		return fmt.Sprintf("peer %s: the address takes its prefix length from the peer, and has none of its own", s.Peer)
	case s.Peer.IsValid() && brd.IsValid():
		return fmt.Sprintf("peer %s: a point-to-point address has no broadcast address", s.Peer)
	case s.Flags&^flags != 0:
		return fmt.Sprintf("flags 0x%x: only home, mngtmpaddr, noprefixroute and autojoin (0x%x) may be set", s.Flags, flags)
	}
	return ""
}
