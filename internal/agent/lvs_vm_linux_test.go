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
// and returns its IPVS rules, sorted, as it installs them before any check
// has ended: once they hold n lines and are the same on two readings in a
// row, with no real server removed, disabled or added in keepalived's log
// by the end of the second reading. A check can end within a second
// (connect_timeout 1), and a slow machine may miss that window; such an
// attempt is logged and started again, up to five times.
func keepalivedRules(t *testing.T, path string, n int) string {
	var last string
	for attempt := 1; attempt <= 5; attempt++ {
		rules, again, changed := keepalivedAttempt(t, path, n)
		if !again {
			return rules
		}
		last = rules
		t.Logf("attempt %d: keepalived's rules did not settle before a check ended (%q); starting again", attempt, changed)
	}
	return last
}

// checkEnded holds keepalived's log lines that follow the end of a check.
var checkEnded = []string{"Removing service", "Disabling service", "Adding service", "Enabling service", "Lost quorum"}

// keepalivedAttempt is one run of keepalived for keepalivedRules; again
// reports that a check ended before the rules settled. The
// real servers are reached through a gateway whose neighbour entry is
// permanent and which never answers, so that checks take their whole
// connect timeout instead of failing when address resolution does.
func keepalivedAttempt(t *testing.T, path string, n int) (rules string, again bool, changed string) {
	ns := netnstest.New(t)
	for i, ifname := range []string{"eth0", "eth1", "eth2", "eth3", "eth0.1", "em1", "em2", "ens160"} {
		ns.Run(t, "ip", "link", "add", ifname, "type", "veth", "peer", "name", "peer"+strconv.Itoa(i))
		ns.Run(t, "ip", "link", "set", ifname, "up")
		ns.Run(t, "ip", "link", "set", "peer"+strconv.Itoa(i), "up")
	}
	ns.Run(t, "ip", "neigh", "add", "10.255.255.1", "lladdr", "02:00:5e:ff:ff:01", "dev", "eth0", "nud", "permanent")
	ns.Run(t, "ip", "route", "add", "default", "via", "10.255.255.1", "dev", "eth0", "onlink")
	ns.Run(t, "ip", "-6", "neigh", "add", "fe80::1", "lladdr", "02:00:5e:ff:ff:01", "dev", "eth0", "nud", "permanent")
	ns.Run(t, "ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	dir := t.TempDir()
	p := ns.Start(t, "keepalived", "-n", "-l", "-D", "-C", "-f", path,
		"-p", filepath.Join(dir, "ka.pid"), "-c", filepath.Join(dir, "ka-check.pid"))
	defer p.Stop(5 * time.Second)
	var last string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out := sortedRules(ns.Run(t, "ipvsadm", "-Sn"))
		// keepalived logs a change before it makes it: a reading
		// followed by no such line was taken before any check ended.
		log := p.Output()
		for _, line := range checkEnded {
			if strings.Contains(log, line) {
				return out, true, line
			}
		}
		if out != "" && out == last && len(strings.Split(strings.TrimSpace(out), "\n")) >= n {
			return out, false, ""
		}
		last = out
		time.Sleep(100 * time.Millisecond)
	}
	return last, false, ""
}

func sortedRules(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
