package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keepalived -t reads the tracking and sync group files this reader
// accepts without a complaint about any line, and reports the lines this
// reader refuses.
func TestIntegrationKeepalivedReadsTracking(t *testing.T) {
	ns := kaNS(t)
	for _, ifname := range []string{"eth0", "eth2"} {
		ns.Run(t, "ip", "link", "add", ifname, "type", "veth", "peer", "name", "p"+ifname)
		ns.Run(t, "ip", "link", "set", ifname, "up")
	}
	group := "vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n  notify /bin/true\n}\n"
	second := "vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 8\n  virtual_ipaddress {\n    10.0.1.1\n  }\n}\n"
	tests := []struct {
		name, src  string
		keepalived string // "" : no complaint
	}{
		{"track scripts and interfaces", strings.Replace(trackConf, "user nobody nogroup", "user root", 1), ""},
		{"sync group", group + minimalVRRP + second, ""},
		{"script defined after the instance", minimalVRRP[:len(minimalVRRP)-2] + "  track_script {\n    s\n  }\n}\nvrrp_script s {\n  script /bin/true\n}\n", "track script s not found, ignoring"},
		{"weighted script in a sync group", "vrrp_script s {\n  script /bin/true\n  weight 10\n}\n" + group + strings.Replace(minimalVRRP, "}\n}\n", "}\n  track_script {\n    s\n  }\n}\n", 1) + second, "(VI_1) ignoring tracked script s with weights due to SYNC group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "k.conf")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, readerErr := parseKeepalived(path, []byte(tt.src), osFS{})
			out, _ := ns.Command("keepalived", "-t", "-l", "-n", "-f", path).CombinedOutput()
			if tt.keepalived == "" {
				if strings.Contains(string(out), "Line ") || readerErr != nil {
					t.Errorf("reader: %v; keepalived -t:\n%s", readerErr, out)
				}
				return
			}
			if !strings.Contains(string(out), tt.keepalived) || readerErr == nil {
				t.Errorf("keepalived -t does not say %q, or the reader accepts it (%v):\n%s", tt.keepalived, readerErr, out)
			}
		})
	}
}
