package agent

import (
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/lvskit/lvskit/internal/config"
)

// haGroup is a virtual server with ha_suspend: its addresses (a group's
// address entries) and the health targets of its real servers.
type haGroup struct {
	vs      string
	addrs   []netip.Addr
	targets []string
}

// haSuspendGroups lists the virtual servers of cfg that set ha_suspend
// (never fwmark ones: the reader clears it there, as keepalived).
func haSuspendGroups(cfg *config.Config) []haGroup {
	var out []haGroup
	for i := range cfg.VirtualServers {
		vs := &cfg.VirtualServers[i]
		if !vs.HASuspend {
			continue
		}
		g := haGroup{vs: vs.Key()}
		if vs.Addr.IsValid() {
			g.addrs = append(g.addrs, vs.Addr.Addr())
		}
		for _, a := range vs.GroupAddrs {
			if !slices.Contains(g.addrs, a.Addr()) {
				g.addrs = append(g.addrs, a.Addr())
			}
		}
		for j := range vs.RealServers {
			if rs := &vs.RealServers[j]; len(rs.Checkers) > 0 {
				g.targets = append(g.targets, destKey(vs, rs))
			}
		}
		out = append(out, g)
	}
	return out
}

// suspender is what haWatch needs of the health-check monitor.
type suspender interface {
	Suspend(name string, on bool) error
}

// haWatch suspends the checks of the ha_suspend virtual servers whose
// addresses are not on the node (while their VRRP instance is not
// MASTER), as keepalived 2.2.7 does (check_api.c,
// update_checker_activity): a suspended check runs no attempt and the
// real server keeps its state.
type haWatch struct {
	mu        sync.Mutex
	mon       suspender
	log       *slog.Logger
	groups    []haGroup
	local     map[netip.Addr]bool
	suspended map[string]bool // by target
}

func newHAWatch(mon suspender, log *slog.Logger, cfg *config.Config) *haWatch {
	return &haWatch{mon: mon, log: log, groups: haSuspendGroups(cfg), local: map[netip.Addr]bool{}, suspended: map[string]bool{}}
}

// setAddrs takes the node's addresses and suspends or resumes checks
// accordingly.
func (w *haWatch) setAddrs(addrs []netip.Addr) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.local = map[netip.Addr]bool{}
	for _, a := range addrs {
		w.local[a.Unmap()] = true
	}
	w.applyLocked(false)
}

// reload takes the groups of a reloaded configuration; every target is
// set again, since reloaded targets start unsuspended.
func (w *haWatch) reload(cfg *config.Config) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.groups = haSuspendGroups(cfg)
	w.suspended = map[string]bool{}
	w.applyLocked(true)
}

func (w *haWatch) applyLocked(all bool) {
	for _, g := range w.groups {
		here := slices.ContainsFunc(g.addrs, func(a netip.Addr) bool { return w.local[a] })
		for _, t := range g.targets {
			was, known := w.suspended[t]
			if known && was == !here && !all {
				continue
			}
			if !known && here && !all {
				w.suspended[t] = false // checks run from the start
				continue
			}
			if err := w.mon.Suspend(t, !here); err != nil {
				w.log.Error("health: ha_suspend", "target", t, "err", err)
				continue
			}
			w.suspended[t] = !here
			if known || !here {
				w.log.Info("health: "+map[bool]string{true: "suspending", false: "activating"}[!here]+" checks (ha_suspend)", "target", t, "vs", g.vs)
			}
		}
	}
}
