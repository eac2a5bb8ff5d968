package config

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
)

// unsupportedAddrWords are the address options keepalived 2.2.7 reads
// (vrrp_ipaddress.c, alloc_ipaddress) and lbnode does not, with whether
// each takes a value.
var unsupportedAddrWords = map[string]bool{
	"peer": true, "preferred_lft": true, "home": false, "-nodad": false,
	"mngtmpaddr": false, "noprefixroute": false, "autojoin": false,
}

// parseAddrLine reads a static_ipaddress (static true), virtual_ipaddress
// or virtual_ipaddress_excluded line as keepalived 2.2.7's alloc_ipaddress
// does: ADDR[/LEN] then, in any order, dev IF, scope SCOPE, brd|broadcast
// ADDR|+|-, label LABEL and no_track. What keepalived ignores with a
// message is ignored with a warning (an unknown word, a scope it cannot
// read, a label or scope on an IPv6 address, brd +/- on a /31 or /32);
// what makes it drop the address is refused, quoting keepalived.
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
	for i := 1; i < len(words); i++ {
		w := words[i]
		takesValue, unsupported := unsupportedAddrWords[w]
		switch {
		case static && w == "track_group", !static && w == "use_vmac":
			unsupported, takesValue = true, w == "track_group"
		case w == "dev", w == "scope", w == "brd", w == "broadcast", w == "label":
			takesValue = true
		}
		if takesValue && i+1 >= len(words) {
			return v, nil, refuse("%s: missing value (keepalived 2.2.7: \"No %s parameter specified for %s\")", w, w, addr)
		}
		if unsupported {
			return v, nil, refuse("%s %q is not supported (supported: dev, scope, brd, label, no_track)", addr, w)
		}
		if takesValue {
			i++
		}
		switch w {
		case "no_track":
			v.NoTrack = true
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
				warnings = append(warnings, fmt.Sprintf("scope %q is not global, site, link, host, nowhere or a number 0-255: ignored, as keepalived 2.2.7 does (\"Invalid scope '%s' specified for %s - ignoring\")", words[i], words[i], addr))
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
		default:
			warnings = append(warnings, fmt.Sprintf("%q ignored, as keepalived 2.2.7 ignores it (\"Unknown configuration entry '%s' for ip address - ignoring\")", w, w))
		}
	}
	switch {
	case brd == "+" || brd == "-":
		if p.Bits() > 30 {
			warnings = append(warnings, fmt.Sprintf("brd %s: no broadcast address for a /%d, as keepalived 2.2.7 sets none (\"Address prefix length %d too long for broadcast\")", brd, p.Bits(), p.Bits()))
			break
		}
		v.Broadcast = broadcastOf(p, brd == "+")
	case brd != "":
		v.Broadcast = netip.MustParseAddr(brd)
	}
	if p.Addr().Is6() {
		if v.Scope != 0 {
			warnings = append(warnings, fmt.Sprintf("scope ignored for the IPv6 address %s, as keepalived 2.2.7 ignores it (\"Cannot specify scope for IPv6 addresses (%s) - ignoring scope\")", addr, addr))
			v.Scope = 0
		}
		if v.Label != "" {
			warnings = append(warnings, fmt.Sprintf("label ignored for the IPv6 address %s, as keepalived 2.2.7 ignores it (\"Cannot specify label for IPv6 addresses (%s) - ignoring label\")", addr, addr))
			v.Label = ""
		}
	}
	return v, warnings, nil
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
