package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keepalived -t reads the tracking of a sync group as this reader does:
// what it accepts silently the reader accepts silently, what it reports
// as an error the reader refuses, and where it clears a weight the reader
// warns and clears it.
func TestIntegrationKeepalivedReadsSyncGroupTracking(t *testing.T) {
	ns := kaNS(t)
	for _, ifname := range []string{"eth0", "eth2"} {
		ns.Run(t, "ip", "link", "add", ifname, "type", "veth", "peer", "name", "p"+ifname)
		ns.Run(t, "ip", "link", "set", ifname, "up")
	}
	head := "global_defs {\n  script_user root\n}\nvrrp_script chk {\n  script /bin/true\n  weight -20\n}\ntrack_file tf {\n  file /tmp/lvskit-sg-tf\n}\n"
	group := func(body string) string {
		return "vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n" + body + "}\n"
	}
	second := func(prio string) string {
		return "vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 8\n  priority " + prio + "\n  virtual_ipaddress {\n    10.0.1.1\n  }\n}\n"
	}
	all := "  track_interface {\n    eth2 weight -10\n  }\n  track_script {\n    chk\n  }\n  track_file {\n    tf weight -5 reverse\n  }\n"
	tests := []struct {
		name, src  string
		keepalived string // "" : no complaint
		warning    string // the reader's warning, if any
		refused    bool
	}{
		{name: "group tracks an interface, a script and a file", src: head + group(all) + minimalVRRP + second("100")},
		{name: "weights cleared for an address owner", src: head + group(all) + minimalVRRP + second("255"),
			keepalived: "(G) Cannot have weighted track script 'chk' with member having priority 255 - clearing weight",
			warning:    "chk: weight -20: a member of sync group G is the address owner"},
		{name: "file weight cleared for an address owner", src: head + group(all) + minimalVRRP + second("255"),
			keepalived: "(G) Cannot have weighted track file 'tf' with member having priority 255 - setting weight 0",
			warning:    "tf: weight -5: a member of sync group G is the address owner"},
		{name: "interface weight cleared for an address owner", src: head + group(all) + minimalVRRP + second("255"),
			keepalived: "(G) Cannot have weighted track interface 'eth2' with member having priority 255 - clearing weight",
			warning:    "eth2: weight -10: a member of sync group G is the address owner"},
		{name: "unknown script", src: head + group("  track_script {\n    nosuch\n  }\n") + minimalVRRP + second("100"),
			keepalived: "(G) track script nosuch not found, ignoring", refused: true},
		{name: "script twice", src: head + group("  track_script {\n    chk\n    chk\n  }\n") + minimalVRRP + second("100"),
			keepalived: "(G) duplicate track_script chk - ignoring", refused: true},
		{name: "interface in a member and the group", src: head + group("  track_interface {\n    eth2\n  }\n") + strings.Replace(minimalVRRP, "}\n}\n", "}\n  track_interface {\n    eth2\n  }\n}\n", 1) + second("100"),
			keepalived: "(VI_1) track_interface eth2 is configured on VRRP instance and sync group", refused: true},
		// keepalived logs this one only when it runs ("(VI_1) track_script
		// chk is configured on VRRP instance and sync group"), not with -t.
		{name: "script in a member and the group", src: head + group("  track_script {\n    chk\n  }\n") + strings.Replace(minimalVRRP, "}\n}\n", "}\n  track_script {\n    chk weight 0\n  }\n}\n", 1) + second("100"),
			warning: "chk is tracked by vrrp_instance VI_1 and by its sync group G"},
		{name: "weighted member script the group tracks too", src: head + group("  track_script {\n    chk\n  }\n") + strings.Replace(minimalVRRP, "}\n}\n", "}\n  track_script {\n    chk weight 5\n  }\n}\n", 1) + second("100"),
			keepalived: "(VI_1) ignoring tracked script chk with weights due to SYNC group", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "k.conf")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			c, readerErr := parseKeepalived(path, []byte(tt.src), osFS{})
			out, _ := ns.Command("keepalived", "-t", "-l", "-n", "-f", path).CombinedOutput()
			if tt.keepalived == "" {
				if strings.Contains(string(out), "Line ") || strings.Contains(string(out), "(G)") || strings.Contains(string(out), "(VI_") || readerErr != nil {
					t.Errorf("reader: %v; keepalived -t:\n%s", readerErr, out)
				}
			} else if !strings.Contains(string(out), tt.keepalived) {
				t.Errorf("keepalived -t does not say %q:\n%s", tt.keepalived, out)
			}
			if tt.refused {
				if readerErr == nil {
					t.Errorf("the reader accepts it")
				}
				return
			}
			if readerErr != nil {
				t.Fatalf("reader: %v", readerErr)
			}
			if tt.warning == "" {
				return
			}
			found := false
			for _, w := range c.Warnings {
				found = found || strings.Contains(w.String(), tt.warning)
			}
			if !found {
				t.Errorf("no warning %q in %v", tt.warning, c.Warnings)
			}
		})
	}
}
