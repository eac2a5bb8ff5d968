package config

import (
	"fmt"
	"strings"
)

// FIFOSpec is keepalived's notify_fifo or vrrp_notify_fifo: a named pipe
// that gets a line for each change of state of an instance or a sync
// group (see package notify's FIFOLine). The zero FIFOSpec is none.
type FIFOSpec struct {
	Pos  Pos
	Path string
	// User and Group own the FIFO when it is created; "" means the
	// script user. Owner is who that is, set by ResolveScripts.
	User, Group string
	Owner       ScriptIdentity
	// Script is the program started, as the script user, with the FIFO's
	// path as its last argument once the FIFO exists, to read it
	// (notify_fifo_script); nil: none.
	Script    Command
	ScriptPos Pos
}

// fifoScriptsWithoutFIFO drops, with a warning, a FIFO program without its
// FIFO: keepalived starts it only when it opens the FIFO.
func (m *kaMapper) fifoScriptsWithoutFIFO(g *Global) {
	for _, f := range []struct {
		spec       *FIFOSpec
		fifo, name string
	}{{&g.NotifyFIFO, "notify_fifo", "notify_fifo_script"}, {&g.VRRPNotifyFIFO, "vrrp_notify_fifo", "vrrp_notify_fifo_script"}, {&g.LVSNotifyFIFO, "lvs_notify_fifo", "lvs_notify_fifo_script"}} {
		if len(f.spec.Script) > 0 && f.spec.Path == "" {
			m.cfg.Warnings = append(m.cfg.Warnings, Warning{Pos: f.spec.ScriptPos, Directive: f.name,
				Msg: fmt.Sprintf("ignored without %s: keepalived starts it only with its FIFO", f.fifo)})
			f.spec.Script, f.spec.ScriptPos = nil, Pos{}
		}
	}
}

// fifoScript reads notify_fifo_script PROGRAM [ARGS]. As keepalived, a
// second one is ignored with a warning.
func (m *kaMapper) fifoScript(n *node, dst *FIFOSpec) {
	if len(dst.Script) > 0 {
		m.warnf(n, "already specified at %s: %q ignored, as keepalived does", dst.ScriptPos, strings.Join(n.argStrings(), " "))
		return
	}
	var c Command
	m.command(n, &c)
	if len(c) > 0 {
		dst.Script, dst.ScriptPos = c, n.pos
	}
}

// fifo reads notify_fifo PATH [USER [GROUP]]. As keepalived, a second one
// is ignored, with a warning.
func (m *kaMapper) fifo(n *node, dst *FIFOSpec) {
	ws, ok := m.words(n)
	if !ok {
		return
	}
	if dst.Path != "" {
		m.warnf(n, "already specified at %s: %q ignored, as keepalived does", dst.Pos, ws[0])
		return
	}
	if len(ws) > 3 {
		m.errf(n, "want PATH [USER [GROUP]], got %q", strings.Join(ws, " "))
		return
	}
	if !strings.HasPrefix(ws[0], "/") {
		m.errf(n, "%q is not an absolute path", ws[0])
		return
	}
	*dst = FIFOSpec{Pos: n.pos, Path: ws[0], Script: dst.Script, ScriptPos: dst.ScriptPos}
	if len(ws) > 1 {
		dst.User = ws[1]
	}
	if len(ws) > 2 {
		dst.Group = ws[2]
	}
}

// resolveFIFOOwner sets f.Owner: its user and group, or script.
func resolveFIFOOwner(f *FIFOSpec, script ScriptIdentity, env scriptEnv) error {
	if f.Path == "" {
		return nil
	}
	if f.User == "" {
		f.Owner = script
		return nil
	}
	id, err := scriptIdentity(&Global{ScriptUser: f.User, ScriptGroup: f.Group}, env)
	if err != nil {
		return err
	}
	f.Owner = id
	return nil
}
