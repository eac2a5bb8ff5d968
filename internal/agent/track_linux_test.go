package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/vishvananda/netlink"
)

// trackConf is a keepalived.conf whose instance tracks a script that
// fails while flag exists.
func trackConf(prio int, flag, weight string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  enable_script_security
  script_user root
}
vrrp_script chk {
  script "/usr/bin/test ! -e %s"
  interval 1
  weight %s
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 51
  priority %d
  advert_int 1
  virtual_ipaddress {
    192.168.0.100/24 dev eth1
  }
  track_script {
    chk
  }
}
`, flag, weight, prio)
}

func hasVIP(t *testing.T, ns *netnstest.NS) bool {
	t.Helper()
	nl := ns.Netlink(t)
	l, err := nl.LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IP.String() == "192.168.0.100" {
			return true
		}
	}
	return false
}

// startAgentIn runs an agent for the keepalived.conf at path with its VRRP
// sockets and addresses in ns (sysctls left alone) until the test ends.
func startAgentIn(t *testing.T, ns *netnstest.NS, path string, onTransition func(vrrp.Transition)) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sysctls = nil
	a, err := New(cfg, &Options{OnTransition: onTransition, Env: Env{
		OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
			o := *opts
			o.NetNS = int(ns.Handle())
			return vrrp.Open(cfgs, &o)
		},
		// The subscription's socket is opened inside ns.
		WatchLinks: func(ctx context.Context, names []string) (initial []bool, ch <-chan vrrp.LinkEvent, err error) {
			err = ns.Do(func() error {
				initial, ch, err = watchLinks(ctx, names)
				return err
			})
			return initial, ch, err
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
}

// kaPair is lbnode (lb1) and keepalived (lb2) on one bridge, each running
// its own keepalived.conf, for the tracking tests.
type kaPair struct {
	t           *testing.T
	lb1, lb2    *netnstest.NS
	ka          *netnstest.Proc
	transitions chan vrrp.Transition
}

// startKAPair starts lbnode on conf1 and keepalived on conf2; dir holds
// keepalived's pid files.
func startKAPair(t *testing.T, dir, conf1, conf2 string) *kaPair {
	t.Helper()
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	p := &kaPair{t: t, lb1: tp.Host("lb1"), lb2: tp.Host("lb2"), transitions: make(chan vrrp.Transition, 64)}
	tp.Connect(p.lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(p.lb2, "eth1", "svc", "172.16.0.2/24")
	startAgentIn(t, p.lb1, conf1, func(tr vrrp.Transition) {
		select {
		case p.transitions <- tr:
		default:
		}
	})
	p.ka = p.lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", conf2,
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = p.ka.KillChildren() })
	return p
}

// where says which node holds the VIP: lb1, lb2, both or none.
func (p *kaPair) where() string {
	switch a, b := hasVIP(p.t, p.lb1), hasVIP(p.t, p.lb2); {
	case a && !b:
		return "lb1"
	case b && !a:
		return "lb2"
	case a && b:
		return "both"
	}
	return "none"
}

func (p *kaPair) waitVIP(on string) {
	p.t.Helper()
	netnstest.WaitFor(p.t, "the VIP on "+on+" only", 20*time.Second, func() bool { return p.where() == on })
}

// waitLbnode waits for lbnode's transition to want.
func (p *kaPair) waitLbnode(want vrrp.State) {
	p.t.Helper()
	netnstest.WaitFor(p.t, "lbnode "+want.String(), 10*time.Second, func() bool {
		for {
			select {
			case tr := <-p.transitions:
				if tr.To == want {
					return true
				}
			default:
				return false
			}
		}
	})
}

// waitKeepalivedBackup waits for keepalived to log BACKUP after its last
// MASTER.
func (p *kaPair) waitKeepalivedBackup() {
	p.t.Helper()
	netnstest.WaitFor(p.t, "keepalived back to BACKUP", 10*time.Second, func() bool {
		return countAfter(p.ka.Output(), "(VI_1) Entering MASTER STATE", "(VI_1) Entering BACKUP STATE")
	})
}

// A tracked script that starts failing lowers lbnode's priority below its
// keepalived peer's (weight -60), or puts it in FAULT (weight 0), and the
// VIP moves to keepalived; when the script succeeds again lbnode takes the
// VIP back. Both nodes read the same keepalived.conf but for the priority
// and the flag file.
func TestIntegrationTrackScriptMovesTheVIP(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	for _, weight := range []string{"-60", "0"} {
		t.Run("weight "+weight, func(t *testing.T) {
			dir := t.TempDir()
			flag1, flag2 := filepath.Join(dir, "lb1-down"), filepath.Join(dir, "lb2-down")
			write := func(name, s string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			p := startKAPair(t, dir, write("lb1.conf", trackConf(150, flag1, weight)), write("lb2.conf", trackConf(100, flag2, weight)))
			p.waitVIP("lb1")
			p.ka.WaitOutput(t, "(VI_1) Entering BACKUP STATE", 10*time.Second)

			if err := os.WriteFile(flag1, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			p.waitVIP("lb2")
			p.ka.WaitOutput(t, "(VI_1) Entering MASTER STATE", 10*time.Second)
			want := vrrp.StateBackup
			if weight == "0" {
				want = vrrp.StateFault
			}
			p.waitLbnode(want)

			if err := os.Remove(flag1); err != nil {
				t.Fatal(err)
			}
			p.waitVIP("lb1")
			p.waitKeepalivedBackup()
		})
	}
}

// countAfter reports whether s contains b after the last a.
func countAfter(s, a, b string) bool {
	i := strings.LastIndex(s, a)
	return i >= 0 && strings.Contains(s[i:], b)
}

// An interface tracked with weight -60 that goes down lowers lbnode's
// priority below its keepalived peer's, which takes the VIP; when it comes
// back up lbnode takes the VIP back.
func TestIntegrationWeightedInterfaceMovesTheVIP(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	tp.Bridge("lan")
	lb1, lb2 := tp.Host("lb1"), tp.Host("lb2")
	tp.Connect(lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(lb2, "eth1", "svc", "172.16.0.2/24")
	tp.Connect(lb1, "eth0", "lan", "192.168.1.11/24")
	tp.Connect(lb2, "eth0", "lan", "192.168.1.12/24")
	dir := t.TempDir()
	conf := func(prio int) string {
		return fmt.Sprintf("vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 51\n  priority %d\n  advert_int 1\n"+
			"  track_interface {\n    eth0 weight -60\n  }\n  virtual_ipaddress {\n    192.168.0.100/24 dev eth1\n  }\n}\n", prio)
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	startAgentIn(t, lb1, write("lb1.conf", conf(150)), nil)
	ka := lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("lb2.conf", conf(100)),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	waitVIP := func(want1, want2 bool) {
		t.Helper()
		netnstest.WaitFor(t, fmt.Sprintf("VIP on lb1 %v, on lb2 %v", want1, want2), 20*time.Second, func() bool {
			return hasVIP(t, lb1) == want1 && hasVIP(t, lb2) == want2
		})
	}
	waitVIP(true, false)
	lb1.Run(t, "ip", "link", "set", "eth0", "down")
	waitVIP(false, true)
	ka.WaitOutput(t, "(VI_1) Entering MASTER STATE", 5*time.Second)
	lb1.Run(t, "ip", "link", "set", "eth0", "up")
	waitVIP(true, false)
}
