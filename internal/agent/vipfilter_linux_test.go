package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/vrrp"
)

// strictConf is one strict-mode instance (no accept mode: keepalived's
// firewall drops the VIP while MASTER), with counters on the rules; extra
// goes into the instance.
func strictConf(prio int, extra string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  vrrp_strict
  nftables_counters
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 41
  priority %d
  advert_int 1
%s  virtual_ipaddress {
    10.0.0.100/24
  }
}
`, prio, extra)
}

// startStoppableAgent runs the agent on the file in ns, its VRRP and its
// firewall inside ns, and returns what stops it and waits.
func startStoppableAgent(t *testing.T, ns *netnstest.NS, path string) (stop func()) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sysctls = nil
	a, err := New(cfg, &Options{Env: Env{
		OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
			o := *opts
			o.NetNS = int(ns.Handle())
			return vrrp.Open(cfgs, &o)
		},
		OpenVIPFilter: func(c *nat.VIPFilterConfig) (VIPFilter, error) {
			cc := *c
			cc.NetNS = int(ns.Handle())
			f, err := nat.OpenVIPFilter(&cc)
			if err != nil {
				return nil, err
			}
			return f, nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

var nftCounter = regexp.MustCompile(`counter packets \d+ bytes \d+`)

// listKeepalived is `nft list table ip keepalived` in ns with the
// counters' figures taken out, and the packets the in chain's rule
// dropped; "" when there is no such table.
func listKeepalived(t *testing.T, ns *netnstest.NS) (string, string) {
	t.Helper()
	out, err := ns.Command("nft", "list", "table", "ip", "keepalived").CombinedOutput()
	if err != nil {
		return "", ""
	}
	dropped := ""
	if m := regexp.MustCompile(`ip daddr @vips counter packets (\d+)`).FindStringSubmatch(string(out)); m != nil {
		dropped = m[1]
	}
	return nftCounter.ReplaceAllString(string(out), "counter"), dropped
}

// pings reports whether one echo to the VIP from ns is answered.
func pings(ns *netnstest.NS) bool {
	return ns.Command("ping", "-n", "-c", "1", "-W", "1", "10.0.0.100").Run() == nil
}

// lbnode and keepalived 2.2.7, running the same vrrp_strict file at
// different priorities, build the same nftables table for the instance,
// which has no accept mode: while MASTER, each drops what is sent to the
// VIP (a client's ping goes unanswered, counted by the drop rule); the
// set follows the VIP through failovers; lbnode's table is gone once it
// stops; with accept mode (VRRPv3) lbnode adds nothing and the VIP
// answers.
func TestIntegrationVRRPFirewallAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "nft", "ping")
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	lb1, lb2, client := tp.Host("lb1"), tp.Host("lb2"), tp.Host("client")
	tp.Connect(lb1, "eth0", "lan", "10.0.0.1/24")
	tp.Connect(lb2, "eth0", "lan", "10.0.0.2/24")
	tp.Connect(client, "eth0", "lan", "10.0.0.254/24")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vipOn := func(ns *netnstest.NS) bool { return hasAddr(t, ns, "eth0", "10.0.0.100") }

	// lbnode alone: MASTER, the VIP in its drop set.
	stopLB := startStoppableAgent(t, lb1, write("lb1.conf", strictConf(100, "")))
	netnstest.WaitFor(t, "lbnode MASTER", 20*time.Second, func() bool { return vipOn(lb1) })
	var lbTable string
	netnstest.WaitFor(t, "lbnode's drop set holding the VIP", 5*time.Second, func() bool {
		lbTable, _ = listKeepalived(t, lb1)
		return strings.Contains(lbTable, "elements = { 10.0.0.100 }")
	})
	if pings(client) {
		t.Error("the VIP answered a ping while lbnode, without accept mode, was MASTER")
	}
	if _, dropped := listKeepalived(t, lb1); dropped == "" || dropped == "0" {
		t.Errorf("lbnode's in rule dropped %q packets; want the ping's", dropped)
	}
	if got, _ := lb2.Command("nft", "list", "ruleset").CombinedOutput(); len(got) != 0 {
		t.Fatalf("lb2 has a ruleset before keepalived runs: %s", got)
	}

	// keepalived at 150 preempts: its table is lbnode's, the VIP leaves
	// lbnode's set (the table stays, as keepalived keeps its own).
	ka := lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("lb2.conf", strictConf(150, "")),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	ka.WaitOutput(t, "(VI_1) Entering MASTER STATE", 20*time.Second)
	netnstest.WaitFor(t, "lbnode BACKUP", 10*time.Second, func() bool { return !vipOn(lb1) })
	var kaTable string
	netnstest.WaitFor(t, "keepalived's drop set holding the VIP", 5*time.Second, func() bool {
		kaTable, _ = listKeepalived(t, lb2)
		return strings.Contains(kaTable, "elements = { 10.0.0.100 }")
	})
	if kaTable != lbTable {
		t.Errorf("keepalived's table:\n%s\nlbnode's as MASTER:\n%s", kaTable, lbTable)
	}
	netnstest.WaitFor(t, "the VIP out of lbnode's set", 5*time.Second, func() bool {
		s, _ := listKeepalived(t, lb1)
		return s != "" && !strings.Contains(s, "10.0.0.100")
	})
	if pings(client) {
		t.Error("the VIP answered a ping while keepalived, without accept mode, was MASTER")
	}

	// keepalived stops (deleting its table): the VIP and the set come back
	// to lbnode.
	if err := ka.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := ka.Wait(10 * time.Second); err != nil {
		t.Logf("keepalived: %v", err)
	}
	netnstest.WaitFor(t, "lbnode MASTER again", 10*time.Second, func() bool { return vipOn(lb1) })
	netnstest.WaitFor(t, "the VIP back in lbnode's set", 5*time.Second, func() bool {
		s, _ := listKeepalived(t, lb1)
		return strings.Contains(s, "elements = { 10.0.0.100 }")
	})
	if s, _ := listKeepalived(t, lb2); s != "" {
		t.Errorf("keepalived left its table:\n%s", s)
	}

	// lbnode stops: its table goes.
	stopLB()
	if got, _ := lb1.Command("nft", "list", "ruleset").CombinedOutput(); len(got) != 0 {
		t.Errorf("lbnode left a ruleset after stopping:\n%s", got)
	}

	// With accept mode (VRRPv3 allows it in strict mode) lbnode filters
	// nothing and the VIP answers.
	stopAccept := startStoppableAgent(t, lb1, write("lb1-accept.conf", strictConf(100, "  version 3\n  accept\n")))
	netnstest.WaitFor(t, "lbnode MASTER with accept mode", 20*time.Second, func() bool { return vipOn(lb1) })
	netnstest.WaitFor(t, "the VIP answering with accept mode", 10*time.Second, func() bool { return pings(client) })
	if got, _ := lb1.Command("nft", "list", "ruleset").CombinedOutput(); len(got) != 0 {
		t.Errorf("lbnode with accept mode made a ruleset:\n%s", got)
	}
	stopAccept()
}

// vmacReportConf has an IPv4 and an IPv6 instance on VMACs, with accept mode.
const vmacReportConf = `global_defs {
  router_id lvskit_test
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  use_vmac
  virtual_ipaddress {
    10.0.0.100/24
  }
}
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  use_vmac
  virtual_ipaddress {
    fe80::100/64
  }
}
`

// The map's data (the base interface's index) lists as a number for
// lbnode, whose nftables package cannot mark the data as host-ordered for
// nft; the kernel uses the same index.
var vmacMapData = regexp.MustCompile(`("vrrp\.\d+") : ("eth0"|\d+)`)

// lbnode builds keepalived's rules for VMACs (their IGMP and MLD reports
// go out of the base interface), listed as keepalived lists them, and
// removes them when it stops.
func TestIntegrationVMACReportRulesAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "nft")
	ns := netnstest.New(t)
	ns.Run(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peth0")
	ns.Run(t, "ip", "link", "set", "eth0", "up")
	ns.Run(t, "ip", "link", "set", "peth0", "up")
	ns.Run(t, "ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	dir := t.TempDir()
	path := filepath.Join(dir, "k.conf")
	if err := os.WriteFile(path, []byte(vmacReportConf), 0o644); err != nil {
		t.Fatal(err)
	}
	ruleset := func() string {
		out, _ := ns.Command("nft", "list", "ruleset").CombinedOutput()
		return vmacMapData.ReplaceAllString(string(out), "$1 : BASE")
	}
	both := func(s string) bool {
		return strings.Contains(s, `"vrrp.51" : BASE`) && strings.Contains(s, `"vrrp.52" : BASE`)
	}

	ka := ns.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", path,
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	var kaRules string
	netnstest.WaitFor(t, "keepalived's VMAC rules", 20*time.Second, func() bool { kaRules = ruleset(); return both(kaRules) })
	if err := ka.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := ka.Wait(10 * time.Second); err != nil {
		t.Logf("keepalived: %v", err)
	}
	netnstest.WaitFor(t, "keepalived's table gone", 10*time.Second, func() bool { return ruleset() == "" })

	// lbnode needs eth0's link-local address past duplicate address
	// detection for the IPv6 instance.
	netnstest.WaitFor(t, "eth0's link-local address", 10*time.Second, func() bool {
		out := ns.Run(t, "ip", "-6", "addr", "show", "dev", "eth0", "scope", "link")
		return strings.Contains(out, "fe80::") && !strings.Contains(out, "tentative")
	})
	stop := startStoppableAgent(t, ns, path)
	var lbRules string
	netnstest.WaitFor(t, "lbnode's VMAC rules", 20*time.Second, func() bool { lbRules = ruleset(); return both(lbRules) })
	if lbRules != kaRules {
		t.Errorf("lbnode's ruleset:\n%s\nkeepalived's:\n%s", lbRules, kaRules)
	}
	stop()
	if got := ruleset(); got != "" {
		t.Errorf("lbnode left a ruleset after stopping:\n%s", got)
	}
}
