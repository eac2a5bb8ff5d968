package agent

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/vrrp"
)

// daemonClient is the part of *ipvs.Client the sync daemons use.
type daemonClient interface {
	EnsureDaemon(d ipvs.Daemon) (bool, error)
	EnsureNoDaemon(state ipvs.DaemonState) (bool, error)
	Close() error
}

// startSyncDaemons opens an IPVS client for the sync daemons of sd and
// starts those a node runs from its start; nothing when sd is nil.
func (a *Agent) startSyncDaemons(sd *config.SyncDaemon) error {
	if sd == nil {
		return nil
	}
	c, err := a.env.DialIPVS()
	if err != nil {
		return fmt.Errorf("ipvs: sync daemon: %w", err)
	}
	a.syncd = newSyncDaemons(sd, c, a.log)
	a.syncd.start()
	return nil
}

// stopSyncDaemons stops the running sync daemons and closes their client.
func (a *Agent) stopSyncDaemons() {
	if a.syncd == nil {
		return
	}
	a.syncd.stop()
	a.syncd.c.Close()
	a.syncd = nil
}

// reloadSyncDaemons applies a changed lvs_sync_daemon: the daemons of the
// old settings are stopped and those of the new ones started in the
// state of their instance. keepalived 2.2.7 means to do the same, but
// starts the new daemon without its settings (vrrp_daemon.c:856 passes
// no configuration to ipvs_syncd_cmd), which the kernel refuses: until
// the next transition it runs none.
func (a *Agent) reloadSyncDaemons(sd *config.SyncDaemon) error {
	cur := a.syncd
	if cur == nil && sd == nil {
		return nil
	}
	if cur != nil && sd != nil && cur.base == syncDaemonSettings(sd) && cur.instance == sd.Instance {
		return nil
	}
	a.stopSyncDaemons()
	if err := a.startSyncDaemons(sd); err != nil {
		return err
	}
	if sd == nil || sd.Instance == "" {
		return nil
	}
	a.mu.Lock()
	st := a.states[sd.Instance]
	a.mu.Unlock()
	if st == vrrp.StateMaster {
		a.syncd.transition(vrrp.Transition{Instance: sd.Instance, From: vrrp.StateBackup, To: vrrp.StateMaster})
	}
	return nil
}

// syncDaemons drives the IPVS connection sync daemons of the
// configuration's lvs_sync_daemon as keepalived 2.2.7 does:
//
//   - tied to a VRRP instance: a backup daemon from the start
//     (vrrp_scheduler.c:259) and whenever the instance leaves MASTER
//     (vrrp.c:1790, ipvs_syncd_backup: the master daemon stopped, a backup
//     started); on becoming MASTER the backup daemon is stopped and a
//     master started (vrrp.c:1702, ipvs_syncd_master); at stop the running
//     daemon is stopped (vrrp_daemon.c:414);
//   - without an instance: a master and a backup daemon from start to
//     stop (check_daemon.c:385 and :172).
//
// At start, a master daemon left running by a run that did not stop (a
// killed node) is stopped first when the daemon follows an instance, as
// keepalived's checker does for the daemons it manages
// (check_daemon.c:376): the node starts as BACKUP and must not keep
// sending its connections as a master. keepalived's VRRP process leaves
// such a daemon running until its instance next leaves MASTER.
//
// Failures are logged and the node runs on, as keepalived does; the next
// transition tries again.
type syncDaemons struct {
	c        daemonClient
	base     ipvs.Daemon // the settings; State is set per call
	instance string
	log      *slog.Logger

	mu      sync.Mutex
	running map[ipvs.DaemonState]bool
}

// newSyncDaemons returns the driver of sd's daemons over c; nil when sd
// is nil.
func newSyncDaemons(sd *config.SyncDaemon, c daemonClient, log *slog.Logger) *syncDaemons {
	if sd == nil {
		return nil
	}
	return &syncDaemons{c: c, base: syncDaemonSettings(sd), instance: sd.Instance, log: log, running: map[ipvs.DaemonState]bool{}}
}

// syncDaemonSettings maps the configuration's sync daemon to IPVS's.
func syncDaemonSettings(sd *config.SyncDaemon) ipvs.Daemon {
	id := sd.SyncID
	if id < 0 {
		id = 0
	}
	return ipvs.Daemon{Interface: sd.Interface, SyncID: uint32(id), MaxLen: sd.MaxLen, Group: sd.Group, Port: sd.Port, TTL: sd.TTL}
}

// start starts the daemons a node runs from its start.
func (s *syncDaemons) start() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.instance == "" {
		s.ensure(ipvs.DaemonMaster, "start")
		s.ensure(ipvs.DaemonBackup, "start")
		return
	}
	s.ensureNo(ipvs.DaemonMaster, "start")
	s.ensure(ipvs.DaemonBackup, "start")
}

// transition follows a VRRP transition of the daemons' instance.
func (s *syncDaemons) transition(t vrrp.Transition) {
	if s == nil || s.instance == "" || t.Instance != s.instance {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	why := t.From.String() + ">" + t.To.String()
	switch t.To {
	case vrrp.StateMaster:
		s.ensureNo(ipvs.DaemonBackup, why)
		s.ensure(ipvs.DaemonMaster, why)
	case vrrp.StateBackup, vrrp.StateFault:
		if s.running[ipvs.DaemonMaster] || t.From == vrrp.StateMaster {
			s.ensureNo(ipvs.DaemonMaster, why)
		}
		if !s.running[ipvs.DaemonBackup] {
			s.ensure(ipvs.DaemonBackup, why)
		}
	}
	// StateStopped: stop stops the running daemon.
}

// stop stops the daemons this node runs.
func (s *syncDaemons) stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range []ipvs.DaemonState{ipvs.DaemonMaster, ipvs.DaemonBackup} {
		if s.running[st] || s.instance == "" {
			s.ensureNo(st, "stop")
		}
	}
}

func (s *syncDaemons) ensure(st ipvs.DaemonState, why string) {
	d := s.base
	d.State = st
	changed, err := s.c.EnsureDaemon(d)
	if err != nil {
		s.log.Error("ipvs: starting the sync daemon", "state", st.String(), "interface", d.Interface, "syncid", d.SyncID, "why", why, "err", err)
		return
	}
	s.running[st] = true
	if changed {
		s.log.Info("ipvs: sync daemon started", "state", st.String(), "interface", d.Interface, "syncid", d.SyncID, "why", why)
	}
}

func (s *syncDaemons) ensureNo(st ipvs.DaemonState, why string) {
	stopped, err := s.c.EnsureNoDaemon(st)
	if err != nil {
		s.log.Error("ipvs: stopping the sync daemon", "state", st.String(), "why", why, "err", err)
		return
	}
	s.running[st] = false
	if stopped {
		s.log.Info("ipvs: sync daemon stopped", "state", st.String(), "why", why)
	}
}
