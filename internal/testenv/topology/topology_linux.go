package topology

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/vishvananda/netlink"
)

// Topology is a set of hosts joined to bridges. The bridges live in the
// switch namespace, never in the root namespace.
type Topology struct {
	// Switch is the namespace that holds the bridges and the switch-side
	// ends of every veth pair.
	Switch *NS

	prefix string // names of new namespaces: PREFIX+LABEL when exact
	exact  bool

	mu    sync.Mutex
	hosts []*NS
	ports map[portKey]string // host end -> switch-side port name
	next  int
}

type portKey struct {
	ns     *NS
	ifname string
}

// New creates an empty topology with its switch namespace. With an empty
// prefix, namespaces get unique random names ("lvskit-LABEL-xxxxxxxx");
// otherwise they are called PREFIX+LABEL exactly ("demo-lb1"), and the switch
// PREFIX+"switch".
func New(prefix string) (*Topology, error) {
	return newTopology(prefix, prefix != "")
}

// NewExact is New with namespaces called PREFIX+LABEL exactly, prefix
// possibly empty: with "", the hosts are called by their labels ("lb1"), as
// `ip netns exec lb1 ...` expects. It fails if such a namespace exists.
func NewExact(prefix string) (*Topology, error) {
	return newTopology(prefix, true)
}

func newTopology(prefix string, exact bool) (*Topology, error) {
	tp := &Topology{prefix: prefix, exact: exact, ports: make(map[portKey]string)}
	sw, err := tp.newNS("switch")
	if err != nil {
		return nil, err
	}
	tp.Switch = sw
	return tp, nil
}

func (tp *Topology) newNS(label string) (*NS, error) {
	if !tp.exact {
		return NewNS(label, false)
	}
	return NewNS(tp.prefix+label, true)
}

// Bridge creates a bridge called name inside the switch namespace and sets
// it up.
func (tp *Topology) Bridge(name string) error {
	nl, err := tp.Switch.Netlink()
	if err != nil {
		return err
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := nl.LinkAdd(br); err != nil {
		return fmt.Errorf("switch: adding bridge %s: %w", name, err)
	}
	if err := nl.LinkSetUp(br); err != nil {
		return fmt.Errorf("switch: setting bridge %s up: %w", name, err)
	}
	return nil
}

// Host creates the namespace of a new host, removed by [Topology.Close].
func (tp *Topology) Host(label string) (*NS, error) {
	h, err := tp.newNS(label)
	if err != nil {
		return nil, err
	}
	tp.mu.Lock()
	tp.hosts = append(tp.hosts, h)
	tp.mu.Unlock()
	return h, nil
}

// Connect joins host h to bridge with a veth pair: the host end is called
// ifname, gets the addresses in cidrs (such as "192.168.0.11/24") and is set
// up; the other end is a port of the bridge, up as well.
func (tp *Topology) Connect(h *NS, ifname, bridge string, cidrs ...string) error {
	sw, err := tp.Switch.Netlink()
	if err != nil {
		return err
	}
	br, err := sw.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("switch: bridge %s: %w", bridge, err)
	}
	tp.mu.Lock()
	tp.next++
	port := fmt.Sprintf("p%d-%s", tp.next, bridge)
	tp.mu.Unlock()
	if len(port) > 15 {
		port = port[:15]
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: port, MasterIndex: br.Attrs().Index},
		PeerName:      ifname,
		PeerNamespace: netlink.NsFd(int(h.Handle())),
	}
	if err := sw.LinkAdd(veth); err != nil {
		return fmt.Errorf("switch: adding veth %s <-> %s:%s: %w", port, h.Name, ifname, err)
	}
	if err := sw.LinkSetUp(veth); err != nil {
		return fmt.Errorf("switch: setting %s up: %w", port, err)
	}
	tp.mu.Lock()
	tp.ports[portKey{h, ifname}] = port
	tp.mu.Unlock()

	hl, err := h.Netlink()
	if err != nil {
		return err
	}
	link, err := hl.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("%s: finding %s: %w", h.Name, ifname, err)
	}
	for _, c := range cidrs {
		ip, ipnet, err := net.ParseCIDR(c)
		if err != nil {
			return fmt.Errorf("%s: address %q for %s: %w", h.Name, c, ifname, err)
		}
		ipnet.IP = ip
		if err := hl.AddrAdd(link, &netlink.Addr{IPNet: ipnet}); err != nil {
			return fmt.Errorf("%s: adding %s to %s: %w", h.Name, c, ifname, err)
		}
	}
	if err := hl.LinkSetUp(link); err != nil {
		return fmt.Errorf("%s: setting %s up: %w", h.Name, ifname, err)
	}
	return nil
}

// SetPort sets the switch-side port of h's interface ifname down or up,
// cutting or restoring the host's link abruptly: the host sees its carrier
// go, not an administrative change of its own interface.
func (tp *Topology) SetPort(h *NS, ifname string, up bool) error {
	tp.mu.Lock()
	port, ok := tp.ports[portKey{h, ifname}]
	tp.mu.Unlock()
	if !ok {
		return fmt.Errorf("switch: no port for %s:%s", h.Name, ifname)
	}
	sw, err := tp.Switch.Netlink()
	if err != nil {
		return err
	}
	link, err := sw.LinkByName(port)
	if err != nil {
		return fmt.Errorf("switch: port %s: %w", port, err)
	}
	set := sw.LinkSetDown
	if up {
		set = sw.LinkSetUp
	}
	if err := set(link); err != nil {
		return fmt.Errorf("switch: setting port %s up=%v: %w", port, up, err)
	}
	return nil
}

// Close removes every host namespace and the switch namespace, which takes
// the veth pairs and bridges with it. Stop the processes running in them
// first.
func (tp *Topology) Close() error {
	tp.mu.Lock()
	hosts := tp.hosts
	tp.hosts = nil
	tp.mu.Unlock()
	var errs []error
	for _, h := range hosts {
		errs = append(errs, h.Close())
	}
	errs = append(errs, tp.Switch.Close())
	return errors.Join(errs...)
}
