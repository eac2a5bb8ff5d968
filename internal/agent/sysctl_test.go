package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/config"
)

func TestApplySysctls(t *testing.T) {
	root := t.TempDir()
	write := func(key, val string, perm os.FileMode) {
		p := filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(val), perm); err != nil {
			t.Fatal(err)
		}
	}
	write("net.ipv4.ip_nonlocal_bind", "0\n", 0o644)
	write("net.netfilter.nf_conntrack_max", "4194304\n", 0o444) // as in a namespace
	write("net.ipv4.ip_local_port_range", "32768\t60999\n", 0o644)

	ok := []config.Sysctl{
		{Key: "net.ipv4.ip_nonlocal_bind", Value: "1"},
		{Key: "net.nf_conntrack_max", Value: "4194304"},             // read-only, already right
		{Key: "net.ipv4.ip_local_port_range", Value: "32768 60999"}, // same, other blanks
	}
	if err := applySysctls(root, ok); err != nil {
		t.Fatalf("applySysctls: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "net/ipv4/ip_nonlocal_bind")); string(b) != "1\n" {
		t.Errorf("ip_nonlocal_bind = %q, want 1", b)
	}

	for _, tc := range []struct {
		s    config.Sysctl
		want string
	}{
		{config.Sysctl{Key: "net.ipv4.vs.drop_entry", Value: "1"}, "sysctl net.ipv4.vs.drop_entry = 1: no such setting (is the ip_vs module loaded?)"},
		{config.Sysctl{Key: "../etc/passwd", Value: "1"}, `sysctl "../etc/passwd": not a sysctl name`},
	} {
		err := applySysctls(root, []config.Sysctl{tc.s})
		if err == nil || err.Error() != tc.want {
			t.Errorf("applySysctls(%v) = %v, want %q", tc.s, err, tc.want)
		}
	}
	if os.Geteuid() != 0 { // root writes read-only files anyway
		err := applySysctls(root, []config.Sysctl{{Key: "net.nf_conntrack_max", Value: "1000"}})
		if err == nil || !strings.Contains(err.Error(), "sysctl net.nf_conntrack_max = 1000 (now 4194304)") {
			t.Errorf("read-only setting with another value: %v", err)
		}
	}
}
