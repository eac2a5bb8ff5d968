package agent

import (
	"log/slog"
	"strings"
	"time"

	"github.com/lvskit/lvskit/internal/config"
)

// startStopKillWait is how long after its timeout a script's exit is
// awaited: the notify runner kills its process group at the timeout and
// gives its output a second to close (keepalived sends SIGTERM, then
// SIGKILL two seconds later).
const startStopKillWait = 3 * time.Second

// runStartStopScript runs keepalived's startup_script or shutdown_script
// (kind "startup" or "shutdown") and waits for it, at most its timeout: as
// a notify program, through the agent's notify runner, as the script's
// identity, in its own process group killed at the timeout. The node goes
// on whatever the script does; the runner logs its exit status or
// timeout.
func (a *Agent) runStartStopScript(kind string, s config.StartStopScript, log *slog.Logger) {
	if len(s.Command) == 0 {
		return
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	log = log.With("script", kind)
	log.Info("running "+kind+" script", "argv", strings.Join(s.Command, " "), "timeout", timeout)
	start := time.Now()
	r := a.env.Notify(timeout, log, s.Identity.Credential())
	r.EnqueueAll([][]string{s.Command})
	r.Close(timeout + startStopKillWait)
	if took := time.Since(start); took >= timeout {
		log.Warn(kind+" script timed out", "timeout", timeout, "took", took.Round(time.Millisecond))
	}
}

// runShutdownScript runs the shutdown_script of the configuration last
// reloaded, as keepalived reads it again on reload.
func (a *Agent) runShutdownScript(log *slog.Logger) {
	a.mu.Lock()
	s := a.cfg.Global.ShutdownScript
	a.mu.Unlock()
	a.runStartStopScript("shutdown", s, log)
}
