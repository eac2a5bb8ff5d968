package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// ScriptIdentity is who notify and MISC_CHECK programs run as: keepalived's
// script_user, resolved against the system's user and group databases.
// The zero value is root.
type ScriptIdentity struct {
	User, Group string
	UID, GID    uint32
}

// IsRoot reports whether the programs run as root (as the agent itself).
func (s ScriptIdentity) IsRoot() bool { return s.UID == 0 && s.GID == 0 }

// Credential is the identity for os/exec's SysProcAttr, with the group as
// the only supplementary group as keepalived sets it; nil for root.
func (s ScriptIdentity) Credential() *syscall.Credential {
	if s.IsRoot() {
		return nil
	}
	return &syscall.Credential{Uid: s.UID, Gid: s.GID, Groups: []uint32{s.GID}}
}

// defaultScriptUser is the user keepalived runs scripts as when
// script_user is not set and that user exists; otherwise root.
const defaultScriptUser = "keepalived_script"

// ResolveScripts does what keepalived does with its scripts when it loads
// a configuration, on this system, and records the result in c:
//
//   - Global.Script becomes the user and group of script_user, or of the
//     user keepalived_script when script_user is not set and that user
//     exists, or root. An unknown user or group is an error.
//   - Every notify program and MISC_CHECK path that will run with root's
//     user or group (or is set-user- or set-group-ID root) has each folder
//     of its path and the file itself checked, as keepalived's
//     enable_script_security does: each must be owned by root and not be
//     writable by a group other than root's or by others (a folder with
//     the sticky bit, such as /tmp, may be). With enable_script_security
//     an unsafe program is an error: lbnode refuses the configuration,
//     where keepalived would start and only disable the program. Without
//     it, a warning.
//   - A program that cannot be found, or that the script user cannot
//     execute, gets a warning: it will fail when it runs.
//
// Load calls it after parsing; Parse does not, so that parsing touches
// nothing but the file.
func ResolveScripts(c *Config) error {
	return resolveScripts(c, osScriptEnv{})
}

// scriptEnv is the system ResolveScripts looks at.
type scriptEnv interface {
	lookupUser(name string) (uid, gid uint32, err error)
	lookupGroup(name string) (gid uint32, err error)
	stat(path string) (scriptFile, error)
	lookPath(file string) (string, error)
}

// scriptFile is what the checks need of a stat.
type scriptFile struct {
	uid, gid uint32
	mode     fs.FileMode
}

type osScriptEnv struct{}

func (osScriptEnv) lookupUser(name string) (uint32, uint32, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("user %q: %w", name, err)
	}
	return uint32(uid), uint32(gid), nil
}

func (osScriptEnv) lookupGroup(name string) (uint32, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("group %q: %w", name, err)
	}
	return uint32(gid), nil
}

func (osScriptEnv) stat(path string) (scriptFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return scriptFile{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return scriptFile{}, fmt.Errorf("%s: no owner information", path)
	}
	return scriptFile{uid: st.Uid, gid: st.Gid, mode: fi.Mode()}, nil
}

func (osScriptEnv) lookPath(file string) (string, error) { return exec.LookPath(file) }

func resolveScripts(c *Config, env scriptEnv) error {
	var l errList
	g := &c.Global
	id, err := scriptIdentity(g, env)
	if err != nil {
		l.add(g.ScriptUserPos, directive(c, "script_user"), err.Error())
		return l.err()
	}
	g.Script = id
	resolveStartStopScripts(c, env, &l)
	var checkAs func(pos Pos, dir string, cmd Command, id ScriptIdentity)
	warn := func(pos Pos, dir, format string, a ...any) {
		c.Warnings = append(c.Warnings, Warning{Pos: pos, Directive: dir, Msg: fmt.Sprintf(format, a...)})
	}
	check := func(pos Pos, dir string, cmd Command) { checkAs(pos, dir, cmd, id) }
	checkAs = func(pos Pos, dir string, cmd Command, id ScriptIdentity) {
		if len(cmd) == 0 {
			return
		}
		path, f, err := findProgram(cmd[0], env)
		if err != nil {
			warn(pos, dir, "%v: it will fail when it runs", err)
			return
		}
		if !executableBy(f, id) {
			warn(pos, dir, "%s is not executable by %s: it will fail when it runs", path, id)
		}
		if !needsProtection(f, id) {
			return
		}
		unsafe, err := unsafePath(path, env)
		switch {
		case err != nil:
			warn(pos, dir, "checking %s: %v", path, err)
		case unsafe == "":
		case g.EnableScriptSecurity:
			l.add(pos, dir, fmt.Sprintf("%s runs as %s but %s; enable_script_security refuses it", path, id, unsafe))
		default:
			warn(pos, dir, "%s runs as %s but %s; enable_script_security would refuse it", path, id, unsafe)
		}
	}
	for i := range c.VRRP {
		in := &c.VRRP[i]
		for _, n := range []struct {
			dir string
			cmd Command
		}{{"notify", in.Notify}, {"notify_master", in.NotifyMaster}, {"notify_backup", in.NotifyBackup}, {"notify_fault", in.NotifyFault}, {"notify_stop", in.NotifyStop}, {"notify_master_rx_lower_pri", in.NotifyMasterRxLowerPri}} {
			check(in.Pos, directive(c, "vrrp_instance "+in.Name+": "+n.dir), n.cmd)
		}
	}
	for _, f := range []*FIFOSpec{&g.NotifyFIFO, &g.VRRPNotifyFIFO, &g.LVSNotifyFIFO} {
		if err := resolveFIFOOwner(f, id, env); err != nil {
			l.add(f.Pos, "notify_fifo", err.Error())
		}
		check(f.ScriptPos, "notify_fifo_script", f.Script)
	}
	for i := range c.VRRPScripts {
		s := &c.VRRPScripts[i]
		s.Identity = id
		if s.User != "" {
			sid, err := scriptIdentity(&Global{ScriptUser: s.User, ScriptGroup: s.Group}, env)
			if err != nil {
				l.add(s.UserPos, "vrrp_script "+s.Name+": user", err.Error())
				continue
			}
			s.Identity = sid
		}
		checkAs(s.Pos, "vrrp_script "+s.Name+": script", s.Script, s.Identity)
	}
	for i := range c.VirtualServers {
		vs := &c.VirtualServers[i]
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			for k := range rs.Checkers {
				ck := &rs.Checkers[k]
				if ck.Kind != MiscCheck {
					continue
				}
				dir := fmt.Sprintf("virtual_server %s: real_server %s: MISC_CHECK", vs.Key(), rs.Addr)
				if ck.MiscUser == "" {
					check(ck.Pos, dir+" misc_path", ck.MiscPath)
					continue
				}
				sid, err := scriptIdentity(&Global{ScriptUser: ck.MiscUser, ScriptGroup: ck.MiscGroup}, env)
				if err != nil {
					l.add(ck.MiscUserPos, dir+" user", err.Error())
					continue
				}
				ck.MiscIdentity = sid
				checkAs(ck.Pos, dir+" misc_path", ck.MiscPath, sid)
			}
		}
	}
	return l.err()
}

// directive names a setting as the configuration's format spells it.
func directive(c *Config, name string) string {
	if c.Format == FormatYAML && name == "script_user" {
		return "global.script_user"
	}
	return name
}

// String names the identity: "root", or the user (and group) with their
// numeric IDs.
func (s ScriptIdentity) String() string {
	if s.IsRoot() {
		return "root"
	}
	name := s.User
	if s.Group != "" {
		name += ":" + s.Group
	}
	return fmt.Sprintf("%s (uid %d, gid %d)", name, s.UID, s.GID)
}

// scriptIdentity resolves script_user, or keepalived's default.
func scriptIdentity(g *Global, env scriptEnv) (ScriptIdentity, error) {
	if g.ScriptUser == "" {
		if g.ScriptGroup != "" {
			return ScriptIdentity{}, fmt.Errorf("a group (%q) without a user", g.ScriptGroup)
		}
		uid, gid, err := env.lookupUser(defaultScriptUser)
		if err != nil {
			return ScriptIdentity{}, nil // no such user: root, as keepalived
		}
		return ScriptIdentity{User: defaultScriptUser, UID: uid, GID: gid}, nil
	}
	uid, gid, err := env.lookupUser(g.ScriptUser)
	if err != nil {
		return ScriptIdentity{}, fmt.Errorf("user %q: %v", g.ScriptUser, err)
	}
	id := ScriptIdentity{User: g.ScriptUser, UID: uid, GID: gid}
	if g.ScriptGroup != "" {
		if id.GID, err = env.lookupGroup(g.ScriptGroup); err != nil {
			return ScriptIdentity{}, fmt.Errorf("group %q: %v", g.ScriptGroup, err)
		}
		id.Group = g.ScriptGroup
	}
	return id, nil
}

// findProgram resolves a program as it will be executed: a name without a
// slash is looked up in PATH.
func findProgram(name string, env scriptEnv) (string, scriptFile, error) {
	path := name
	if !strings.Contains(name, "/") {
		p, err := env.lookPath(name)
		if err != nil {
			return "", scriptFile{}, fmt.Errorf("%s not found in PATH", name)
		}
		path = p
	}
	f, err := env.stat(path)
	if err != nil {
		return "", scriptFile{}, err
	}
	if !f.mode.IsRegular() {
		return "", scriptFile{}, fmt.Errorf("%s is not a regular file", path)
	}
	return path, f, nil
}

func executableBy(f scriptFile, id ScriptIdentity) bool {
	p := f.mode.Perm()
	switch {
	case id.UID == 0:
		return p&0o111 != 0
	case id.UID == f.uid:
		return p&0o100 != 0
	case id.GID == f.gid:
		return p&0o010 != 0
	default:
		return p&0o001 != 0
	}
}

// needsProtection is when keepalived checks a program's path: it runs with
// root's user or group, or gains root's by a set-ID bit.
func needsProtection(f scriptFile, id ScriptIdentity) bool {
	return id.UID == 0 || id.GID == 0 ||
		(f.uid == 0 && f.mode&fs.ModeSetuid != 0 && f.mode.Perm()&0o100 != 0) ||
		(f.gid == 0 && f.mode&fs.ModeSetgid != 0 && f.mode.Perm()&0o010 != 0)
}

// unsafePath checks "/", each folder on the way to path and path itself,
// and says what makes the first unsafe one so, or "" when all are safe.
func unsafePath(path string, env scriptEnv) (string, error) {
	steps := []string{"/"}
	for i := 1; i < len(path); i++ {
		if path[i] == '/' && path[i-1] != '/' {
			steps = append(steps, path[:i])
		}
	}
	if path != "/" {
		steps = append(steps, path)
	}
	for _, p := range steps {
		f, err := env.stat(p)
		if err != nil {
			return "", err
		}
		exempt := f.mode.IsDir() && f.mode&fs.ModeSticky != 0
		switch {
		case f.uid != 0:
			return fmt.Sprintf("%s is owned by uid %d, not root", p, f.uid), nil
		case !exempt && f.gid != 0 && f.mode.Perm()&0o020 != 0:
			return fmt.Sprintf("%s is writable by group %d", p, f.gid), nil
		case !exempt && f.mode.Perm()&0o002 != 0:
			return fmt.Sprintf("%s is writable by anyone", p), nil
		}
	}
	return "", nil
}
