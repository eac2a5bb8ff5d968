package nat

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Defaults used when the corresponding Config field is empty.
const (
	DefaultTable = "lvskit_nat"
	DefaultChain = "prerouting"
)

// ErrUnsupported is returned by Open on systems other than Linux.
var ErrUnsupported = errors.New("nat: nftables is only supported on Linux")

// Config describes one DNAT switch. A nil *Config is invalid: Interface and
// VIPs have no defaults.
type Config struct {
	// Interface is the service interface (the article's eth1): rules match
	// packets that arrive on it, by name.
	Interface string

	// VIPs are the virtual addresses whose packets are redirected while the
	// node is BACKUP. IPv4 and IPv6 addresses may be mixed.
	VIPs []netip.Addr

	// LocalIPv4 is the node's own IPv4 address on Interface, the DNAT target
	// for IPv4 VIPs. If it is the zero Addr and an IPv4 VIP is configured, Open
	// uses the first primary IPv4 address of Interface that is not a VIP.
	LocalIPv4 netip.Addr

	// LocalIPv6 is the same for IPv6 VIPs: if zero, Open uses the first global
	// IPv6 address of Interface that is not a VIP.
	LocalIPv6 netip.Addr

	// Table names the switch's own table (one per address family in use:
	// "ip" for IPv4, "ip6" for IPv6); DefaultTable if empty. Switches that
	// share a table each manage only the rules for their own VIPs.
	Table string

	// Chain names the nat chain at the prerouting hook with dstnat priority
	// inside Table; DefaultChain if empty.
	Chain string

	// NetNS is a file descriptor referring to the network namespace in which
	// the switch looks up Interface and programs nftables. 0 means the
	// namespace of the calling thread at the time of each call.
	NetNS int
}

// Rule is one DNAT rule in nft's terms:
//
//	iifname "Interface" ip daddr VIP dnat to To
//
// (ip6 instead of ip for IPv6).
type Rule struct {
	Interface string
	VIP       netip.Addr
	To        netip.Addr
}

// String formats r the way `nft list ruleset` shows it.
func (r Rule) String() string {
	return fmt.Sprintf("iifname %q %s daddr %s dnat to %s", r.Interface, r.Family(), r.VIP, r.To)
}

// Family is the nftables family of the table that holds r: "ip" or "ip6".
func (r Rule) Family() string {
	if r.VIP.Is6() {
		return "ip6"
	}
	return "ip"
}

// maxNameLen is the longest table or chain name nftables accepts
// (NFT_NAME_MAXLEN less the terminating NUL).
const maxNameLen = 255

// ifNameSize is IFNAMSIZ: interface names are at most 15 bytes.
const ifNameSize = 16

// validate checks cfg and returns a normalized copy: defaults filled in, VIPs
// unmapped. It does not look at the system.
func (cfg *Config) validate() (Config, error) {
	if cfg == nil {
		return Config{}, errors.New("nat: nil Config: Interface and VIPs are required")
	}
	c := *cfg
	if err := validInterface(c.Interface); err != nil {
		return Config{}, err
	}
	if len(c.VIPs) == 0 {
		return Config{}, errors.New("nat: VIPs: at least one VIP is required")
	}
	seen := make(map[netip.Addr]bool)
	vips := make([]netip.Addr, 0, len(c.VIPs))
	for _, v := range c.VIPs {
		if err := validAddr("VIP", v); err != nil {
			return Config{}, err
		}
		v = v.Unmap()
		if seen[v] {
			return Config{}, fmt.Errorf("nat: VIP %s: listed twice", v)
		}
		seen[v] = true
		vips = append(vips, v)
	}
	c.VIPs = vips
	if c.LocalIPv4.IsValid() {
		if err := validAddr("LocalIPv4", c.LocalIPv4); err != nil {
			return Config{}, err
		}
		c.LocalIPv4 = c.LocalIPv4.Unmap()
		if !c.LocalIPv4.Is4() {
			return Config{}, fmt.Errorf("nat: LocalIPv4 %s: not an IPv4 address", c.LocalIPv4)
		}
		if seen[c.LocalIPv4] {
			return Config{}, fmt.Errorf("nat: LocalIPv4 %s: is also a VIP", c.LocalIPv4)
		}
	}
	if c.LocalIPv6.IsValid() {
		if err := validAddr("LocalIPv6", c.LocalIPv6); err != nil {
			return Config{}, err
		}
		if !c.LocalIPv6.Is6() || c.LocalIPv6.Is4In6() {
			return Config{}, fmt.Errorf("nat: LocalIPv6 %s: not an IPv6 address", c.LocalIPv6)
		}
		if seen[c.LocalIPv6] {
			return Config{}, fmt.Errorf("nat: LocalIPv6 %s: is also a VIP", c.LocalIPv6)
		}
	}
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.Chain == "" {
		c.Chain = DefaultChain
	}
	if err := validName("Table", c.Table); err != nil {
		return Config{}, err
	}
	if err := validName("Chain", c.Chain); err != nil {
		return Config{}, err
	}
	if c.NetNS < 0 {
		return Config{}, fmt.Errorf("nat: NetNS %d: not a file descriptor", c.NetNS)
	}
	return c, nil
}

func validInterface(name string) error {
	switch {
	case name == "":
		return errors.New("nat: Interface: empty name")
	case len(name) >= ifNameSize:
		return fmt.Errorf("nat: Interface %q: longer than %d bytes", name, ifNameSize-1)
	case name == "." || name == "..":
		return fmt.Errorf("nat: Interface %q: not a valid interface name", name)
	case strings.ContainsAny(name, "/:\x00") || strings.ContainsFunc(name, isSpace):
		return fmt.Errorf("nat: Interface %q: contains a character interface names cannot have", name)
	}
	return nil
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

func validAddr(field string, a netip.Addr) error {
	switch {
	case !a.IsValid():
		return fmt.Errorf("nat: %s: invalid (zero) address", field)
	case a.Zone() != "":
		return fmt.Errorf("nat: %s %s: zoned addresses are not supported", field, a)
	case a.IsUnspecified():
		return fmt.Errorf("nat: %s %s: unspecified address", field, a)
	case a.IsMulticast():
		return fmt.Errorf("nat: %s %s: multicast address", field, a)
	case a.IsLoopback():
		return fmt.Errorf("nat: %s %s: loopback address", field, a)
	case a.Unmap() == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("nat: %s %s: broadcast address", field, a)
	}
	return nil
}

func validName(field, name string) error {
	switch {
	case len(name) > maxNameLen:
		return fmt.Errorf("nat: %s %q: longer than %d bytes", field, name[:20]+"...", maxNameLen)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("nat: %s %q: contains a NUL byte", field, name)
	}
	return nil
}

// wantRules returns the rules that Backup installs for cfg, in VIP order.
// cfg must be validated, with the local addresses each VIP needs resolved.
func wantRules(cfg Config) []Rule {
	rules := make([]Rule, 0, len(cfg.VIPs))
	for _, v := range cfg.VIPs {
		to := cfg.LocalIPv4
		if v.Is6() {
			to = cfg.LocalIPv6
		}
		rules = append(rules, Rule{Interface: cfg.Interface, VIP: v, To: to})
	}
	return rules
}

// installed is a rule found in the switch's chain. Known is false when the
// rule's expressions are not of the form the switch writes; such rules are
// never touched.
type installed struct {
	Handle uint64
	Rule   Rule
	Known  bool
}

// change is what a switch must do to one family's chain: delete the rules with
// these handles and append these rules, in one atomic batch.
type change struct {
	Delete []uint64
	Add    []Rule
}

func (c change) empty() bool { return len(c.Delete) == 0 && len(c.Add) == 0 }

// plan compares the rules found in a chain with the rules wanted for the
// switch's VIPs. Rules for other VIPs and rules of unknown form are kept. For
// the switch's VIPs, exactly the wanted rules remain: the first copy of each
// wanted rule is kept, every other rule for one of the VIPs (a duplicate, a
// stale interface or target) is deleted, and missing rules are added.
func plan(vips []netip.Addr, want []Rule, have []installed) change {
	mine := make(map[netip.Addr]bool, len(vips))
	for _, v := range vips {
		mine[v] = true
	}
	wanted := make(map[Rule]bool, len(want))
	for _, r := range want {
		wanted[r] = true
	}
	var c change
	present := make(map[Rule]bool)
	for _, h := range have {
		if !h.Known || !mine[h.Rule.VIP] {
			continue
		}
		if wanted[h.Rule] && !present[h.Rule] {
			present[h.Rule] = true
			continue
		}
		c.Delete = append(c.Delete, h.Handle)
	}
	for _, r := range want {
		if !present[r] {
			c.Add = append(c.Add, r)
			present[r] = true
		}
	}
	return c
}
