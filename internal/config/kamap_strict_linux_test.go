package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keepalived -t says, for each strict-mode case, the message the case
// names (its keepalived text up to ";" or " (", where it quotes one), and
// nothing about the instance or a line where the case says "no message".
func TestIntegrationKeepalivedReadsStrictMode(t *testing.T) {
	ns := kaNS(t)
	for _, tc := range strictCases {
		msg, quiet := "", strings.HasPrefix(tc.keepalived, "no message")
		if strings.HasPrefix(tc.keepalived, "(") || strings.HasPrefix(tc.keepalived, "iptables") {
			msg = tc.keepalived
			for _, cut := range []string{";", " (the", "..."} {
				msg, _, _ = strings.Cut(msg, cut)
			}
		}
		if msg == "" && !quiet {
			continue // what keepalived's dump (-d) shows, not -t
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "k.conf"), []byte(strictSrc(tc.global, tc.body)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := ns.Command("keepalived", "-t", "-l", "-n", "-f", "k.conf")
			cmd.Dir = dir
			out, _ := cmd.CombinedOutput()
			switch {
			case quiet:
				if strings.Contains(string(out), "(VI_1)") || strings.Contains(string(out), "Line ") {
					t.Errorf("keepalived -t has something to say:\n%s", out)
				}
			case !strings.Contains(string(out), msg):
				t.Errorf("keepalived -t does not say %q:\n%s", msg, out)
			}
		})
	}
}
