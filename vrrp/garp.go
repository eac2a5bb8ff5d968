package vrrp

import (
	"net"
	"net/netip"
)

// GARPLen is the length of a gratuitous ARP frame before Ethernet padding.
const GARPLen = 42

// AppendGARP appends a gratuitous ARP frame for ip, as keepalived sends it:
// an Ethernet broadcast ARP request whose sender and target protocol
// addresses are both ip, with sender hardware address mac and target
// hardware address ff:ff:ff:ff:ff:ff.
func AppendGARP(b []byte, mac net.HardwareAddr, ip netip.Addr) []byte {
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	a := ip.As4()
	b = append(b, bcast[:]...)
	b = append(b, mac[:6]...)
	b = append(b, 0x08, 0x06) // ARP
	b = append(b,
		0x00, 0x01, // Ethernet
		0x08, 0x00, // IPv4
		6, 4,
		0x00, 0x01, // request
	)
	b = append(b, mac[:6]...)
	b = append(b, a[:]...)
	b = append(b, bcast[:]...)
	b = append(b, a[:]...)
	return b
}
