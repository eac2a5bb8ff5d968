package agent

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/vishvananda/netlink"
)

// routesConf has static and virtual addresses, routes and rules; its
// instance is alone on eth1 and tracks eth3.
const routesConf = `global_defs {
  router_id lvskit_routes
}
static_ipaddress {
  10.9.0.1/32 dev eth2 scope link
  10.9.1.1/24 dev eth2
  10.9.2.1 dev eth2 peer 10.9.2.2 home noprefixroute
}
static_routes {
  10.20.0.0/24 via 10.0.0.1 dev eth1
  blackhole 10.21.0.0/24
  10.22.0.0/24 dev eth2 table 100 metric 5
}
static_rules {
  from 10.30.0.0/24 table 100 priority 100
}
vrrp_instance VI_1 {
  state MASTER
  interface eth1
  virtual_router_id 51
  priority 200
  advert_int 1
  track_interface {
    eth3
  }
  virtual_ipaddress {
    10.0.0.100/24 dev eth1
  }
  virtual_routes {
    src 10.0.0.100 10.40.0.0/24 via 10.0.0.1 dev eth1
    10.41.0.0/24 via 10.0.0.2 or 10.0.0.3
    0.0.0.0/0 via 10.0.0.1 table 101
  }
  virtual_rules {
    from 10.50.0.0/24 table 101 priority 200
    to 10.51.0.0/24 table 101 priority 201
  }
}
`

// routesNS is a namespace with the interfaces routesConf names.
func routesNS(t *testing.T) *netnstest.NS {
	ns := netnstest.New(t)
	for i, ifname := range []string{"eth1", "eth2", "eth3"} {
		ns.Run(t, "ip", "link", "add", ifname, "type", "veth", "peer", "name", "peer"+string(rune('1'+i)))
		ns.Run(t, "ip", "link", "set", ifname, "up")
		ns.Run(t, "ip", "link", "set", "peer"+string(rune('1'+i)), "up")
	}
	ns.Run(t, "ip", "addr", "add", "10.0.0.10/24", "dev", "eth1")
	ns.Run(t, "ip", "addr", "add", "10.0.2.10/24", "dev", "eth2")
	return ns
}

// ipState is what `ip` shows of the routes and rules the file adds, one
// line each, sorted: the kernel's own routes (proto kernel) and rules
// (the three defaults) are left out.
func ipState(t *testing.T, ns *netnstest.NS) []string {
	t.Helper()
	var out []string
	for _, args := range [][]string{{"-4", "route", "show", "table", "all"}, {"-4", "rule", "show"}, {"-4", "addr", "show", "dev", "eth2"}} {
		for _, line := range strings.Split(ns.Run(t, "ip", args...), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "", strings.Contains(line, "proto kernel"), strings.Contains(line, "table local"),
				regexp.MustCompile(`^(0|32766|32767):`).MatchString(line), strings.HasPrefix(line, "valid_lft"),
				regexp.MustCompile(`^\d+: eth2`).MatchString(line):
				continue
			}
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

func contains(lines []string, want ...string) []string {
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
			missing = append(missing, w)
		}
	}
	return missing
}

// staticPeerShown is routesConf's point-to-point static address.
const staticPeerShown = "inet 10.9.2.1 peer 10.9.2.2/32 scope global noprefixroute eth2"

var (
	staticShown = []string{
		"10.20.0.0/24 via 10.0.0.1 dev eth1 proto keepalived",
		"blackhole 10.21.0.0/24 proto keepalived",
		"10.22.0.0/24 dev eth2 table 100 proto keepalived metric 5",
		"100:\tfrom 10.30.0.0/24 lookup 100 proto keepalived",
		"inet 10.9.0.1/32 scope link eth2",
		"inet 10.9.1.1/24 scope global eth2", // no brd: keepalived sets none unless told
		// Point-to-point: no brd, no length of its own. ip shows no
		// "home" on an IPv4 address, for keepalived's as for lbnode's.
		staticPeerShown,
	}
	virtualShown = []string{
		"10.40.0.0/24 via 10.0.0.1 dev eth1 proto keepalived src 10.0.0.100",
		"10.41.0.0/24 proto keepalived",
		"nexthop via 10.0.0.2 dev eth1 weight 1",
		"default via 10.0.0.1 dev eth1 table 101 proto keepalived",
		"200:\tfrom 10.50.0.0/24 lookup 101 proto keepalived",
		"201:\tfrom all to 10.51.0.0/24 lookup 101 proto keepalived",
	}
)

// lbnode's agent adds the static addresses, routes and rules at start, the
// virtual routes and rules when its instance becomes MASTER, removes the
// virtual ones when it leaves MASTER (FAULT: a tracked interface went
// down) and adds them again on MASTER, and removes everything at stop.
// keepalived, run on the same file in a namespace with the same
// interfaces, leaves `ip route` and `ip rule` showing the same lines.
func TestIntegrationRoutesFollowTheState(t *testing.T) {
	netnstest.RequirePrivileged(t, "ip", "keepalived")
	dir := t.TempDir()
	path := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(routesConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ns := routesNS(t)
	before := ipState(t, ns)
	states := make(chan vrrp.State, 16)
	a, err := New(cfg, &Options{OnTransition: func(tr vrrp.Transition) { states <- tr.To }, Env: Env{
		OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
			o := *opts
			o.NetNS = int(ns.Handle())
			return vrrp.Open(cfgs, &o)
		},
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
	a.openIP = func() (ipKernel, error) {
		h, err := netlink.NewHandleAt(ns.Handle())
		if err != nil {
			return nil, err
		}
		return &netlinkIP{h}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	waitState := func(want vrrp.State) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case s := <-states:
				if s == want {
					return
				}
			case <-timeout:
				t.Fatalf("no transition to %s", want)
			}
		}
	}
	waitState(vrrp.StateMaster)
	// The transition reaches the agent's loop just after OnTransition.
	var master []string
	netnstest.WaitFor(t, "the virtual routes", 5*time.Second, func() bool {
		master = ipState(t, ns)
		return len(contains(master, virtualShown...)) == 0
	})
	if m := contains(master, staticShown...); len(m) > 0 {
		t.Errorf("as MASTER, missing %q in:\n%s", m, strings.Join(master, "\n"))
	}
	t.Logf("as MASTER:\n%s", strings.Join(master, "\n"))

	ns.Run(t, "ip", "link", "set", "eth3", "down")
	waitState(vrrp.StateFault)
	var fault []string
	netnstest.WaitFor(t, "the virtual routes removed", 5*time.Second, func() bool {
		fault = ipState(t, ns)
		return len(contains(fault, virtualShown...)) == len(virtualShown)
	})
	if m := contains(fault, staticShown...); len(m) > 0 {
		t.Errorf("in FAULT, missing static %q", m)
	}
	ns.Run(t, "ip", "link", "set", "eth3", "up")
	waitState(vrrp.StateMaster)
	netnstest.WaitFor(t, "the virtual routes again", 5*time.Second, func() bool {
		return len(contains(ipState(t, ns), virtualShown...)) == 0
	})

	cancel()
	if err := <-done; err != nil {
		t.Errorf("agent: %v", err)
	}
	stopped = true
	if after := ipState(t, ns); !slices.Equal(after, before) {
		t.Errorf("after stop:\n%s\nwant as before start:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}

	// keepalived on the same file, in a namespace of its own.
	kns := routesNS(t)
	p := kns.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", path,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	t.Cleanup(func() { _ = p.KillChildren() })
	p.WaitOutput(t, "(VI_1) Entering MASTER STATE", 15*time.Second)
	var ka []string
	netnstest.WaitFor(t, "keepalived's virtual routes", 5*time.Second, func() bool {
		ka = ipState(t, kns)
		return len(contains(ka, virtualShown...)) == 0
	})
	if !slices.Equal(ka, master) {
		t.Errorf("keepalived as MASTER:\n%s\nlbnode as MASTER:\n%s", strings.Join(ka, "\n"), strings.Join(master, "\n"))
	}
	p.Stop(10 * time.Second)
	_ = p.KillChildren()
	// keepalived 2.2.7 leaves the point-to-point IPv4 address: it deletes
	// it naming the address itself as IFA_ADDRESS, where the kernel holds
	// the peer (netlink_ipaddress), so the kernel finds no such address.
	// lbnode deletes it (above).
	wantKA := slices.Sorted(slices.Values(append(slices.Clone(before), staticPeerShown)))
	if after := ipState(t, kns); !slices.Equal(after, wantKA) {
		t.Errorf("keepalived, after stop:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(wantKA, "\n"))
	}
}
