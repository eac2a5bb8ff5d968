package agent

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/vrrp"
)

func article(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("../config/testdata/article-keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func rules(t *testing.T, tb *ipvs.Table) string {
	t.Helper()
	var b strings.Builder
	if err := ipvs.WriteRules(&b, tb); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDesiredFollowsHealth pins the health glue: a down real server gets
// weight 0 with inhibit_on_failure and leaves the table without it; an up
// one gets its configured weight back, or the weight a misc_dynamic check
// asked for.
func TestDesiredFollowsHealth(t *testing.T) {
	cfg := article(t)
	cfg.VirtualServers[0].RealServers[1].InhibitOnFailure = true
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	web1 := "TCP 192.168.0.100:80 -> 172.16.0.1:80"
	web2 := "TCP 192.168.0.100:80 -> 172.16.0.2:80"
	dns2 := "UDP 192.168.0.100:53 -> 172.16.0.2:53"
	if got := []string{p.targets[0].Name, p.targets[1].Name, p.targets[3].Name}; !cmp.Equal(got, []string{web1, web2, dns2}) {
		t.Fatalf("targets %q", got)
	}
	all := `-A -t 192.168.0.100:80 -s wlc
-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1
-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 1
-A -u 192.168.0.100:53 -s wlc
-a -u 192.168.0.100:53 -r 172.16.0.1:53 -g -w 1
-a -u 192.168.0.100:53 -r 172.16.0.2:53 -g -w 1
`
	for _, tc := range []struct {
		name  string
		state map[string]targetState
		want  string
	}{
		{"nothing known yet: all in", nil, all},
		{"all up", map[string]targetState{web1: {up: true}, web2: {up: true}}, all},
		{"down without inhibit: removed", map[string]targetState{web1: {up: false}},
			strings.Replace(all, "-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n", "", 1)},
		{"down with inhibit_on_failure: weight 0", map[string]targetState{web2: {up: false}},
			strings.Replace(all, "-r 172.16.0.2:80 -g -w 1", "-r 172.16.0.2:80 -g -w 0", 1)},
		{"back up: configured weight", map[string]targetState{web1: {up: true}}, all},
		{"misc_dynamic weight", map[string]targetState{dns2: {up: true, weight: 7, hasWeight: true}},
			strings.Replace(all, "-r 172.16.0.2:53 -g -w 1", "-r 172.16.0.2:53 -g -w 7", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rules(t, p.desired(tc.state))); diff != "" {
				t.Errorf("desired rules (-want +got):\n%s", diff)
			}
		})
	}
	// A weight change plans as one update, never a delete and add.
	ops, err := ipvs.Plan(p.desired(nil), p.desired(map[string]targetState{web2: {up: false}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || !strings.Contains(ops[0].String(), "-e -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 0") {
		t.Errorf("ops = %v, want one weight update", ops)
	}
}

func TestTargetsFromCheckers(t *testing.T) {
	cfg := article(t)
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tcp, ok := p.targets[0].Checker.(*healthcheck.TCP)
	if !ok || tcp.Addr != netip.MustParseAddrPort("172.16.0.1:80") || tcp.Timeout != 2*time.Second {
		t.Errorf("TCP_CHECK target: %#v", p.targets[0].Checker)
	}
	if p.targets[0].Interval != 6*time.Second {
		t.Errorf("interval %v, want delay_loop 6s", p.targets[0].Interval)
	}
	misc, ok := p.targets[2].Checker.(*healthcheck.Exec)
	if !ok || strings.Join(misc.Argv, " ") != "/bin/nc -zn -u 172.16.0.1 53" || misc.Timeout != 6*time.Second {
		t.Errorf("MISC_CHECK target: %#v", p.targets[2].Checker)
	}
	if p.targets[2].Retries != 0 {
		t.Errorf("MISC_CHECK retries %d, want keepalived's 0", p.targets[2].Retries)
	}
}

func TestVRRPMapping(t *testing.T) {
	cfg := article(t)
	vc, err := vrrpConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := vc["eth1"]
	if len(c) != 1 {
		t.Fatalf("routers %v", vc)
	}
	got := c[0]
	if got.Name != "192.168.0.100" || got.VRID != 1 || got.Priority != 102 || !got.NoPreempt || got.AuthPass != "secret" ||
		got.VIPInterface != "eth1" || got.VIPs[0] != netip.MustParsePrefix("192.168.0.100/24") ||
		!cmp.Equal(got.AddrOptions, []vrrp.AddrOptions{{Addr: netip.MustParseAddr("192.168.0.100"), Interface: "eth0"}}, addrCmp) ||
		!cmp.Equal(got.TrackInterfaces, []string{"eth0"}) {
		t.Errorf("vrrp config %+v", got)
	}
	if got.GARPLowerPrioRepeat != 5 || got.GARPLowerPrioDelay != 5*time.Second || got.LowerPrioNoAdvert {
		t.Errorf("lower-priority settings %d, %v, %v; want keepalived's 5, 5s, false", got.GARPLowerPrioRepeat, got.GARPLowerPrioDelay, got.LowerPrioNoAdvert)
	}
	// keepalived's 0 means none.
	none := *cfg
	none.VRRP = []config.VRRPInstance{cfg.VRRP[0]}
	none.VRRP[0].GARPLowerPrioRepeat, none.VRRP[0].GARPLowerPrioDelay, none.VRRP[0].LowerPrioNoAdvert = 0, 0, true
	if vc, err := vrrpConfigs(&none); err != nil {
		t.Fatal(err)
	} else if n, _ := vc["eth1"][0].Normalize(); n.GARPLowerPrioRepeat > 0 || n.GARPLowerPrioDelay > 0 || !n.LowerPrioNoAdvert {
		t.Errorf("with 0, 0 and lower_prio_no_advert: %d, %v, %v; want none, none, true", n.GARPLowerPrioRepeat, n.GARPLowerPrioDelay, n.LowerPrioNoAdvert)
	}
	// An instance's own group (mcast_dst_ip) wins over the global one.
	grp := *cfg
	grp.VRRP = []config.VRRPInstance{cfg.VRRP[0]}
	grp.Global.MulticastGroup4 = netip.MustParseAddr("224.0.0.19")
	if vc, err := vrrpConfigs(&grp); err != nil || vc["eth1"][0].Group != grp.Global.MulticastGroup4 {
		t.Errorf("global group: %v, %v; want %v", vc["eth1"][0].Group, err, grp.Global.MulticastGroup4)
	}
	grp.VRRP[0].MulticastGroup = netip.MustParseAddr("224.0.0.20")
	if vc, err := vrrpConfigs(&grp); err != nil || vc["eth1"][0].Group != grp.VRRP[0].MulticastGroup {
		t.Errorf("instance group: %v, %v; want %v", vc["eth1"][0].Group, err, grp.VRRP[0].MulticastGroup)
	}
	// A MASTER that yields sends one last advert, but in strict mode,
	// where keepalived forbids higher_prio_send_advert.
	if vc, err := vrrpConfigs(&grp); err != nil || vc["eth1"][0].NoYieldAdvert {
		t.Errorf("yield advert off without strict mode (%v)", err)
	}
	grp.VRRP[0].GARPMasterRefreshRepeat, grp.VRRP[0].SkipCheckAdvAddr = 3, true
	if vc, err := vrrpConfigs(&grp); err != nil || vc["eth1"][0].GARPRefreshRepeat != 3 || !vc["eth1"][0].SkipCheckAdvAddr {
		t.Errorf("garp_master_refresh_repeat 3 and skip_check_adv_addr: %+v (%v)", vc["eth1"][0], err)
	}
	grp.Global.StartupDelay = 5 * time.Second
	if vc, err := vrrpConfigs(&grp); err != nil || vc["eth1"][0].StartupDelay != 5*time.Second {
		t.Errorf("vrrp_startup_delay 5: %v (%v)", vc["eth1"][0].StartupDelay, err)
	}
	grp.Global.GARPInterval, grp.Global.GNAInterval = time.Millisecond, 2*time.Millisecond
	if vc, err := vrrpConfigs(&grp); err != nil || vc["eth1"][0].GARPInterval != time.Millisecond {
		t.Errorf("vrrp_garp_interval 0.001: %v (%v)", vc["eth1"][0].GARPInterval, err)
	}
	grp.VRRP[0].StrictMode = true
	if vc, err := vrrpConfigs(&grp); err != nil || !vc["eth1"][0].NoYieldAdvert {
		t.Errorf("yield advert on in strict mode (%v)", err)
	}
	// Interfaces tracked with a weight are the agent's tracking's, not
	// the vrrp package's (which puts the instance in FAULT).
	cfg.VRRP[0].Track = append(cfg.VRRP[0].Track, config.TrackInterface{Name: "eth2", Weight: 10}, config.TrackInterface{Name: "eth3", Reverse: true})
	if vc, err := vrrpConfigs(cfg); err != nil {
		t.Fatal(err)
	} else if got := vc["eth1"][0].TrackInterfaces; slices.Contains(got, "eth2") || slices.Contains(got, "eth3") {
		t.Errorf("weighted and reversed interfaces given to vrrp: %q", got)
	}
}

func TestNotifyCommands(t *testing.T) {
	cfg := article(t)
	cfg.VRRP[0].NotifyMaster = config.Command{"/bin/on-master", "x y"}
	got := notifyCommands(cfg, vrrpTransition("192.168.0.100", "MASTER", 102))
	want := [][]string{{"/bin/on-master", "x y"}, {"/usr/local/bin/nat-switch", "INSTANCE", "192.168.0.100", "MASTER", "102"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notify commands (-want +got):\n%s", diff)
	}
}

func vrrpTransition(instance, to string, prio uint8) vrrp.Transition {
	st := map[string]vrrp.State{"BACKUP": vrrp.StateBackup, "MASTER": vrrp.StateMaster, "FAULT": vrrp.StateFault, "STOP": vrrp.StateStopped}[to]
	return vrrp.Transition{Instance: instance, Priority: prio, To: st}
}

func TestReconfigurable(t *testing.T) {
	base := func() map[string][]vrrp.Config {
		return map[string][]vrrp.Config{
			"eth1": {
				{Name: "VI_1", Interface: "eth1", VRID: 1, Priority: 100, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}},
				{Name: "VI_2", Interface: "eth1", VRID: 2, Priority: 100, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.101/24")}},
			},
		}
	}
	tests := []struct {
		name string
		edit func(m map[string][]vrrp.Config)
		want string // "" for reconfigurable
	}{
		{"priority, VIPs, password", func(m map[string][]vrrp.Config) {
			m["eth1"][0].Priority = 150
			m["eth1"][1].VIPs = []netip.Prefix{netip.MustParsePrefix("192.168.0.102/24")}
			m["eth1"][1].AuthPass = "secret"
		}, ""},
		{"instances reordered", func(m map[string][]vrrp.Config) { m["eth1"][0], m["eth1"][1] = m["eth1"][1], m["eth1"][0] }, ""},
		{"instance added", func(m map[string][]vrrp.Config) {
			m["eth1"] = append(m["eth1"], vrrp.Config{Name: "VI_3", Interface: "eth1", VRID: 3, VIPs: m["eth1"][0].VIPs})
		}, "vrrp: 3 instances on eth1 instead of 2: one was added"},
		{"instance removed", func(m map[string][]vrrp.Config) { m["eth1"] = m["eth1"][:1] }, "vrrp: instance VI_2 removed or moved from eth1"},
		{"instance renamed", func(m map[string][]vrrp.Config) { m["eth1"][1].Name = "web" }, "vrrp: instance VI_2 removed or moved from eth1"},
		{"new interface", func(m map[string][]vrrp.Config) {
			c := m["eth1"][1]
			c.Interface = "eth2"
			m["eth1"] = m["eth1"][:1]
			m["eth2"] = []vrrp.Config{c}
		}, "vrrp: instance VI_2 on a new interface eth2"},
		{"VRID changed", func(m map[string][]vrrp.Config) { m["eth1"][1].VRID = 9 }, `vrrp: instance VI_2: vrrp: VRID 9: the running instance has "2"; changing it needs a new instance`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := base()
			tt.edit(next)
			err := reconfigurable(base(), next)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("reconfigurable = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSameNATIgnoresPosition(t *testing.T) {
	a := &config.NATSwitch{Pos: config.Pos{File: "a.yaml", Line: 20}, Interface: "eth1", VIPs: []netip.Addr{netip.MustParseAddr("192.168.0.100")}}
	moved := *a
	moved.Pos.Line = 21
	other := moved
	other.Interface = "eth2"
	for _, tt := range []struct {
		name string
		x, y *config.NATSwitch
		want bool
	}{
		{"moved down a line", a, &moved, true},
		{"another interface", a, &other, false},
		{"both absent", nil, nil, true},
		{"added", nil, a, false},
	} {
		if got := sameNAT(tt.x, tt.y); got != tt.want {
			t.Errorf("%s: sameNAT = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A reload keeps a health target (and its state) when what it is built
// from did not change, even if its lines moved, and restarts it when a
// checker setting or the script user changed.
func TestTargetPrints(t *testing.T) {
	prints := func(cfg *config.Config) map[string]string {
		t.Helper()
		p, err := ipvsPlan(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.prints) != len(p.targets) || len(p.targets) == 0 {
			t.Fatalf("%d prints for %d targets", len(p.prints), len(p.targets))
		}
		return p.prints
	}
	base := prints(article(t))
	if again := prints(article(t)); !cmp.Equal(base, again) {
		t.Errorf("the same file gives other prints:\n%s", cmp.Diff(base, again))
	}
	for _, tt := range []struct {
		name    string
		change  func(*config.Config)
		changed int // how many targets must be restarted
	}{
		{"lines moved", func(c *config.Config) {
			for i := range c.VirtualServers {
				for j := range c.VirtualServers[i].RealServers {
					rs := &c.VirtualServers[i].RealServers[j]
					rs.Pos.Line += 3
					for k := range rs.Checkers {
						rs.Checkers[k].Pos.Line += 3
					}
				}
			}
		}, 0},
		{"one connect_timeout", func(c *config.Config) {
			c.VirtualServers[0].RealServers[0].Checkers[0].ConnectTimeout += time.Second
		}, 1},
		{"delay_loop of a virtual server", func(c *config.Config) { c.VirtualServers[1].DelayLoop += time.Second }, 2},
		{"script user", func(c *config.Config) {
			c.Global.Script = config.ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}
		}, 4},
	} {
		cfg := article(t)
		tt.change(cfg)
		got := prints(cfg)
		n := 0
		for name, fp := range got {
			if base[name] != fp {
				n++
			}
		}
		if n != tt.changed {
			t.Errorf("%s: %d targets changed, want %d", tt.name, n, tt.changed)
		}
	}
}

// MISC_CHECK programs run as the script user; root needs no switch.
func TestMiscCheckRunsAsScriptUser(t *testing.T) {
	cfg := article(t)
	for _, tt := range []struct {
		id   config.ScriptIdentity
		want string
	}{
		{config.ScriptIdentity{}, "<nil>"},
		{config.ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}, "&{Uid:65534 Gid:65534 Groups:[65534] NoSetGroups:false}"},
	} {
		cfg.Global.Script = tt.id
		p, err := ipvsPlan(cfg)
		if err != nil {
			t.Fatal(err)
		}
		misc, ok := p.targets[2].Checker.(*healthcheck.Exec)
		if !ok {
			t.Fatalf("target 2: %#v, want the MISC_CHECK", p.targets[2].Checker)
		}
		if got := fmt.Sprintf("%+v", misc.Credential); got != tt.want {
			t.Errorf("script user %+v: credential %s, want %s", tt.id, got, tt.want)
		}
	}
}
