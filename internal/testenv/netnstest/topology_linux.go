package netnstest

import (
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// Topology is a set of hosts joined to bridges. The bridges live in the
// switch namespace, never in the root namespace. Every namespace is removed
// at the test's cleanup.
type Topology struct {
	// Switch is the namespace that holds the bridges and the switch-side
	// ends of every veth pair.
	Switch *NS

	t  testing.TB
	tp *topology.Topology
}

// NewTopology creates an empty topology with its switch namespace.
func NewTopology(t testing.TB) *Topology {
	t.Helper()
	RequirePrivileged(t)
	tp, err := topology.New("")
	if err != nil {
		t.Fatal(err)
	}
	cleanupNS(t, tp.Switch)
	return &Topology{Switch: &NS{tp.Switch}, t: t, tp: tp}
}

// Bridge creates a bridge called name inside the switch namespace and sets
// it up.
func (tp *Topology) Bridge(name string) {
	tp.t.Helper()
	if err := tp.tp.Bridge(name); err != nil {
		tp.t.Fatal(err)
	}
}

// Host creates the namespace of a new host. The label appears in the
// namespace's name.
func (tp *Topology) Host(label string) *NS {
	tp.t.Helper()
	h, err := tp.tp.Host(label)
	if err != nil {
		tp.t.Fatal(err)
	}
	cleanupNS(tp.t, h)
	return &NS{h}
}

// Connect joins host h to bridge with a veth pair: the host end is called
// ifname, gets the addresses in cidrs (such as "192.168.0.11/24") and is set
// up; the other end is a port of the bridge, up as well.
func (tp *Topology) Connect(h *NS, ifname, bridge string, cidrs ...string) {
	tp.t.Helper()
	if err := tp.tp.Connect(h.NS, ifname, bridge, cidrs...); err != nil {
		tp.t.Fatal(err)
	}
}

// SetPort sets the switch-side port of h's interface ifname down or up,
// cutting or restoring the host's link abruptly without the host noticing a
// local link change.
func (tp *Topology) SetPort(h *NS, ifname string, up bool) {
	tp.t.Helper()
	if err := tp.tp.SetPort(h.NS, ifname, up); err != nil {
		tp.t.Fatal(err)
	}
}
