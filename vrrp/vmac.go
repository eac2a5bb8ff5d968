package vrrp

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// VMAC puts an instance on a virtual MAC interface, as keepalived 2.2.7's
// use_vmac does: a macvlan interface in private mode on Config.Interface
// whose address is the instance's virtual MAC (VirtualMAC), created and
// brought up by Open and removed when Run returns (or by Close). The
// VIPs that would go on Config.Interface go on it instead, so that hosts
// reach the VIPs at the virtual MAC and need no ARP update when the
// master changes (gratuitous ARPs and neighbour advertisements still go
// out, from the virtual MAC). The adverts are sent and received there
// too, with the virtual MAC as their Ethernet source and the address of
// Config.Interface as their IP source, unless XmitBase.
type VMAC struct {
	// Name is the macvlan's name; default DefaultVMACName(VRID).
	// Open uses an existing private macvlan on Config.Interface with the
	// virtual MAC under whatever name it has, and another free name
	// (VMACNames) when one that is not a macvlan holds Name, as
	// keepalived does.
	Name string
	// Addr replaces the virtual MAC (keepalived's "use_vmac MAC"); nil
	// means VirtualMAC(VRID, IPv6).
	Addr net.HardwareAddr
	// XmitBase sends and receives the adverts on Config.Interface, with
	// its own MAC, instead of on the macvlan (keepalived's
	// vmac_xmit_base); it is required with unicast peers.
	XmitBase bool
}

// VirtualMAC returns the virtual router MAC address of VRID vrid:
// 00:00:5e:00:01:VRID for IPv4 (RFC 3768 section 7.3) and
// 00:00:5e:00:02:VRID for IPv6 (RFC 5798 section 7.3).
func VirtualMAC(vrid uint8, ipv6 bool) net.HardwareAddr {
	fam := byte(0x01)
	if ipv6 {
		fam = 0x02
	}
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, fam, vrid}
}

// DefaultVMACName is the name keepalived 2.2.7 gives a VMAC interface
// first: "vrrp.VRID", for IPv4 and IPv6 alike.
func DefaultVMACName(vrid uint8) string {
	return "vrrp." + strconv.Itoa(int(vrid))
}

// ifNameSize is the kernel's IFNAMSIZ: names are at most 15 bytes.
const ifNameSize = 16

// VMACNames returns the names keepalived 2.2.7 tries in turn for the VMAC
// of VRID vrid (vrrp.c create_vmac_name), with prefix "vrrp" (or its
// vmac_prefix): "vrrp.VRID", then for IPv4 "vrrp1.VRID", "vrrp2.VRID",
// ..., for IPv6 "vrrp6.VRID", "vrrp1.VRID", ... skipping 6; n names in
// all. A prefix too long for an interface name is cut as keepalived cuts
// it.
func VMACNames(prefix string, vrid uint8, ipv6 bool, n int) []string {
	if prefix == "" {
		prefix = "vrrp"
	}
	name := func(num string) string {
		suffix := num + "." + strconv.Itoa(int(vrid))
		p := prefix
		if over := len(p) + len(suffix) - (ifNameSize - 1); over > 0 {
			p = p[:max(len(p)-over, 0)]
		}
		return p + suffix
	}
	names := make([]string, 0, max(n, 0))
	if n > 0 {
		names = append(names, name(""))
	}
	num := 0
	for len(names) < n {
		switch {
		case !ipv6:
			num++
		case num == 0:
			num = 6
		case num == 6:
			num = 1
		default:
			if num++; num == 6 {
				num++
			}
		}
		names = append(names, name(strconv.Itoa(num)))
	}
	return names
}

// ValidIfName reports whether the kernel accepts name as an interface
// name (net/core/dev.c dev_valid_name, which keepalived checks use_vmac's
// name with): 1-15 bytes, not "." or "..", without '/', ':' or white
// space.
func ValidIfName(name string) bool {
	if name == "" || len(name) >= ifNameSize || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n\v\f\r")
}

// vmacAddr returns the MAC address of the instance's VMAC.
func (c *Config) vmacAddr() net.HardwareAddr {
	if c.VMAC != nil && len(c.VMAC.Addr) == 6 {
		return c.VMAC.Addr
	}
	return VirtualMAC(c.VRID, c.IPv6)
}

// advertInterface is where the adverts are sent and received: the VMAC
// unless XmitBase, else Interface.
func (c *Config) advertInterface() string {
	if c.VMAC != nil && !c.VMAC.XmitBase {
		return c.VMAC.Name
	}
	return c.Interface
}

// eui64LinkLocal is the link-local address the kernel would give an
// interface with mac (keepalived's make_link_local_address).
func eui64LinkLocal(mac net.HardwareAddr) netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 8: mac[0] ^ 0x02, 9: mac[1], 10: mac[2], 11: 0xff, 12: 0xfe,
		13: mac[3], 14: mac[4], 15: mac[5]})
}

// vmacString describes a VMAC setting for messages and comparisons.
func vmacString(v *VMAC) string {
	if v == nil {
		return "none"
	}
	s := v.Name
	if v.Addr != nil {
		s += " " + v.Addr.String()
	}
	if v.XmitBase {
		s += " xmit_base"
	}
	return s
}

// vmacAsRunning returns n (normalized) with the VMAC name Open gave the
// running instance run where it took another than n asks for, so that a
// reconfiguration does not read that as a change.
func (r *Router) vmacAsRunning(n, run Config) Config {
	if n.VMAC == nil || run.VMAC == nil {
		return n
	}
	actual, ok := r.vmacNames[n.VMAC.Name]
	if !ok || actual != run.VMAC.Name {
		return n
	}
	v := *n.VMAC
	if n.VIPInterface == v.Name {
		n.VIPInterface = actual
	}
	v.Name = actual
	n.VMAC = &v
	return n
}
