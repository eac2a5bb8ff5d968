package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// parseFile is Load without ResolveScripts, whose warnings depend on the
// system the tests run on.
func parseFile(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// fakeEnv is a system with users, groups and files of the tests' making.
type fakeEnv struct {
	users  map[string][2]uint32
	groups map[string]uint32
	files  map[string]scriptFile
	path   map[string]string
}

func (e fakeEnv) lookupUser(name string) (uint32, uint32, error) {
	u, ok := e.users[name]
	if !ok {
		return 0, 0, errors.New("unknown user " + name)
	}
	return u[0], u[1], nil
}

func (e fakeEnv) lookupGroup(name string) (uint32, error) {
	g, ok := e.groups[name]
	if !ok {
		return 0, errors.New("unknown group " + name)
	}
	return g, nil
}

func (e fakeEnv) stat(p string) (scriptFile, error) {
	f, ok := e.files[p]
	if !ok {
		return scriptFile{}, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
	}
	return f, nil
}

func (e fakeEnv) lookPath(file string) (string, error) {
	if p, ok := e.path[file]; ok {
		return p, nil
	}
	return "", errors.New("not found")
}

func rootDir(mode fs.FileMode) scriptFile { return scriptFile{mode: fs.ModeDir | mode} }

// newFakeEnv has a root-owned /usr/bin/nc, and the user nobody.
func newFakeEnv() fakeEnv {
	return fakeEnv{
		users:  map[string][2]uint32{"nobody": {65534, 65534}, "root": {0, 0}},
		groups: map[string]uint32{"nogroup": 65534, "root": 0, "adm": 4},
		files: map[string]scriptFile{
			"/":            rootDir(0o755),
			"/usr":         rootDir(0o755),
			"/usr/bin":     rootDir(0o755),
			"/usr/bin/nc":  {mode: 0o755},
			"/tmp":         rootDir(fs.ModeSticky | 0o777),
			"/tmp/x":       {mode: 0o755},
			"/opt":         rootDir(0o775),
			"/opt/check":   {mode: 0o755},
			"/srv":         {uid: 1000, mode: fs.ModeDir | 0o755},
			"/srv/check":   {mode: 0o755},
			"/usr/bin/rw":  {mode: 0o777},
			"/usr/bin/grp": {gid: 4, mode: 0o775},
			"/usr/bin/txt": {mode: 0o644},
		},
		path: map[string]string{"nc": "/usr/bin/nc"},
	}
}

func scriptConfig(g Global, notify Command, misc Command) *Config {
	in := NewVRRPInstance("VI_1")
	in.Pos = Pos{File: "k.conf", Line: 10}
	in.Notify = notify
	vs := NewVirtualServer()
	vs.Addr = netip.MustParseAddrPort("192.168.0.100:53")
	vs.Protocol = UDP
	rs := NewRealServer(netip.MustParseAddrPort("172.16.0.1:53"))
	ck := NewChecker(MiscCheck)
	ck.Pos = Pos{File: "k.conf", Line: 20}
	ck.MiscPath = misc
	rs.Checkers = []Checker{ck}
	vs.RealServers = []RealServer{rs}
	g.ScriptUserPos = Pos{File: "k.conf", Line: 2}
	return &Config{Source: "k.conf", Format: FormatKeepalived, Global: g, VRRP: []VRRPInstance{in}, VirtualServers: []VirtualServer{vs}}
}

func TestResolveScripts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		g        Global
		notify   Command
		misc     Command
		users    map[string][2]uint32 // replaces the fake env's when set
		want     ScriptIdentity
		err      string   // the error, when one is wanted
		warnings []string // each a substring of one warning, in order
	}{
		{name: "safe programs, root", notify: Command{"/usr/bin/nc"}, misc: Command{"nc", "-zn"}},
		{name: "script_user", g: Global{ScriptUser: "nobody"}, misc: Command{"/usr/bin/nc"},
			want: ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}},
		{name: "script_user and group", g: Global{ScriptUser: "nobody", ScriptGroup: "adm"},
			want: ScriptIdentity{User: "nobody", Group: "adm", UID: 65534, GID: 4}},
		{name: "keepalived_script by default", users: map[string][2]uint32{"keepalived_script": {900, 901}},
			want: ScriptIdentity{User: "keepalived_script", UID: 900, GID: 901}},
		{name: "unknown user", g: Global{ScriptUser: "nosuch"},
			err: `k.conf:2: script_user: user "nosuch": unknown user nosuch`},
		{name: "unknown group", g: Global{ScriptUser: "nobody", ScriptGroup: "nosuch"},
			err: `k.conf:2: script_user: group "nosuch": unknown group nosuch`},
		{name: "world-writable program, security on", g: Global{EnableScriptSecurity: true}, misc: Command{"/usr/bin/rw"},
			err: "k.conf:20: virtual_server UDP 192.168.0.100:53: real_server 172.16.0.1:53: MISC_CHECK misc_path: /usr/bin/rw runs as root but /usr/bin/rw is writable by anyone; enable_script_security refuses it"},
		{name: "world-writable program, security off", misc: Command{"/usr/bin/rw"},
			warnings: []string{"k.conf:20: virtual_server UDP 192.168.0.100:53: real_server 172.16.0.1:53: MISC_CHECK misc_path: /usr/bin/rw runs as root but /usr/bin/rw is writable by anyone; enable_script_security would refuse it"}},
		{name: "folder writable by root's group is fine", g: Global{EnableScriptSecurity: true}, notify: Command{"/opt/check", "x"}},
		{name: "folder of another owner", g: Global{EnableScriptSecurity: true}, notify: Command{"/srv/check"},
			err: "k.conf:10: vrrp_instance VI_1: notify: /srv/check runs as root but /srv is owned by uid 1000, not root; enable_script_security refuses it"},
		{name: "group-writable by a non-root group", g: Global{EnableScriptSecurity: true}, notify: Command{"/usr/bin/grp"},
			err: "/usr/bin/grp is writable by group 4"},
		{name: "sticky folder is fine", g: Global{EnableScriptSecurity: true}, notify: Command{"/tmp/x"}},
		{name: "not checked when not root", g: Global{EnableScriptSecurity: true, ScriptUser: "nobody"}, misc: Command{"/usr/bin/rw"},
			want: ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}},
		{name: "missing and not executable", notify: Command{"/usr/bin/none"}, misc: Command{"/usr/bin/txt"},
			warnings: []string{"notify: stat /usr/bin/none: file does not exist: it will fail when it runs", "misc_path: /usr/bin/txt is not executable by root"}},
		{name: "not in PATH", misc: Command{"nosuch"}, warnings: []string{"misc_path: nosuch not found in PATH"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv()
			if tt.users != nil {
				env.users = tt.users
			}
			c := scriptConfig(tt.g, tt.notify, tt.misc)
			err := resolveScripts(c, env)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "":
				return
			}
			if c.Global.Script != tt.want {
				t.Errorf("Script = %+v, want %+v", c.Global.Script, tt.want)
			}
			if len(c.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %d", c.Warnings, len(tt.warnings))
			}
			for i, w := range tt.warnings {
				if !strings.Contains(c.Warnings[i].String(), w) {
					t.Errorf("warning %d: %q, want it to contain %q", i, c.Warnings[i], w)
				}
			}
		})
	}
}

func TestScriptIdentityCredential(t *testing.T) {
	if c := (ScriptIdentity{}).Credential(); c != nil {
		t.Errorf("root: %+v, want nil", c)
	}
	got := ScriptIdentity{User: "nobody", UID: 65534, GID: 4}.Credential()
	want := syscall.Credential{Uid: 65534, Gid: 4, Groups: []uint32{4}}
	if got == nil || got.Uid != want.Uid || got.Gid != want.Gid || len(got.Groups) != 1 || got.Groups[0] != 4 {
		t.Errorf("Credential() = %+v, want %+v", got, want)
	}
}

// Load applies ResolveScripts to real files: a program in a folder anyone
// may write to is refused under enable_script_security.
func TestLoadRefusesUnsafeScript(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	prog := filepath.Join(open, "notify.sh")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "k.conf")
	src := "global_defs {\n enable_script_security\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n  10.0.0.1/24\n }\n notify " + prog + "\n}\n"
	if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(conf)
	if err == nil || !strings.Contains(err.Error(), conf+":4: vrrp_instance VI_1: notify: "+prog+" runs as root but ") {
		t.Fatalf("Load: %v, want the notify program refused", err)
	}
	// Without enable_script_security: loaded, with a warning.
	if err := os.WriteFile(conf, []byte(strings.Replace(src, " enable_script_security\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[len(c.Warnings)-1].String(), "enable_script_security would refuse it") {
		t.Errorf("warnings %q, want one about %s", c.Warnings, prog)
	}
}
