package vrrp

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/mdlayher/ndp"
)

// NALen is the length of an unsolicited neighbour advertisement frame:
// Ethernet, IPv6 and a 32-byte ICMPv6 message with the target link-layer
// address option.
const NALen = 14 + 40 + 32

// allNodes is ff02::1, where unsolicited neighbour advertisements go.
var allNodes = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x01})

// AppendNA appends an unsolicited neighbour advertisement frame for the
// IPv6 address ip, as keepalived 2.2.7 sends one where IPv4 sends a
// gratuitous ARP (vrrp_ndisc.c): Ethernet from mac to 33:33:00:00:00:01,
// IPv6 from ip to ff02::1 with hop limit 255, an ICMPv6 neighbour
// advertisement with the Override flag, the Router flag if router (the
// interface forwards IPv6), target ip and the target link-layer address
// option mac. It returns b unchanged if ip is not IPv6.
func AppendNA(b []byte, mac net.HardwareAddr, ip netip.Addr, router bool) []byte {
	na := &ndp.NeighborAdvertisement{
		Router:        router,
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac[:6]}},
	}
	msg, err := ndp.MarshalMessageChecksum(na, ip, allNodes)
	if err != nil {
		return b
	}
	b = append(b, 0x33, 0x33, 0, 0, 0, 1)
	b = append(b, mac[:6]...)
	b = append(b, 0x86, 0xdd) // IPv6
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	b = append(b, 58, 255) // ICMPv6, hop limit 255
	src, dst := ip.As16(), allNodes.As16()
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	return append(b, msg...)
}
