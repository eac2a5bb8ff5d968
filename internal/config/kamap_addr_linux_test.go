package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// keepalived -t prints, for each virtual address case that names one, the
// message the reader's warning or error quotes; where the reader accepts
// a case without a warning, keepalived prints no line message either (the
// same address in both blocks included).
func TestIntegrationKeepalivedReadsVIPOptions(t *testing.T) {
	ns := kaNS(t)
	ns.Run(t, "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "peth2")
	for _, tt := range vipCases {
		t.Run(tt.name, func(t *testing.T) {
			keepalivedSays(t, ns, tt.src, tt.keepalived, tt.err == "" && len(tt.warnings) == 0)
		})
	}
}

// keepalivedSays checks that `keepalived -t` on src prints says, or,
// when says is empty and silent, no message about a line.
func keepalivedSays(t *testing.T, ns *netnstest.NS, src, says string, silent bool) {
	t.Helper()
	out := kaConfigTestOutput(t, ns, src)
	switch {
	case says != "":
		if !strings.Contains(out, says) {
			t.Errorf("keepalived -t does not say %q:\n%s", says, out)
		}
	case silent:
		if strings.Contains(out, "Line ") {
			t.Errorf("keepalived -t reports a line the reader accepts without a warning:\n%s", out)
		}
	}
}

// kaConfigTestOutput writes src to k.conf and returns what
// `keepalived -t -l -n -f k.conf` prints about it inside ns.
func kaConfigTestOutput(t *testing.T, ns *netnstest.NS, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k.conf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// timeout bounds keepalived, which ends at once with -t.
	cmd := ns.Command("timeout", "20", "keepalived", "-t", "-l", "-n", "-f", "k.conf")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}
