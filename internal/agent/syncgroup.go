package agent

import (
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// groupStates follows the state of each sync group as keepalived reports
// it to the group's notify programs: a group starts BACKUP and takes the
// state of the member that last changed to MASTER, BACKUP, FAULT or STOP
// (keepalived's group syncs to MASTER, BACKUP and FAULT, and stops with
// its members).
type groupStates struct {
	groups map[string]*config.SyncGroup // by member instance
	state  map[string]vrrp.State        // by group
	// mail, if set, mails the state of a member's group after each of
	// the member's transitions (alert e-mails), which mails each new
	// state once.
	mail func(g *config.SyncGroup, to vrrp.State)
}

func newGroupStates(cfg *config.Config) *groupStates {
	gs := &groupStates{groups: map[string]*config.SyncGroup{}, state: map[string]vrrp.State{}}
	for i := range cfg.SyncGroups {
		g := &cfg.SyncGroups[i]
		gs.state[g.Name] = vrrp.StateBackup
		for _, name := range g.Instances {
			gs.groups[name] = g
		}
	}
	return gs
}

// transition records a member's transition and returns the group notify
// programs to run, with their arguments, in keepalived's order: the
// state's own program, then the generic notify with GROUP NAME STATE 0.
// The group's new state goes to fifos.
func (gs *groupStates) transition(t vrrp.Transition, fifos *fifoSet) [][]string {
	g := gs.groups[t.Instance]
	if g != nil && t.To != vrrp.StateInit && gs.mail != nil {
		// Mailed once per state, from the first (keepalived mails a
		// group's BACKUP at start).
		gs.mail(g, t.To)
	}
	if g == nil || t.To == vrrp.StateInit || gs.state[g.Name] == t.To {
		return nil
	}
	gs.state[g.Name] = t.To
	fifos.group(g.Name, t.To)
	var out [][]string
	specific := stateCommand(t.To, g.NotifyMaster, g.NotifyBackup, g.NotifyFault, g.NotifyStop)
	if len(specific) > 0 {
		out = append(out, append([]string(nil), specific...))
	}
	if len(g.Notify) > 0 {
		out = append(out, append(append([]string(nil), g.Notify...), "GROUP", g.Name, t.To.String(), "0"))
	}
	return out
}
