package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/vrrp"
)

// groupTrackConf is the two-interface sync group tracking a file at group
// level with weight (keepalived 2.2.7 adds it to both members), with
// notify programs of the group and of each instance.
func groupTrackConf(prio int, file, weight, init, notify, fifo string) string {
	head := fmt.Sprintf("track_file state {\n  file %s\n  %s\n}\n", file, init)
	return groupConf(prio, head, "  track_file {\n    state weight "+weight+"\n  }\n", notify, fifo)
}

// groupConf is the two-interface sync group with the objects defined in
// head, tracked by the group's lines track.
func groupConf(prio int, head, track, notify, fifo string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  vrrp_notify_fifo %[4]s
  script_user root
}
%[2]s
vrrp_sync_group G {
  group {
    VI_LAN
    VI_SVC
  }
%[3]s  notify %[5]s
}
vrrp_instance VI_LAN {
  state BACKUP
  interface eth0
  virtual_router_id 10
  priority %[1]d
  advert_int 1
  notify %[5]s
  virtual_ipaddress {
    192.168.0.100/24 dev eth0
  }
}
vrrp_instance VI_SVC {
  state BACKUP
  interface eth1
  virtual_router_id 20
  priority %[1]d
  advert_int 1
  notify %[5]s
  virtual_ipaddress {
    172.16.0.100/24 dev eth1
  }
}
`, prio, head, track, fifo, notify)
}

// groupPair is lbnode (lb1) and keepalived (lb2) on the lan and svc
// segments, each with its tracked file, notify program output and FIFO.
type groupPair struct {
	t          *testing.T
	lb1, lb2   *netnstest.NS
	ka         *netnstest.Proc
	file       [2]string
	notified   [2]string
	fifo       [2]*fifoReader
	transition chan vrrp.Transition
}

func startGroupPair(t *testing.T, prio [2]int, weight, init string, value [2]string) *groupPair {
	t.Helper()
	return startPairWith(t, value, nil, func(i int, file, notify, fifo string) string {
		return groupTrackConf(prio[i], file, weight, init, notify, fifo)
	})
}

// startPairWith starts lbnode and keepalived with conf(i, ...), node i's
// configuration, and value in each node's file, after setup (if not nil)
// has run in each node's namespace.
func startPairWith(t *testing.T, value [2]string, setup func(*testing.T, *netnstest.NS), conf func(i int, file, notify, fifo string) string) *groupPair {
	t.Helper()
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	tp.Bridge("svc")
	p := &groupPair{t: t, lb1: tp.Host("lb1"), lb2: tp.Host("lb2"), transition: make(chan vrrp.Transition, 64)}
	tp.Connect(p.lb1, "eth0", "lan", "192.168.0.11/24")
	tp.Connect(p.lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(p.lb2, "eth0", "lan", "192.168.0.12/24")
	tp.Connect(p.lb2, "eth1", "svc", "172.16.0.2/24")
	if setup != nil {
		setup(t, p.lb1)
		setup(t, p.lb2)
	}
	dir := t.TempDir()
	var confs [2]string
	for i, node := range []string{"lb1", "lb2"} {
		p.file[i] = filepath.Join(dir, node+"-state")
		p.write(p.file[i], value[i])
		p.notified[i] = filepath.Join(dir, node+".notified")
		script := filepath.Join(dir, node+"-notify.sh")
		p.write(script, "#!/bin/sh\necho \"$@\" >> "+p.notified[i]+"\n")
		if err := os.Chmod(script, 0o755); err != nil {
			t.Fatal(err)
		}
		fifo := filepath.Join(dir, node+".fifo")
		p.fifo[i] = readFIFO(t, fifo)
		confs[i] = filepath.Join(dir, node+".conf")
		p.write(confs[i], conf(i, p.file[i], script, fifo))
	}
	startAgentIn(t, p.lb1, confs[0], func(tr vrrp.Transition) {
		select {
		case p.transition <- tr:
		default:
		}
	})
	p.ka = p.lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", confs[1],
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = p.ka.KillChildren() })
	return p
}

func (p *groupPair) write(path, s string) {
	p.t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// vips says which of the two VIPs ns holds.
func (p *groupPair) vips(ns *netnstest.NS) string {
	return fmt.Sprintf("lan %v svc %v", hasAddr(p.t, ns, "eth0", "192.168.0.100"), hasAddr(p.t, ns, "eth1", "172.16.0.100"))
}

func (p *groupPair) waitVIPs(what, want1, want2 string) {
	p.t.Helper()
	netnstest.WaitFor(p.t, what, 20*time.Second, func() bool { return p.vips(p.lb1) == want1 && p.vips(p.lb2) == want2 })
}

// transitions collects lbnode's transitions for d.
func (p *groupPair) transitions(d time.Duration) []string {
	var out []string
	end := time.After(d)
	for {
		select {
		case tr := <-p.transition:
			out = append(out, tr.Instance+" "+tr.From.String()+"->"+tr.To.String())
		case <-end:
			slices.Sort(out)
			return out
		}
	}
}

// A file tracked by the sync group, not by its instances: a value other
// than 0 puts both of lbnode's instances in FAULT (weight 0), or lowers
// both priorities below keepalived's (weight -60: 150 into 90, without
// sync_group_tracking_weight, as keepalived 2.2.7 applies a group's own
// weights), and keepalived takes both VIPs; 0 again and lbnode takes them
// back. keepalived, given the value in its own file, does the same.
func TestIntegrationSyncGroupTracksFile(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	for _, tc := range []struct {
		weight string
		lbnode vrrp.State
		kaLogs []string // keepalived's log lines for the value in its own file
	}{
		{"0", vrrp.StateFault, []string{"(VI_LAN): tracked file state now FAULT state", "(VI_SVC): tracked file state now FAULT state", "VRRP_Group(G) Syncing instances to FAULT state"}},
		{"-60", vrrp.StateBackup, []string{"(VI_LAN) Changing effective priority from 100 to 40", "(VI_SVC) Changing effective priority from 100 to 40"}},
	} {
		t.Run("weight "+tc.weight, func(t *testing.T) {
			p := startGroupPair(t, [2]int{150, 100}, tc.weight, "init_file 0 overwrite", [2]string{"5\n", "5\n"})
			p.waitVIPs("both VIPs on lbnode", "lan true svc true", "lan false svc false")

			p.write(p.file[0], "1\n")
			p.waitVIPs("both VIPs on keepalived", "lan false svc false", "lan true svc true")
			got := map[string]vrrp.State{}
			netnstest.WaitFor(t, "both lbnode instances "+tc.lbnode.String(), 10*time.Second, func() bool {
				for {
					select {
					case tr := <-p.transition:
						got[tr.Instance] = tr.To
					default:
						return got["VI_LAN"] == tc.lbnode && got["VI_SVC"] == tc.lbnode
					}
				}
			})

			p.write(p.file[0], "0\n")
			p.waitVIPs("both VIPs back on lbnode", "lan true svc true", "lan false svc false")

			// keepalived reads its own file alike.
			p.write(p.file[1], "1\n")
			for _, l := range tc.kaLogs {
				p.ka.WaitOutput(t, l, 10*time.Second)
			}
			if w1, w2 := p.vips(p.lb1), p.vips(p.lb2); w1 != "lan true svc true" || w2 != "lan false svc false" {
				t.Errorf("after keepalived's file changed: lbnode %s, keepalived %s; want both VIPs on lbnode", w1, w2)
			}
		})
	}
}

// Instances whose tracked objects have already failed at start: lbnode's
// go from INIT straight to FAULT, as keepalived's do (it logs no
// transition, they start in FAULT), and both run the same notify programs
// and write the same FIFO lines for it: a file tracked by the sync group
// holding a FAULT value, a script with init_fail that keeps failing, a
// tracked interface that is down. Then, for the file, 0 in it lets both
// start.
func TestIntegrationStartInFault(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	for _, tc := range []struct {
		name        string
		head, track string
		setup       func(*testing.T, *netnstest.NS)
		kaLog       string
	}{
		{name: "track_file", kaLog: "(VI_SVC): entering FAULT state (tracked file state has status -254)"},
		{name: "track_script init_fail",
			head:  "vrrp_script chk {\n  script /bin/false\n  interval 1\n  init_fail\n}\n",
			track: "  track_script {\n    chk weight 0\n  }\n"},
		{name: "track_interface down",
			track: "  track_interface {\n    eth2\n  }\n",
			setup: func(t *testing.T, ns *netnstest.NS) {
				ns.Run(t, "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "peth2")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startPairWith(t, [2]string{"1\n", "1\n"}, tc.setup, func(i int, file, notify, fifo string) string {
				if tc.name == "track_file" {
					return groupTrackConf(100, file, "0", "", notify, fifo)
				}
				return groupConf(100, tc.head, tc.track, notify, fifo)
			})
			if tc.kaLog != "" {
				p.ka.WaitOutput(t, tc.kaLog, 10*time.Second)
			}
			p.ka.WaitOutput(t, "Startup complete", 10*time.Second)
			if got, want := p.transitions(3*time.Second), []string{"VI_LAN INIT->FAULT", "VI_SVC INIT->FAULT"}; !slices.Equal(got, want) {
				t.Errorf("lbnode's transitions at start %v, want %v", got, want)
			}
			read := func(path string) []string {
				b, _ := os.ReadFile(path)
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				slices.Sort(lines)
				return lines
			}
			lbnode, ka := read(p.notified[0]), read(p.notified[1])
			t.Logf("notify programs at start: lbnode %q, keepalived %q", lbnode, ka)
			if !slices.Equal(lbnode, ka) {
				t.Errorf("notify programs at start: lbnode %q, keepalived %q", lbnode, ka)
			}
			fifo := func(fr *fifoReader) []string {
				fr.mu.Lock()
				defer fr.mu.Unlock()
				l := slices.Clone(fr.lines)
				slices.Sort(l)
				return l
			}
			f1, f2 := fifo(p.fifo[0]), fifo(p.fifo[1])
			t.Logf("FIFO lines at start: lbnode %q, keepalived %q", f1, f2)
			if !slices.Equal(f1, f2) {
				t.Errorf("FIFO lines at start: lbnode %q, keepalived %q", f1, f2)
			}
			if w1, w2 := p.vips(p.lb1), p.vips(p.lb2); w1 != "lan false svc false" || w2 != "lan false svc false" {
				t.Errorf("VIPs in FAULT: lbnode %s, keepalived %s; want none", w1, w2)
			}
			if tc.name != "track_file" {
				return
			}
			p.write(p.file[0], "0\n")
			p.write(p.file[1], "0\n")
			netnstest.WaitFor(t, "both VIPs on one node", 20*time.Second, func() bool {
				a, b := p.vips(p.lb1), p.vips(p.lb2)
				return a == "lan true svc true" && b == "lan false svc false" || b == "lan true svc true" && a == "lan false svc false"
			})
		})
	}
}
