package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// prioNotifyConf is one instance tracking a script that fails while flag
// exists, with weight, writing to fifo; global and inst are extra lines
// of global_defs and of the instance (notify_priority_changes).
func prioNotifyConf(flag, fifo string, weight int, global, inst string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  enable_script_security
  script_user root
  notify_fifo %[2]s
  %[4]s
}
vrrp_script chk {
  script "/usr/bin/test ! -e %[1]s"
  interval 1
  rise 1
  fall 1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 51
  priority 100
  advert_int 1
  %[5]s
  virtual_ipaddress {
    172.16.0.100/24 dev eth1
  }
  track_script {
    chk weight %[3]d
  }
}
`, flag, fifo, weight, global, inst)
}

// snapshot returns the lines read so far.
func (fr *fifoReader) snapshot() []string {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return slices.Clone(fr.lines)
}

// soloPair is lbnode and keepalived, each alone in its own namespace on
// its own links, with the same interfaces and addresses.
func soloPair(t *testing.T, ifaces ...string) (lb, ka *netnstest.NS) {
	t.Helper()
	tp := netnstest.NewTopology(t)
	lb, ka = tp.Host("lb"), tp.Host("ka")
	for i, name := range ifaces {
		for _, h := range []struct {
			ns     *netnstest.NS
			bridge string
		}{{lb, "lb" + name}, {ka, "ka" + name}} {
			tp.Bridge(h.bridge)
			tp.Connect(h.ns, name, h.bridge, fmt.Sprintf("172.%d.0.1/24", 16+i))
		}
	}
	return lb, ka
}

// startKeepalivedIn runs keepalived 2.2.7 on conf in ns until the test
// ends; dir holds its pid files.
func startKeepalivedIn(t *testing.T, ns *netnstest.NS, dir, conf string) *netnstest.Proc {
	t.Helper()
	ka := ns.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", conf,
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	return ka
}

// writeConf writes s to the file name in dir and returns its path.
func writeConf(t *testing.T, dir, name, s string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lbnode and keepalived 2.2.7, each alone with the same keepalived.conf
// (but for its FIFO's path), track one script with a weight; the script
// fails, then succeeds again. Both write the same lines to their
// notify_fifo, in the same order: the state lines and, with
// notify_priority_changes (on the instance, or global
// vrrp_notify_priority_changes), MASTER_PRIORITY or BACKUP_PRIORITY with
// each new effective priority; without it, none.
func TestIntegrationPriorityNotifyAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	for _, c := range []struct {
		name          string
		weight        int
		global, inst  string
		failAtStart   bool
		want          []string
		failed, again int // the effective priority while failing, and after
	}{
		{name: "instance", weight: -20, inst: "notify_priority_changes", failed: 80, again: 100,
			want: []string{"BACKUP 100", "MASTER 100", "MASTER_PRIORITY 80", "MASTER_PRIORITY 100"}},
		// The script's first result changes the priority while BACKUP.
		{name: "global, weight +20", weight: 20, global: "vrrp_notify_priority_changes", failed: 100, again: 120,
			want: []string{"BACKUP 100", "BACKUP_PRIORITY 120", "MASTER 120", "MASTER_PRIORITY 100", "MASTER_PRIORITY 120"}},
		{name: "failing at start", weight: -20, inst: "notify_priority_changes", failAtStart: true, failed: 80, again: 100,
			want: []string{"BACKUP 100", "BACKUP_PRIORITY 80", "MASTER 80", "MASTER_PRIORITY 100", "MASTER_PRIORITY 80"}},
		{name: "off", weight: -20, failed: 80, again: 100,
			want: []string{"BACKUP 100", "MASTER 100"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lbNS, kaNS := soloPair(t, "eth1")
			dir := t.TempDir()
			flag := filepath.Join(dir, "down")
			if c.failAtStart {
				if err := os.WriteFile(flag, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write := func(name, s string) string { return writeConf(t, dir, name, s) }
			lbFIFO, kaFIFO := filepath.Join(dir, "lb.fifo"), filepath.Join(dir, "ka.fifo")
			lbr, kar := readFIFO(t, lbFIFO), readFIFO(t, kaFIFO)
			ka := startKeepalivedIn(t, kaNS, dir, write("ka.conf", prioNotifyConf(flag, kaFIFO, c.weight, c.global, c.inst)))
			startAgentIn(t, lbNS, write("lb.conf", prioNotifyConf(flag, lbFIFO, c.weight, c.global, c.inst)), nil)

			notify := c.global != "" || c.inst != ""
			line := func(s string) string { return `INSTANCE "VI_1" ` + s }
			both := func(what, want string) {
				t.Helper()
				netnstest.WaitFor(t, "both writing "+what, 20*time.Second, func() bool {
					return lbr.has(line(want)) && kar.has(line(want))
				})
			}
			masterAt := map[bool]int{true: c.failed, false: c.again}[c.failAtStart]
			both("MASTER", fmt.Sprintf("MASTER %d", masterAt))
			// The script fails (or succeeds, if it failed at start), then
			// the other way; a priority line, when written, comes within
			// one interval.
			steps := []struct {
				create bool
				prio   int
			}{{true, c.failed}, {false, c.again}}
			if c.failAtStart {
				steps = []struct {
					create bool
					prio   int
				}{{false, c.again}, {true, c.failed}}
			}
			for _, s := range steps {
				var err error
				if s.create {
					err = os.WriteFile(flag, nil, 0o644)
				} else {
					err = os.Remove(flag)
				}
				if err != nil {
					t.Fatal(err)
				}
				if notify {
					both(fmt.Sprintf("MASTER_PRIORITY %d", s.prio), fmt.Sprintf("MASTER_PRIORITY %d", s.prio))
				} else {
					ka.WaitOutput(t, fmt.Sprintf("to %d", s.prio), 10*time.Second)
				}
				// Let lbnode, or a late second line, catch up.
				time.Sleep(2500 * time.Millisecond)
			}
			lb, kad := lbr.snapshot(), kar.snapshot()
			t.Logf("keepalived wrote %d lines: %q", len(kad), kad)
			t.Logf("lbnode wrote     %d lines: %q", len(lb), lb)
			if !slices.Equal(lb, kad) {
				t.Errorf("lbnode's FIFO lines differ from keepalived's:\nlbnode:     %q\nkeepalived: %q", lb, kad)
			}
			if c.want != nil {
				var want []string
				for _, w := range c.want {
					want = append(want, line(w))
				}
				if !slices.Equal(kad, want) {
					t.Errorf("keepalived wrote %q, the test expects %q", kad, want)
				}
			}
			for _, l := range append(lb, kad...) {
				if strings.Contains(l, "_PRIORITY ") && !notify {
					t.Errorf("line %q without notify_priority_changes", l)
				}
			}
		})
	}
}

// garpExtraConf is one instance on eth1 with a VIP on eth2 too; global
// and inst are extra lines of global_defs and of the instance
// (garp_extra_if).
func garpExtraConf(global, inst string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  %s
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 52
  priority 100
  advert_int 1
  %s
  virtual_ipaddress {
    172.16.0.100/24 dev eth1
    172.17.0.100/24 dev eth2
    172.17.0.101/24 dev eth2
  }
}
`, global, inst)
}

// garpTimes returns the times of the gratuitous ARPs for ip in tcpdump's
// "-tt" text output: requests "who-has IP (ff:ff:ff:ff:ff:ff) tell IP",
// or replies "Reply IP is-at".
func garpTimes(out, ip string) []float64 {
	var at []float64
	for _, l := range strings.Split(out, "\n") {
		_, req, _ := strings.Cut(l, "who-has "+ip+" ")
		if !strings.Contains(req, "tell "+ip+",") && !strings.Contains(l, "Reply "+ip+" is-at") {
			continue
		}
		ts, _, _ := strings.Cut(l, " ")
		if f, err := strconv.ParseFloat(ts, 64); err == nil {
			at = append(at, f)
		}
	}
	return at
}

// garpCounts counts the times in [from, from+d) seconds after the first.
func garpCounts(at []float64, from, d float64) int {
	n := 0
	for _, x := range at {
		if x-at[0] >= from && x-at[0] < from+d {
			n++
		}
	}
	return n
}

// lbnode and keepalived 2.2.7, each alone with the same keepalived.conf:
// an instance on eth1 with VIPs on eth2. Once MASTER, both announce the
// first VIP on eth2 with one gratuitous ARP a second with garp_extra_if
// all 1 (or the global vrrp_garp_extra_if all 1), and none besides the
// bursts at MASTER (5, and 5 again after garp_master_delay) without it.
// Counted from the first ARP for the VIP, from 6.5 s (after the bursts)
// for 5 s.
func TestIntegrationGARPExtraIfAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "tcpdump")
	const vip, second, from, window = "172.17.0.100", "172.17.0.101", 6.5, 5.0
	for _, c := range []struct {
		name, global, inst string
		want               int
	}{
		{"instance", "", "garp_extra_if all 1", 5},
		{"global", "vrrp_garp_extra_if all 1", "", 5},
		{"off", "", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			lbNS, kaNS := soloPair(t, "eth1", "eth2")
			dir := t.TempDir()
			write := func(name, s string) string { return writeConf(t, dir, name, s) }
			var dumps []*netnstest.Proc
			for _, ns := range []*netnstest.NS{lbNS, kaNS} {
				p := ns.Start(t, "tcpdump", "-i", "eth2", "-n", "-l", "-tt", "--immediate-mode", "arp")
				p.WaitOutput(t, "listening on", 20*time.Second)
				dumps = append(dumps, p)
			}
			conf := write("ka.conf", garpExtraConf(c.global, c.inst))
			startKeepalivedIn(t, kaNS, dir, conf)
			startAgentIn(t, lbNS, conf, nil)
			netnstest.WaitFor(t, "both MASTER", 20*time.Second, func() bool {
				return hasAddr(t, lbNS, "eth2", vip) && hasAddr(t, kaNS, "eth2", vip)
			})
			time.Sleep(time.Duration((from + window + 1.5) * float64(time.Second)))
			var counts [2]int
			var totals, seconds [2]int
			for i, p := range dumps {
				if err := p.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				if err := p.Wait(10 * time.Second); err != nil {
					t.Logf("tcpdump: %v", err)
				}
				at := garpTimes(p.Output(), vip)
				if len(at) == 0 {
					t.Fatalf("%s: no gratuitous ARP for %s on eth2:\n%s", []string{"lbnode", "keepalived"}[i], vip, p.Output())
				}
				counts[i], totals[i] = garpCounts(at, from, window), len(at)
				seconds[i] = len(garpTimes(p.Output(), second))
				var rel []string
				for _, x := range at {
					rel = append(rel, fmt.Sprintf("%.2f", x-at[0]))
				}
				t.Logf("%-10s: %d GARPs for %s on eth2 (%d for %s), at %v s", []string{"lbnode", "keepalived"}[i], len(at), vip, seconds[i], second, rel)
			}
			t.Logf("in [%.1f s, %.1f s) after the first: lbnode %d, keepalived %d, want %d", from, from+window, counts[0], counts[1], c.want)
			slack := min(c.want, 1) // none at all without the setting
			for i, who := range []string{"lbnode", "keepalived"} {
				if counts[i] < c.want-slack || counts[i] > c.want+slack {
					t.Errorf("%s sent %d gratuitous ARPs after the bursts, want %d ±%d", who, counts[i], c.want, slack)
				}
			}
			if d := counts[0] - counts[1]; d < -1 || d > 1 {
				t.Errorf("lbnode sent %d gratuitous ARPs after the bursts, keepalived %d", counts[0], counts[1])
			}
			if seconds[0] != seconds[1] {
				t.Errorf("for the second VIP %s on eth2: lbnode %d gratuitous ARPs, keepalived %d", second, seconds[0], seconds[1])
			}
		})
	}
}
