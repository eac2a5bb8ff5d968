package agent

import (
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
)

// keepalived 2.2.7's global_defs lvs_timeouts, lvs_flush and
// lvs_flush_on_stop, run as its checker process runs them
// (check_daemon.c start_check, ipvswrapper.c, libipvs.c ipvs_set_timeout,
// ipwrapper.c clear_services):
//
//   - at the start, once IPVS is open and before any virtual server is
//     written, the timeouts are set (the kernel's are read first, so as to
//     be put back), then, with lvs_flush, all of IPVS is flushed;
//   - at a reload, the new timeouts are set, the kernel's former ones
//     where a timeout is no longer given; lvs_flush is not run again;
//   - at the stop, unless the virtual servers are kept, lvs_flush_on_stop
//     alone flushes all of IPVS, otherwise the node's own virtual servers
//     are removed; then the kernel's former timeouts are put back (kept
//     virtual servers or not).
//
// Errors are logged and the node goes on, as keepalived's do.

// startLVSGlobals sets lvs_timeouts and runs lvs_flush on c, which was just
// opened; Run calls it before the virtual servers are first written.
func (a *Agent) startLVSGlobals(c *ipvs.Client, g config.Global) {
	a.setLVSTimeouts(c, g.LVSTimeouts)
	if g.LVSFlush {
		if err := c.Flush(); err != nil {
			a.log.Error("ipvs: lvs_flush at start", "err", err)
		} else {
			a.log.Info("ipvs: flushed at start (lvs_flush)")
		}
	}
}

// reloadLVSGlobals sets the reloaded configuration's lvs_timeouts, or puts
// the kernel's back where they are no longer given.
func (a *Agent) reloadLVSGlobals(g config.Global) {
	a.mu.Lock()
	c := a.ipvs
	a.mu.Unlock()
	if c != nil {
		a.setLVSTimeouts(c, g.LVSTimeouts)
	}
}

// stopLVSGlobals removes, unless keep, what lvs_flush_on_stop says (by
// the configuration as last reloaded), then puts the kernel's timeouts
// back.
func (a *Agent) stopLVSGlobals(c *ipvs.Client, keep bool) {
	a.mu.Lock()
	flushAll := a.cfg.Global.LVSFlushOnStop == config.LVSFlushAll
	a.mu.Unlock()
	switch {
	case keep:
	case flushAll:
		if err := c.Flush(); err != nil {
			a.log.Error("ipvs: lvs_flush_on_stop", "err", err)
		}
	default:
		a.removeServices(a.currentPlan().services)
	}
	a.setLVSTimeouts(c, config.LVSTimeouts{})
}

// setLVSTimeouts sets t; a zero field, and all of them when t is zero, is
// set to the kernel's value from before the node first set one (nothing
// is done while none was set).
func (a *Agent) setLVSTimeouts(c *ipvs.Client, t config.LVSTimeouts) {
	a.mu.Lock()
	orig := a.lvsOrigTimeouts
	a.mu.Unlock()
	if t == (config.LVSTimeouts{}) && orig == nil {
		return
	}
	if orig == nil {
		o, err := c.Timeouts()
		if err != nil {
			a.log.Error("ipvs: reading the timeouts before lvs_timeouts", "err", err)
		} else {
			orig = &o
			a.mu.Lock()
			a.lvsOrigTimeouts = orig
			a.mu.Unlock()
		}
	}
	want := ipvs.Timeouts{TCP: t.TCP, TCPFin: t.TCPFin, UDP: t.UDP}
	if orig != nil {
		want = ipvs.Timeouts{TCP: orElse(t.TCP, orig.TCP), TCPFin: orElse(t.TCPFin, orig.TCPFin), UDP: orElse(t.UDP, orig.UDP)}
	}
	if err := c.SetTimeouts(want); err != nil {
		a.log.Error("ipvs: setting the timeouts (lvs_timeouts)", "timeouts", want, "err", err)
		return
	}
	a.log.Info("ipvs: timeouts set", "tcp", want.TCP, "tcpfin", want.TCPFin, "udp", want.UDP)
}

func orElse(v, def uint32) uint32 {
	if v != 0 {
		return v
	}
	return def
}
