package agent

import (
	"log/slog"
	"syscall"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/notify"
	"github.com/lvskit/lvskit/vrrp"
)

// fifoSet is the node's notify FIFOs (notify_fifo, vrrp_notify_fifo,
// lvs_notify_fifo), written a line per change of state of an instance or
// a sync group (notify_fifo, vrrp_notify_fifo) and of a real server or a
// virtual server's quorum (notify_fifo, lvs_notify_fifo), as keepalived's
// VRRP and checker processes write them. A nil *fifoSet writes nothing.
type fifoSet struct {
	vrrp, lvs []*notify.FIFO
	fifos     []*notify.FIFO // all, to close
	programs  []*fifoProgram
	log       *slog.Logger
}

// openFIFOs opens the FIFOs of cfg; with none it returns nil.
func openFIFOs(cfg *config.Config, log *slog.Logger) (*fifoSet, error) {
	var fs *fifoSet
	for i, spec := range []config.FIFOSpec{cfg.Global.NotifyFIFO, cfg.Global.VRRPNotifyFIFO, cfg.Global.LVSNotifyFIFO} {
		if spec.Path == "" {
			continue
		}
		uid, gid := -1, -1
		if spec.User != "" || !spec.Owner.IsRoot() {
			uid, gid = int(spec.Owner.UID), int(spec.Owner.GID)
		}
		q, err := notify.OpenFIFO(spec.Path, uid, gid)
		if err != nil {
			fs.close()
			return nil, err
		}
		if fs == nil {
			fs = &fifoSet{log: log}
		}
		fs.fifos = append(fs.fifos, q)
		if i != 2 {
			fs.vrrp = append(fs.vrrp, q)
		}
		if i != 1 {
			fs.lvs = append(fs.lvs, q)
		}
		if len(spec.Script) > 0 {
			r, err := startFIFOProgram(spec.Script, spec.Path, cfg.Global.Script.Credential(), log)
			if err != nil {
				// keepalived logs a program that cannot start and goes on.
				log.Error("notify fifo: starting notify_fifo_script", "fifo", spec.Path, "err", err)
				continue
			}
			fs.programs = append(fs.programs, r)
		}
	}
	return fs, nil
}

func (fs *fifoSet) write(line string) {
	if fs != nil {
		fs.writeTo(fs.vrrp, line)
	}
}

// writeLVS writes a checker's line: to notify_fifo and lvs_notify_fifo.
func (fs *fifoSet) writeLVS(line string) {
	if fs != nil {
		fs.writeTo(fs.lvs, line)
	}
}

func (fs *fifoSet) writeTo(fifos []*notify.FIFO, line string) {
	for _, q := range fifos {
		if err := q.Write(line); err != nil {
			fs.log.Warn("notify fifo", "err", err)
		}
	}
}

// instance writes an instance's transition: INSTANCE "NAME" STATE PRIORITY.
func (fs *fifoSet) instance(t vrrp.Transition) {
	if t.To == vrrp.StateInit {
		return
	}
	fs.write(notify.FIFOLine(false, t.Instance, t.To.String(), int(t.Priority)))
}

// lowerPriority writes that a MASTER heard an advert of lower priority:
// INSTANCE "NAME" MASTER_RX_LOWER_PRI PRIORITY, as keepalived does.
func (fs *fifoSet) lowerPriority(l vrrp.LowerPriority) {
	fs.write(notify.FIFOLine(false, l.Instance, "MASTER_RX_LOWER_PRI", int(l.Priority)))
}

// priority writes a change of an instance's effective priority, as
// keepalived does with notify_priority_changes (vrrp_notify.c,
// send_instance_priority_notifies): INSTANCE "NAME" MASTER_PRIORITY
// PRIORITY as MASTER, BACKUP_PRIORITY in any other state.
func (fs *fifoSet) priority(name string, state vrrp.State, prio uint8) {
	event := "BACKUP_PRIORITY"
	if state == vrrp.StateMaster {
		event = "MASTER_PRIORITY"
	}
	fs.write(notify.FIFOLine(false, name, event, int(prio)))
}

// group writes a sync group's change of state: GROUP "NAME" STATE 0.
func (fs *fifoSet) group(name string, state vrrp.State) {
	fs.write(notify.FIFOLine(true, name, state.String(), 0))
}

// terminate sends the FIFOs' programs SIGTERM, as keepalived ends its
// scripts first when it stops, before the instances' last lines.
func (fs *fifoSet) terminate() {
	if fs == nil {
		return
	}
	for _, r := range fs.programs {
		r.signal(syscall.SIGTERM)
	}
}

// close removes and closes the FIFOs, then waits for their programs
// (terminated, or seeing the end of the FIFO): programGrace, then
// SIGTERM, then SIGKILL.
func (fs *fifoSet) close() {
	if fs == nil {
		return
	}
	for _, q := range fs.fifos {
		q.Close()
	}
	for _, r := range fs.programs {
		r.stop(programGrace)
	}
}
