package netnstest

import (
	"fmt"
	"net"
	"testing"

	"github.com/vishvananda/netlink"
)

// Topology is a set of hosts joined to bridges. The bridges live in the
// switch namespace, never in the root namespace.
type Topology struct {
	// Switch is the namespace that holds the bridges and the switch-side
	// ends of every veth pair.
	Switch *NS

	t     testing.TB
	ports map[portKey]string // host end -> switch-side port name
	next  int
}

type portKey struct {
	ns     *NS
	ifname string
}

// NewTopology creates an empty topology with its switch namespace.
func NewTopology(t testing.TB) *Topology {
	t.Helper()
	return &Topology{Switch: newNS(t, "switch"), t: t, ports: make(map[portKey]string)}
}

// Bridge creates a bridge called name inside the switch namespace and sets
// it up.
func (tp *Topology) Bridge(name string) {
	tp.t.Helper()
	nl := tp.Switch.Netlink(tp.t)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := nl.LinkAdd(br); err != nil {
		tp.t.Fatalf("switch: adding bridge %s: %v", name, err)
	}
	if err := nl.LinkSetUp(br); err != nil {
		tp.t.Fatalf("switch: setting bridge %s up: %v", name, err)
	}
}

// Host creates the namespace of a new host. The label appears in the
// namespace's name.
func (tp *Topology) Host(label string) *NS {
	tp.t.Helper()
	return newNS(tp.t, label)
}

// Connect joins host h to bridge with a veth pair: the host end is called
// ifname, gets the addresses in cidrs (such as "192.168.0.11/24") and is set
// up; the other end is a port of the bridge, up as well. The pair is created
// inside the switch namespace with its host end placed directly in h.
func (tp *Topology) Connect(h *NS, ifname, bridge string, cidrs ...string) {
	tp.t.Helper()
	sw := tp.Switch.Netlink(tp.t)
	br, err := sw.LinkByName(bridge)
	if err != nil {
		tp.t.Fatalf("switch: bridge %s: %v", bridge, err)
	}
	tp.next++
	port := fmt.Sprintf("p%d-%s", tp.next, bridge)
	if len(port) > 15 {
		port = port[:15]
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: port, MasterIndex: br.Attrs().Index},
		PeerName:      ifname,
		PeerNamespace: netlink.NsFd(int(h.Handle())),
	}
	if err := sw.LinkAdd(veth); err != nil {
		tp.t.Fatalf("switch: adding veth %s <-> %s:%s: %v", port, h.Name, ifname, err)
	}
	if err := sw.LinkSetUp(veth); err != nil {
		tp.t.Fatalf("switch: setting %s up: %v", port, err)
	}
	tp.ports[portKey{h, ifname}] = port

	hl := h.Netlink(tp.t)
	link, err := hl.LinkByName(ifname)
	if err != nil {
		tp.t.Fatalf("%s: finding %s: %v", h.Name, ifname, err)
	}
	for _, c := range cidrs {
		ip, ipnet, err := net.ParseCIDR(c)
		if err != nil {
			tp.t.Fatalf("%s: address %q for %s: %v", h.Name, c, ifname, err)
		}
		ipnet.IP = ip
		if err := hl.AddrAdd(link, &netlink.Addr{IPNet: ipnet}); err != nil {
			tp.t.Fatalf("%s: adding %s to %s: %v", h.Name, c, ifname, err)
		}
	}
	if err := hl.LinkSetUp(link); err != nil {
		tp.t.Fatalf("%s: setting %s up: %v", h.Name, ifname, err)
	}
}

// SetPort sets the switch-side port of h's interface ifname down or up,
// cutting or restoring the host's link abruptly without the host noticing a
// local link change.
func (tp *Topology) SetPort(h *NS, ifname string, up bool) {
	tp.t.Helper()
	port, ok := tp.ports[portKey{h, ifname}]
	if !ok {
		tp.t.Fatalf("switch: no port for %s:%s", h.Name, ifname)
	}
	sw := tp.Switch.Netlink(tp.t)
	link, err := sw.LinkByName(port)
	if err != nil {
		tp.t.Fatalf("switch: port %s: %v", port, err)
	}
	set := sw.LinkSetDown
	if up {
		set = sw.LinkSetUp
	}
	if err := set(link); err != nil {
		tp.t.Fatalf("switch: setting port %s up=%v: %v", port, up, err)
	}
}
