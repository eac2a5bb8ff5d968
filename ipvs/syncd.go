package ipvs

import "errors"

// maxSyncID is the largest sync ID: the kernel puts it in one byte of each
// sync message.
const maxSyncID = 255

// Kernel defaults of a sync daemon started without the setting.
const (
	DefaultSyncPort = 8848
	DefaultSyncTTL  = 1
)

// DefaultSyncGroup is the multicast group of a sync daemon started without
// one (IPv4).
var DefaultSyncGroup = [4]byte{224, 0, 0, 81}

// Matches reports whether running, a daemon as the kernel lists it, has
// d's settings: the same state, interface and sync ID, and for each of
// MaxLen, Group, Port and TTL that d sets, the same value. A setting d
// leaves zero matches whatever default the kernel chose.
func (d Daemon) Matches(running Daemon) bool {
	if d.State != running.State || d.Interface != running.Interface || d.SyncID != running.SyncID {
		return false
	}
	if d.MaxLen != 0 && d.MaxLen != running.MaxLen {
		return false
	}
	if d.Port != 0 && d.Port != running.Port {
		return false
	}
	if d.TTL != 0 && d.TTL != running.TTL {
		return false
	}
	if d.Group.IsValid() && d.Group.Unmap() != running.Group.Unmap() {
		return false
	}
	return true
}

// Daemon returns the sync daemon running in state, and whether one runs.
func (c *Client) Daemon(state DaemonState) (Daemon, bool, error) {
	ds, err := c.Daemons()
	if err != nil {
		return Daemon{}, false, err
	}
	for _, d := range ds {
		if d.State == state {
			return d, true, nil
		}
	}
	return Daemon{}, false, nil
}

// EnsureDaemon makes the sync daemon of d.State run with d's settings: it
// starts one when none runs, leaves alone one that Matches d, and stops
// and restarts one that does not. It reports whether it changed anything.
// The daemon of the other state is left as it is.
func (c *Client) EnsureDaemon(d Daemon) (changed bool, err error) {
	if err := (Op{Kind: StartDaemon, Daemon: d}).validate(); err != nil {
		return false, err
	}
	running, ok, err := c.Daemon(d.State)
	if err != nil {
		return false, err
	}
	if ok && d.Matches(running) {
		return false, nil
	}
	if ok {
		if err := c.StopDaemon(d.State); err != nil && !errors.Is(err, ErrDaemonNotRunning) {
			return false, err
		}
	}
	if err := c.StartDaemon(d); err != nil {
		return ok, err
	}
	return true, nil
}

// EnsureNoDaemon stops the sync daemon of state if one runs, and reports
// whether one did.
func (c *Client) EnsureNoDaemon(state DaemonState) (stopped bool, err error) {
	err = c.StopDaemon(state)
	if errors.Is(err, ErrDaemonNotRunning) {
		return false, nil
	}
	return err == nil, err
}
