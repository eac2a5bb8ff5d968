package agent

import (
	"errors"
	"sort"

	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/vrrp"
)

// TargetStatus is the state of one health-check target.
type TargetStatus struct {
	Name string
	// Known is false until the first check decided.
	Known       bool
	Up          bool
	Transitions uint64
}

// VRRPStats merges the counters of every VRRP router of the node.
func (a *Agent) VRRPStats() vrrp.RouterStats {
	a.mu.Lock()
	var routers []*vrrp.Router
	for _, ifname := range sortedKeys(a.routers) {
		routers = append(routers, a.routers[ifname])
	}
	a.mu.Unlock()
	var out vrrp.RouterStats
	for _, r := range routers {
		s := r.Stats()
		out.Instances = append(out.Instances, s.Instances...)
		out.Unmatched += s.Unmatched
	}
	return out
}

// States returns the current state of each VRRP instance, by name.
func (a *Agent) States() map[string]vrrp.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]vrrp.State, len(a.states))
	for k, v := range a.states {
		out[k] = v
	}
	return out
}

// Health returns the state of every health-check target, sorted by name.
func (a *Agent) Health() []TargetStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []TargetStatus
	for _, t := range a.plan.targets {
		st, known := a.health[t.Name]
		out = append(out, TargetStatus{Name: t.Name, Known: known, Up: !known || st.up, Transitions: a.transitions[t.Name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IPVSTable reads the kernel's IPVS table with its counters.
func (a *Agent) IPVSTable() (*ipvs.Table, error) {
	a.mu.Lock()
	c := a.ipvs
	a.mu.Unlock()
	if c == nil {
		return nil, errors.New("agent: IPVS is not in use")
	}
	return c.Table()
}

// Repairs counts the IPVS operations the delay loop made to undo changes
// made behind the node's back.
func (a *Agent) Repairs() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.repairs
}

// DesiredIPVS returns the IPVS table the node wants now: the configured
// virtual servers with the weights the health checks give them.
func (a *Agent) DesiredIPVS() *ipvs.Table {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.plan.desired(a.healthLocked())
}
