package nat

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// DefaultMarkTable is the table of a Marker whose MarkConfig.Table is
// empty.
const DefaultMarkTable = "lvskit_mark"

// MarkRule sets the packet mark Mark on what a Marker's sources send to
// Dst with protocol Proto ("tcp", "udp" or "sctp") and destination port
// Port (0: any port).
type MarkRule struct {
	Dst   netip.Addr
	Proto string
	Port  uint16
	Mark  uint32
}

// String is the rule in nft's words, as it is listed.
func (r MarkRule) String() string {
	fam := "ip"
	if r.Dst.Is6() {
		fam = "ip6"
	}
	port := ""
	if r.Port != 0 {
		port = fmt.Sprintf(" %s dport %d", r.Proto, r.Port)
	} else {
		port = " meta l4proto " + r.Proto
	}
	return fmt.Sprintf("ether saddr @sources %s daddr %s%s meta mark set 0x%08x", fam, r.Dst, port, r.Mark)
}

// MarkConfig describes a Marker.
type MarkConfig struct {
	// Rules are the marking rules, at least one.
	Rules []MarkRule
	// Table names the Marker's own table, of family inet;
	// DefaultMarkTable if empty. Open replaces a table of that name.
	Table string
	// NetNS is a file descriptor referring to the network namespace in
	// which the Marker programs nftables; 0 means the calling thread's at
	// the time of each call.
	NetNS int
}

var markProtos = map[string]uint8{"tcp": 6, "udp": 17, "sctp": 132}

func (cfg *MarkConfig) validate() (MarkConfig, error) {
	if cfg == nil {
		return MarkConfig{}, fmt.Errorf("nat: MarkConfig: nil")
	}
	c := *cfg
	if c.Table == "" {
		c.Table = DefaultMarkTable
	}
	if err := validName("MarkConfig.Table", c.Table); err != nil {
		return MarkConfig{}, err
	}
	if len(c.Rules) == 0 {
		return MarkConfig{}, fmt.Errorf("nat: MarkConfig.Rules: empty")
	}
	c.Rules = append([]MarkRule(nil), c.Rules...)
	for i := range c.Rules {
		r := &c.Rules[i]
		field := fmt.Sprintf("MarkConfig.Rules[%d]", i)
		if err := validAddr(field+".Dst", r.Dst); err != nil {
			return MarkConfig{}, err
		}
		r.Dst = r.Dst.Unmap()
		r.Proto = strings.ToLower(r.Proto)
		if _, ok := markProtos[r.Proto]; !ok {
			return MarkConfig{}, fmt.Errorf("nat: %s.Proto %q: not tcp, udp or sctp", field, r.Proto)
		}
		if r.Mark == 0 {
			return MarkConfig{}, fmt.Errorf("nat: %s.Mark: 0 is no mark", field)
		}
	}
	return c, nil
}

// validMAC checks a source address for the set: 6 bytes (Ethernet).
func validMAC(i int, m net.HardwareAddr) error {
	if len(m) != 6 {
		return fmt.Errorf("nat: sources[%d] %q: not an Ethernet (6-byte) address", i, m)
	}
	return nil
}
