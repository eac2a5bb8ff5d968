package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// kaNS is a namespace with an interface eth1 for keepalived to run on.
func kaNS(t *testing.T) *netnstest.NS {
	t.Helper()
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	ns := netnstest.New(t)
	ns.Run(t, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peth1")
	ns.Run(t, "ip", "link", "set", "eth1", "up")
	ns.Run(t, "ip", "link", "set", "peth1", "up")
	ns.Run(t, "ip", "addr", "add", "10.0.0.10/24", "dev", "eth1")
	return ns
}

// keepalived -t prints, for each value the reader refuses or warns about,
// the message exactCases names: keepalived reads the value as the reader's
// message says. Where the reader accepts a global setting silently,
// keepalived has nothing to say about it either.
func TestIntegrationKeepalivedReadsExactValues(t *testing.T) {
	ns := kaNS(t)
	for _, tt := range exactCases {
		t.Run(tt.name, func(t *testing.T) {
			keepalivedSays(t, ns, tt.src, tt.keepalived, tt.err == "")
		})
	}
}

// keepalived runs an instance with `state master` as BACKUP, and of two
// notify_master programs runs the first only.
func TestIntegrationKeepalivedRuntimeReading(t *testing.T) {
	ns := kaNS(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "notified")
	script := filepath.Join(dir, "notify.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "global_defs {\n  script_user root\n  enable_script_security\n}\n" +
		"vrrp_instance LOWER {\n  state master\n  interface eth1\n  virtual_router_id 7\n  priority 200\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n" +
		"vrrp_instance TWICE {\n  state MASTER\n  interface eth1\n  virtual_router_id 8\n  priority 200\n" +
		"  notify_master \"" + script + " first\"\n  notify_master \"" + script + " second\"\n  virtual_ipaddress {\n    10.0.0.2/24\n  }\n}\n"
	file := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The reader refuses the first instance and keeps the first program
	// of the second.
	if _, err := ParseKeepalived(file, []byte(conf)); err == nil || !strings.Contains(err.Error(), `state: "master" is not MASTER or BACKUP`) {
		t.Errorf("reader: %v", err)
	}
	p := ns.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", file,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	t.Cleanup(func() { _ = p.KillChildren() })
	p.WaitOutput(t, "(LOWER) Entering BACKUP STATE", 10*time.Second)
	p.WaitOutput(t, "(TWICE) Entering MASTER STATE", 10*time.Second)
	netnstest.WaitFor(t, "the notify_master program", 10*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return len(b) > 0
	})
	p.Stop(10 * time.Second)
	_ = p.KillChildren()
	b, _ := os.ReadFile(out)
	if string(b) != "first\n" {
		t.Errorf("notify_master programs run: %q, want only the first", b)
	}
	if strings.Contains(p.Output(), "(LOWER) Entering MASTER STATE") && strings.Index(p.Output(), "(LOWER) Entering MASTER STATE") < strings.Index(p.Output(), "(LOWER) Entering BACKUP STATE") {
		t.Errorf("keepalived ran `state master` as MASTER first:\n%s", p.Output())
	}
}

// keepalived -t says what extraCases quote of dont_track_primary,
// promote_secondaries, notify_priority_changes and garp_extra_if, and
// nothing of the lines the reader takes without a warning.
func TestIntegrationKeepalivedReadsVRRPExtras(t *testing.T) {
	ns := kaNS(t)
	for _, tt := range extraCases {
		t.Run(tt.name, func(t *testing.T) {
			keepalivedSays(t, ns, tt.src, tt.keepalived, len(tt.warnings) == 0)
		})
	}
}
