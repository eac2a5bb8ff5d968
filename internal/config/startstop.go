package config

import (
	"fmt"
	"strings"
	"time"
)

// StartStopScript is keepalived's startup_script or shutdown_script and
// its _timeout: a program the node runs, and waits for, before it starts
// its VRRP instances and virtual servers (startup) or after it has stopped
// them (shutdown). A program still running at the timeout has its process
// group killed and the node goes on. The zero value is none.
type StartStopScript struct {
	// Pos is where the script was set.
	Pos Pos
	// Command is the program and its arguments (keepalived's first word,
	// quoted to hold arguments); nil: none, or dropped by ResolveScripts
	// as keepalived drops a program it cannot run.
	Command Command
	// User and Group are the words after it: who it runs as; "" means the
	// script user (script_user, or keepalived_script, or root).
	User, Group string
	// Identity is who it runs as, set by ResolveScripts.
	Identity ScriptIdentity
	// Timeout bounds its run: startup_script_timeout or
	// shutdown_script_timeout (1-1000 seconds), 10 seconds by default once
	// a script is set.
	Timeout time.Duration
}

// defaultStartStopTimeout is keepalived's timeout of both scripts.
const defaultStartStopTimeout = 10 * time.Second

// startStopScript reads startup_script and shutdown_script as keepalived
// 2.2.7 does (global_parser.c, startup_shutdown_script): "COMMAND [USER
// [GROUP]]", COMMAND being one word (quote it to give arguments); a second
// one is refused.
func (m *kaMapper) startStopScript(n *node, dst *StartStopScript) {
	kind := strings.TrimSuffix(n.name, "_script")
	switch {
	case len(dst.Command) > 0:
		m.errf(n, "%s script already specified at %s, as keepalived refuses", kind, dst.Pos)
		return
	case n.block:
		m.errf(n, "takes no block")
		return
	case len(n.args) == 0:
		m.errf(n, "%s script missing", kind)
		return
	}
	ws := n.argStrings()
	c, err := splitCommand(ws[0])
	if err != nil || len(c) == 0 {
		m.errf(n, "invalid %s script %q", kind, ws[0])
		return
	}
	*dst = StartStopScript{Pos: n.pos, Command: c, Timeout: dst.Timeout}
	if len(ws) > 1 {
		dst.User = ws[1]
	}
	if len(ws) > 2 {
		dst.Group = ws[2]
	}
	if len(ws) > 3 {
		m.warnf(n, "%q after USER GROUP ignored, as keepalived does", strings.Join(ws[3:], " "))
	}
	if dst.Timeout == 0 {
		dst.Timeout = defaultStartStopTimeout
	}
}

// startStopTimeout reads startup_script_timeout and
// shutdown_script_timeout: whole seconds, 1-1000. It applies to the script
// whether set before or after it.
func (m *kaMapper) startStopTimeout(n *node, dst *StartStopScript) {
	if len(n.args) == 0 && !n.block {
		m.errf(n, "requires value")
		return
	}
	var secs int
	if m.intValue(n, 1, 1000, &secs) {
		dst.Timeout = time.Duration(secs) * time.Second
	}
}

// resolveStartStopScripts resolves who the startup and shutdown scripts
// run as and checks them as keepalived does (main.c,
// check_start_stop_script_secure): a program that cannot be found or
// executed is not run (a warning, and the script dropped); one whose path
// others could change is refused with enable_script_security, as the
// notify programs are.
func resolveStartStopScripts(c *Config, env scriptEnv, l *errList) {
	g := &c.Global
	for _, s := range []struct {
		dir string
		sc  *StartStopScript
	}{{"startup_script", &g.StartupScript}, {"shutdown_script", &g.ShutdownScript}} {
		sc := s.sc
		if len(sc.Command) == 0 {
			continue
		}
		id := g.Script
		switch {
		case sc.User != "":
			sid, err := scriptIdentity(&Global{ScriptUser: sc.User, ScriptGroup: sc.Group}, env)
			if err != nil {
				l.add(sc.Pos, s.dir, fmt.Sprintf("invalid user/group: %v", err))
				continue
			}
			id = sid
		case g.ScriptUser == "" && id.User == "" && g.EnableScriptSecurity:
			// notify.c, get_default_script_user: with script security,
			// no script_user and no keepalived_script, keepalived
			// refuses the script rather than run it as root.
			l.add(sc.Pos, s.dir, fmt.Sprintf("enable_script_security without script_user needs the user %s, which does not exist", defaultScriptUser))
			continue
		}
		sc.Identity = id
		path, f, err := findProgram(sc.Command[0], env)
		if err != nil {
			c.Warnings = append(c.Warnings, Warning{Pos: sc.Pos, Directive: s.dir, Msg: fmt.Sprintf("%v: not run, as keepalived does not run it", err)})
			sc.Command = nil
			continue
		}
		if !executableBy(f, id) {
			c.Warnings = append(c.Warnings, Warning{Pos: sc.Pos, Directive: s.dir, Msg: fmt.Sprintf("%s is not executable by %s: not run, as keepalived does not run it", path, id)})
			sc.Command = nil
			continue
		}
		if !g.EnableScriptSecurity {
			c.Warnings = append(c.Warnings, Warning{Pos: sc.Pos, Directive: s.dir, Msg: "runs without enable_script_security (keepalived reports a SECURITY VIOLATION and runs it)"})
		}
		if !needsProtection(f, id) {
			continue
		}
		unsafe, err := unsafePath(path, env)
		switch {
		case err != nil:
			c.Warnings = append(c.Warnings, Warning{Pos: sc.Pos, Directive: s.dir, Msg: fmt.Sprintf("checking %s: %v", path, err)})
		case unsafe == "":
		case g.EnableScriptSecurity:
			l.add(sc.Pos, s.dir, fmt.Sprintf("%s runs as %s but %s; enable_script_security refuses it", path, id, unsafe))
		default:
			c.Warnings = append(c.Warnings, Warning{Pos: sc.Pos, Directive: s.dir, Msg: fmt.Sprintf("%s runs as %s but %s; enable_script_security would refuse it", path, id, unsafe)})
		}
	}
}

// startStop dispatches the four global_defs keywords.
func (m *kaMapper) startStop(n *node, g *Global) {
	dst := &g.StartupScript
	if strings.HasPrefix(n.name, "shutdown") {
		dst = &g.ShutdownScript
	}
	if strings.HasSuffix(n.name, "_timeout") {
		m.startStopTimeout(n, dst)
		return
	}
	m.startStopScript(n, dst)
}
