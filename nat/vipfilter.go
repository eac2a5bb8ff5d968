package nat

import (
	"fmt"
	"net/netip"
	"slices"
)

// DefaultVIPFilterTable is the table of a VIPFilter whose
// VIPFilterConfig.Table is empty: keepalived's own name.
const DefaultVIPFilterTable = "keepalived"

// DefaultVIPFilterPriority is keepalived's priority of the input and output
// chains (nft lists it as "filter - 1").
const DefaultVIPFilterPriority = -1

// VIPFilterConfig describes a VIPFilter.
type VIPFilterConfig struct {
	// Table names the tables (of families ip and ip6);
	// DefaultVIPFilterTable if empty.
	Table string
	// Priority is the priority of the base chains in and out. The zero
	// value is priority 0 (filter); keepalived's default is
	// DefaultVIPFilterPriority.
	Priority int32
	// Counters adds a counter to every rule (keepalived's
	// nftables_counters).
	Counters bool
	// NetNS is a file descriptor referring to the network namespace in
	// which the VIPFilter works; 0 means the calling thread's at the time
	// of each call.
	NetNS int
}

// FilteredVIP is an address whose traffic a VIPFilter drops. Interface
// names the interface of an IPv6 link-local address, which is dropped on
// that interface only; it is ignored for other addresses.
type FilteredVIP struct {
	Addr      netip.Addr
	Interface string
}

// FilteredVMAC is a VMAC interface (a macvlan) whose IGMP reports (IPv4)
// or MLDv2 reports (IPv6) a VIPFilter sends out of its base interface
// instead, dropping them on the VMAC, and whose IPv6 router solicitations
// it drops, as keepalived does so that the switches learn the groups
// against the base interface's MAC.
type FilteredVMAC struct {
	Interface, Base string
	IPv6            bool
}

func (c *VIPFilterConfig) validate() (VIPFilterConfig, error) {
	var v VIPFilterConfig
	if c != nil {
		v = *c
	}
	if v.Table == "" {
		v.Table = DefaultVIPFilterTable
	}
	if err := validName("VIPFilterConfig.Table", v.Table); err != nil {
		return VIPFilterConfig{}, err
	}
	if v.NetNS < 0 {
		return VIPFilterConfig{}, fmt.Errorf("nat: VIPFilterConfig.NetNS %d: not a file descriptor", v.NetNS)
	}
	return v, nil
}

// filterSets is what the sets of a VIPFilter hold: IPv4 addresses, IPv6
// global addresses, and IPv6 link-local addresses with their interface.
type filterSets struct {
	v4, v6 []netip.Addr
	ll     []FilteredVIP
}

// splitVIPs checks vips and sorts them into the sets, without duplicates.
func splitVIPs(vips []FilteredVIP) (filterSets, error) {
	var s filterSets
	for i, v := range vips {
		a := v.Addr.Unmap()
		field := fmt.Sprintf("vips[%d]", i)
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
			return filterSets{}, fmt.Errorf("nat: %s %s: not a unicast address", field, v.Addr)
		}
		a = a.WithZone("")
		switch {
		case a.Is4():
			if !slices.Contains(s.v4, a) {
				s.v4 = append(s.v4, a)
			}
		case !a.IsLinkLocalUnicast():
			if !slices.Contains(s.v6, a) {
				s.v6 = append(s.v6, a)
			}
		default:
			if err := validInterface(v.Interface); err != nil {
				return filterSets{}, fmt.Errorf("%w (%s %s is link-local)", err, field, a)
			}
			f := FilteredVIP{Addr: a, Interface: v.Interface}
			if !slices.Contains(s.ll, f) {
				s.ll = append(s.ll, f)
			}
		}
	}
	return s, nil
}
