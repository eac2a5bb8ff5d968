package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const startStopInstance = `vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 7
  virtual_ipaddress {
    10.0.0.1
  }
}
`

// startup_script and shutdown_script are read as keepalived 2.2.7 reads
// them: the first word the command line, then USER [GROUP]; the timeout
// 10 seconds by default, set before or after the script.
func TestParseKeepalivedStartStopScripts(t *testing.T) {
	src := `global_defs {
  startup_script_timeout 3
  startup_script "/usr/local/bin/up --fast"
  shutdown_script /usr/local/bin/down nobody nogroup
}
` + startStopInstance
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	want := StartStopScript{Pos: Pos{File: "k.conf", Line: 3}, Command: Command{"/usr/local/bin/up", "--fast"}, Timeout: 3 * time.Second}
	if diff := cmp.Diff(want, c.Global.StartupScript); diff != "" {
		t.Errorf("startup_script (-want +got):\n%s", diff)
	}
	want = StartStopScript{Pos: Pos{File: "k.conf", Line: 4}, Command: Command{"/usr/local/bin/down"}, User: "nobody", Group: "nogroup", Timeout: 10 * time.Second}
	if diff := cmp.Diff(want, c.Global.ShutdownScript); diff != "" {
		t.Errorf("shutdown_script (-want +got):\n%s", diff)
	}
	for _, w := range c.Warnings {
		if strings.Contains(w.Directive, "script") {
			t.Errorf("unexpected warning %s", w)
		}
	}
}

// What keepalived -t reports as a configuration error is refused, at its
// line.
func TestParseKeepalivedStartStopScriptErrors(t *testing.T) {
	for _, tc := range []struct {
		name, lines, want string
	}{
		{"missing script", "startup_script", "k.conf:2: startup_script: startup script missing"},
		{"second script", "shutdown_script /bin/a\n  shutdown_script /bin/b", "k.conf:3: shutdown_script: shutdown script already specified at k.conf:2"},
		{"timeout zero", "startup_script_timeout 0", `k.conf:2: startup_script_timeout: "0" is not a number 1-1000`},
		{"timeout too long", "shutdown_script_timeout 1001", `k.conf:2: shutdown_script_timeout: "1001" is not a number 1-1000`},
		{"timeout not a number", "startup_script_timeout 5x", `k.conf:2: startup_script_timeout: "5x" is not a number 1-1000`},
		{"timeout missing", "shutdown_script_timeout", "k.conf:2: shutdown_script_timeout: requires value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "global_defs {\n  " + tc.lines + "\n}\n" + startStopInstance
			_, err := parseKeepalived("k.conf", []byte(src), mapFS{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// The scripts' identity and safety are checked as keepalived checks them
// when it starts: an unknown user refused, a program it cannot run
// dropped (keepalived does not run it), an unsafe path refused with
// enable_script_security.
func TestResolveStartStopScripts(t *testing.T) {
	env := newFakeEnv()
	env.files["/usr/bin/up"] = scriptFile{mode: 0o755}
	env.files["/usr/bin/noexec"] = scriptFile{mode: 0o744}
	sc := func(cmd string, user, group string) StartStopScript {
		return StartStopScript{Pos: Pos{File: "k.conf", Line: 3}, Command: Command{cmd}, User: user, Group: group, Timeout: 10 * time.Second}
	}
	for _, tc := range []struct {
		name     string
		g        Global
		wantID   ScriptIdentity
		wantErr  string
		wantWarn string
		dropped  bool
	}{
		{name: "script user", g: Global{ScriptUser: "nobody", EnableScriptSecurity: true, StartupScript: sc("/usr/bin/up", "", "")},
			wantID: ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}},
		{name: "own user and group", g: Global{EnableScriptSecurity: true, ScriptUser: "root", StartupScript: sc("/usr/bin/up", "nobody", "adm")},
			wantID: ScriptIdentity{User: "nobody", Group: "adm", UID: 65534, GID: 4}},
		{name: "unknown user", g: Global{StartupScript: sc("/usr/bin/up", "ghost", "")},
			wantErr: "k.conf:3: startup_script: invalid user/group: user \"ghost\""},
		{name: "no default user with security", g: Global{EnableScriptSecurity: true, StartupScript: sc("/usr/bin/up", "", "")},
			wantErr: "needs the user keepalived_script"},
		{name: "not found", g: Global{EnableScriptSecurity: true, ScriptUser: "root", StartupScript: sc("/usr/bin/none", "", "")},
			wantWarn: "k.conf:3: startup_script: stat /usr/bin/none: file does not exist: not run", dropped: true, wantID: ScriptIdentity{User: "root"}},
		{name: "not executable by the user", g: Global{EnableScriptSecurity: true, ScriptUser: "root", StartupScript: sc("/usr/bin/noexec", "nobody", "")},
			wantWarn: "/usr/bin/noexec is not executable by nobody", dropped: true, wantID: ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}},
		{name: "unsafe with security", g: Global{EnableScriptSecurity: true, ScriptUser: "root", StartupScript: sc("/usr/bin/rw", "", "")},
			wantErr: "/usr/bin/rw is writable by anyone; enable_script_security refuses it"},
		{name: "unsafe without security", g: Global{ScriptUser: "root", StartupScript: sc("/usr/bin/rw", "", "")},
			wantWarn: "enable_script_security would refuse it", wantID: ScriptIdentity{User: "root"}},
		{name: "without security", g: Global{ScriptUser: "root", StartupScript: sc("/usr/bin/up", "", "")},
			wantWarn: "runs without enable_script_security", wantID: ScriptIdentity{User: "root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The same checks apply to the shutdown script.
			for _, shutdown := range []bool{false, true} {
				g := tc.g
				dir := "startup_script"
				if shutdown {
					g.StartupScript, g.ShutdownScript = StartStopScript{}, g.StartupScript
					dir = "shutdown_script"
				}
				c := &Config{Source: "k.conf", Format: FormatKeepalived, Global: g}
				err := resolveScripts(c, env)
				got := c.Global.StartupScript
				if shutdown {
					got = c.Global.ShutdownScript
				}
				wantErr := strings.ReplaceAll(tc.wantErr, "startup_script", dir)
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("%s: %v", dir, err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
					t.Fatalf("%s: error %v, want %q", dir, err, wantErr)
				case tc.wantErr != "":
					continue
				}
				if got.Identity != tc.wantID {
					t.Errorf("%s: identity %v, want %v", dir, got.Identity, tc.wantID)
				}
				if (len(got.Command) == 0) != tc.dropped {
					t.Errorf("%s: command %v, dropped want %v", dir, got.Command, tc.dropped)
				}
				var warns []string
				for _, w := range c.Warnings {
					warns = append(warns, w.String())
				}
				if want := strings.ReplaceAll(tc.wantWarn, "startup_script", dir); want != "" && !strings.Contains(strings.Join(warns, "\n"), want) {
					t.Errorf("%s: no warning %q in:\n%s", dir, want, strings.Join(warns, "\n"))
				}
			}
		})
	}
}
