package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keepalived -t prints, for each route case that names one, the message
// the reader's warning or error quotes.
func TestIntegrationKeepalivedReadsRoutes(t *testing.T) {
	ns := kaNS(t)
	ns.Run(t, "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "peth2")
	for _, tt := range routeCases {
		if tt.keepalived == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "k.conf"), []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := ns.Command("keepalived", "-t", "-l", "-n", "-f", "k.conf")
			cmd.Dir = dir
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tt.keepalived) {
				t.Errorf("keepalived -t does not say %q:\n%s", tt.keepalived, out)
			}
		})
	}
}
