package agent

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
)

// fakeSysctls is /proc/sys as a map from path to contents; paths in ro
// refuse writes as /proc/sys does for a read-only setting.
type fakeSysctls struct {
	files  map[string]string
	ro     map[string]bool
	writes []string
}

func (f *fakeSysctls) ReadFile(path string) ([]byte, error) {
	s, ok := f.files[path]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	return []byte(s), nil
}

func (f *fakeSysctls) WriteFile(path string, b []byte) error {
	if f.ro[path] {
		return &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
	}
	if _, ok := f.files[path]; !ok {
		return &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	f.files[path] = string(b)
	f.writes = append(f.writes, path+"="+strings.TrimSpace(string(b)))
	return nil
}

// namespaceSysctls is what a network namespace other than the initial
// one shows: the conntrack table size read-only, under its other name.
func namespaceSysctls() *fakeSysctls {
	return &fakeSysctls{
		files: map[string]string{
			"/p/net/ipv4/ip_nonlocal_bind":          "0\n",
			"/p/net/ipv4/ip_local_port_range":       "32768\t60999\n",
			"/p/net/netfilter/nf_conntrack_max":     "262144\n",
			"/p/net/netfilter/nf_conntrack_buckets": "65536\n",
		},
		ro: map[string]bool{"/p/net/netfilter/nf_conntrack_max": true, "/p/net/netfilter/nf_conntrack_buckets": true},
	}
}

func TestApplySysctls(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           []config.Sysctl
		wantWrites   []string
		wantWarnings []string
		wantErr      string
	}{
		{
			name:       "writes what differs and leaves what is already set",
			in:         []config.Sysctl{{Key: "net.ipv4.ip_nonlocal_bind", Value: "1"}, {Key: "net.ipv4.ip_local_port_range", Value: "32768 60999"}},
			wantWrites: []string{"/p/net/ipv4/ip_nonlocal_bind=1"},
		},
		{
			name: "read-only with the same value is silent",
			in:   []config.Sysctl{{Key: "net.nf_conntrack_max", Value: "262144"}},
		},
		{
			name:         "read-only with a larger value is a warning",
			in:           []config.Sysctl{{Key: "net.nf_conntrack_max", Value: "65536"}, {Key: "net.ipv4.ip_nonlocal_bind", Value: "1"}},
			wantWrites:   []string{"/p/net/ipv4/ip_nonlocal_bind=1"},
			wantWarnings: []string{"sysctl net.nf_conntrack_max = 65536: read-only in this network namespace; keeping 262144, which is larger"},
		},
		{
			name:    "read-only with a smaller value is an error saying so",
			in:      []config.Sysctl{{Key: "net.nf_conntrack_max", Value: "4194304"}, {Key: "net.ipv4.ip_nonlocal_bind", Value: "1"}},
			wantErr: "sysctl net.nf_conntrack_max = 4194304 (now 262144): read-only in this network namespace (set it in the initial namespace): open /p/net/netfilter/nf_conntrack_max: permission denied",
		},
		{
			name:    "read-only and not a number is an error",
			in:      []config.Sysctl{{Key: "net.netfilter.nf_conntrack_buckets", Value: "x"}},
			wantErr: "sysctl net.netfilter.nf_conntrack_buckets = x (now 65536): read-only in this network namespace (set it in the initial namespace): open /p/net/netfilter/nf_conntrack_buckets: permission denied",
		},
		{
			name:    "missing IPVS setting hints at the module",
			in:      []config.Sysctl{{Key: "net.ipv4.vs.drop_entry", Value: "1"}},
			wantErr: "sysctl net.ipv4.vs.drop_entry = 1: no such setting (is the ip_vs module loaded?)",
		},
		{
			name:    "path traversal",
			in:      []config.Sysctl{{Key: "../etc/passwd", Value: "1"}},
			wantErr: `sysctl "../etc/passwd": not a sysctl name`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := namespaceSysctls()
			warnings, err := applySysctls(f, "/p", tc.in)
			if got := fmt.Sprint(err); (err != nil || tc.wantErr != "") && got != tc.wantErr {
				t.Errorf("error = %s, want %s", got, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantWarnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWrites, f.writes); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplySysctlsFiles runs the os-backed files on a folder standing for
// /proc/sys: written and read back.
func TestApplySysctlsFiles(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "net", "ipv4", "ip_nonlocal_bind")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := applySysctls(osSysctlFiles{}, root, []config.Sysctl{{Key: "net.ipv4.ip_nonlocal_bind", Value: "1"}}); err != nil {
		t.Fatalf("applySysctls: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "1\n" {
		t.Errorf("ip_nonlocal_bind = %q, want 1", b)
	}
}
