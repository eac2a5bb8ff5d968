package nat

import "fmt"

// DefaultDrainChain is the filter chain that Drain adds to the switch's
// table.
const DefaultDrainChain = "drain"

// Port is a transport port of the node's own service address: Proto is
// "tcp" or "udp".
type Port struct {
	Proto string
	Port  uint16
}

func (p Port) String() string { return fmt.Sprintf("%s/%d", p.Proto, p.Port) }

func (p Port) validate() error {
	if p.Proto != "tcp" && p.Proto != "udp" {
		return fmt.Errorf("nat: drain port %s: protocol %q, want tcp or udp", p, p.Proto)
	}
	if p.Port == 0 {
		return fmt.Errorf("nat: drain port %s: port 0", p)
	}
	return nil
}
