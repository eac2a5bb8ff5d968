package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const syncdInstances = `
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.168.0.100/24
    }
%s
}
`

// syncdConf is a keepalived.conf with the given global_defs lines and
// lines inside vrrp_instance VI_1.
func syncdConf(global, instance string) string {
	return "global_defs {\n" + global + "\n}\n" + strings.Replace(syncdInstances, "%s", instance, 1)
}

func TestKeepalivedSyncDaemon(t *testing.T) {
	pos := Pos{File: "ka.conf", Line: 2}
	tests := []struct {
		name     string
		global   string
		instance string
		want     *SyncDaemon
		warnings []string // substrings, in order
	}{
		{"none", "", "", nil, nil},
		{"interface and instance, sync ID from the VRID",
			"lvs_sync_daemon eth1 VI_1", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 51}, nil},
		{"every option",
			"lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 8849 ttl 3 group 239.1.2.3", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 7, MaxLen: 1400, Port: 8849, TTL: 3, Group: netip.MustParseAddr("239.1.2.3")}, nil},
		{"inst keyword and IPv6 group",
			"lvs_sync_daemon eth1 id 0 inst VI_1 group ff02::8", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 0, Group: netip.MustParseAddr("ff02::8")}, nil},
		{"no instance: both daemons, sync ID 0",
			"lvs_sync_daemon eth1", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", SyncID: 0}, nil},
		{"older positional sync ID",
			"lvs_sync_daemon eth1 VI_1 9", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 9}, []string{`without the keyword "id"`}},
		{"bad values are ignored with warnings",
			"lvs_sync_daemon eth1 VI_1 id 300 maxlen 0 port 70000 ttl x group 10.0.0.1 bogus", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 51},
			[]string{`invalid syncid "300"`, `invalid maxlen "0"`, `invalid port "70000"`, `invalid ttl "x"`, "group 10.0.0.1 is not multicast", `unknown option "bogus"`}},
		{"missing option value",
			"lvs_sync_daemon eth1 VI_1 ttl", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 51}, []string{"no value for ttl"}},
		{"unknown instance: no sync daemon",
			"lvs_sync_daemon eth1 VI_9", "", nil, []string{"vrrp instance VI_9 not found"}},
		{"interface name too long",
			"lvs_sync_daemon eth1234567890abcd VI_1", "", nil, []string{"too long"}},
		{"no interface",
			"lvs_sync_daemon", "", nil, []string{"requires an interface"}},
		{"twice: the first wins",
			"lvs_sync_daemon eth1 VI_1\nlvs_sync_daemon eth2 VI_1", "",
			&SyncDaemon{Pos: pos, Interface: "eth1", Instance: "VI_1", SyncID: 51}, []string{"already specified as eth1"}},
		{"legacy lvs_sync_daemon_interface",
			"", "    lvs_sync_daemon_interface eth1",
			&SyncDaemon{Pos: Pos{File: "ka.conf", Line: 13}, Interface: "eth1", Instance: "VI_1", SyncID: 51}, []string{"deprecated in vrrp_instance VI_1"}},
		{"legacy after the global one is ignored",
			"lvs_sync_daemon eth2 VI_1 id 4", "    lvs_sync_daemon_interface eth1",
			&SyncDaemon{Pos: pos, Interface: "eth2", Instance: "VI_1", SyncID: 4}, []string{"already been specified as eth2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseKeepalived("ka.conf", []byte(syncdConf(tt.global, tt.instance)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Global.SyncDaemon, cmpOpts...); diff != "" {
				t.Errorf("SyncDaemon (-want +got):\n%s", diff)
			}
			checkPrefixedWarnings(t, cfg, "lvs_sync_daemon", tt.warnings)
		})
	}
}

func TestKeepalivedSyncDaemonInterfaceTooLong(t *testing.T) {
	_, err := ParseKeepalived("ka.conf", []byte(syncdConf("", "    lvs_sync_daemon_interface eth1234567890abcd")))
	if err == nil || !strings.Contains(err.Error(), "lvs_sync_daemon_interface") || !strings.Contains(err.Error(), "ipvswrapper.c:256") {
		t.Errorf("error = %v, want one naming lvs_sync_daemon_interface and keepalived's truncation", err)
	}
}

// checkPrefixedWarnings checks that cfg's warnings on the directives
// starting with prefix contain want, in order, each with its position.
func checkPrefixedWarnings(t *testing.T, cfg *Config, prefix string, want []string) {
	t.Helper()
	var ws []string
	for _, w := range cfg.Warnings {
		if strings.HasPrefix(w.Directive, prefix) {
			ws = append(ws, w.String())
		}
	}
	if len(ws) != len(want) {
		t.Fatalf("warnings %q, want %d matching %q", ws, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(ws[i], w) || !strings.Contains(ws[i], "ka.conf:") {
			t.Errorf("warning %d = %q, want it to contain %q and the position", i, ws[i], w)
		}
	}
}
