package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// TestMain runs the TestVM tests in the test VM when the host kernel has
// no IPVS.
func TestMain(m *testing.M) {
	vmtest.Main(m, "ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_wlc", "ip_vs_lc", "ip_vs_sh", "ip_vs_mh", "ip_vs_pe_sip")
}

// TestVMCorpusPlanMatchesKeepalived starts keepalived's checker alone on
// each corpus file with virtual servers that the reader accepts, in a
// namespace of its own, reads what it installs (ipvsadm -Sn) before any
// check has ended, and compares it with the node's plan before any check
// result: the same services and real servers with the same flags and
// weights. The real servers are behind an interface whose neighbours
// never answer, so that checks take their whole connect timeout.
func TestVMCorpusPlanMatchesKeepalived(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm")
	files, err := filepath.Glob("../config/testdata/corpus/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	compared, same := 0, 0
	for _, path := range files {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.ParseKeepalived(abs, src)
		if err != nil || len(cfg.VirtualServers) == 0 {
			continue
		}
		p, err := ipvsPlan(cfg)
		if err != nil {
			t.Errorf("%s: plan: %v", filepath.Base(path), err)
			continue
		}
		compared++
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := sortedRules(rules(t, p.desired(nil)))
			got := keepalivedRules(t, abs, len(strings.Split(strings.TrimSpace(want), "\n")))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ipvsadm -Sn: keepalived (-) and the node's plan (+) differ:\n%s", cmp.Diff(got, want))
				return
			}
			same++
		})
	}
	t.Logf("corpus files with virtual servers the reader accepts: %d; same IPVS rules as keepalived: %d", compared, same)
}

// keepalivedRules runs keepalived's checker on path in a fresh namespace
// and returns its IPVS rules, sorted, once they hold n lines and are the
// same on two readings in a row.
func keepalivedRules(t *testing.T, path string, n int) string {
	ns := netnstest.New(t)
	for i, ifname := range []string{"eth0", "eth1", "eth2", "eth3", "eth0.1", "em1", "em2", "ens160"} {
		ns.Run(t, "ip", "link", "add", ifname, "type", "veth", "peer", "name", "peer"+strconv.Itoa(i))
		ns.Run(t, "ip", "link", "set", ifname, "up")
		ns.Run(t, "ip", "link", "set", "peer"+strconv.Itoa(i), "up")
	}
	ns.Run(t, "ip", "route", "add", "default", "dev", "eth0")
	ns.Run(t, "ip", "-6", "route", "add", "default", "dev", "eth0")
	dir := t.TempDir()
	ns.Start(t, "keepalived", "-n", "-l", "-D", "-C", "-f", path,
		"-p", filepath.Join(dir, "ka.pid"), "-c", filepath.Join(dir, "ka-check.pid"))
	var last string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out := sortedRules(ns.Run(t, "ipvsadm", "-Sn"))
		if out != "" && out == last && len(strings.Split(strings.TrimSpace(out), "\n")) >= n {
			return out
		}
		last = out
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

func sortedRules(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
