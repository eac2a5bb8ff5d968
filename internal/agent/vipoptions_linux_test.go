package agent

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/vrrp"
)

const vipOptionsConf = `vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    172.16.0.100/24
    172.16.0.101/24 dev eth2 label eth2:vip scope link brd +
    172.16.0.102/24 label eth1:x brd 172.16.0.127 no_track
    172.16.8.3/24 dev eth2 broadcast - scope 200
    172.16.0.103 peer 172.16.0.104 noprefixroute home
    172.16.0.105/24 noprefixroute -nodad preferred_lft 5
  }
  virtual_ipaddress_excluded {
    172.16.9.1/24 dev eth2 brd -
    fd00::9/64 dev eth2
    fd00::10 dev eth2 peer fd00::11 -nodad
    fd00::12/64 dev eth2 preferred_lft 60 noprefixroute home
    fd00::13 dev eth2 preferred_lft forever
    fd00::14/64 dev eth2 preferred_lft 0 -nodad
  }
}
`

// vipOptionsAddrs are the test's addresses in ns as `ip -o addr` shows
// them: interface, address, peer, brd, scope, flags, label and lifetimes
// (seconds left shown as N, as they count down). "secondary" is left
// out: it depends on the order of addition. settled is false while an
// address is "tentative": one added with -nodad (DAD on) is tentative
// until its DAD ends, about a second, at a moment that differs between
// the two daemons, so the caller waits for both to settle rather than
// strip the flag, and a "dadfailed" would show as a difference.
func vipOptionsAddrs(t *testing.T, ns *netnstest.NS) (addrs []string, settled bool) {
	t.Helper()
	settled = true
	for _, line := range strings.Split(ns.Run(t, "ip", "-o", "addr", "show"), "\n") {
		line, lifetimes, _ := strings.Cut(line, `\`)
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[3], "172.16.0.10") && !strings.HasPrefix(f[3], "172.16.9.") && !strings.HasPrefix(f[3], "172.16.8.") && !strings.HasPrefix(f[3], "fd00::") {
			continue
		}
		settled = settled && !slices.Contains(f, "tentative")
		f = slices.DeleteFunc(f[1:], func(s string) bool { return s == "secondary" })
		f = append(f, strings.Fields(regexp.MustCompile(`[0-9]+sec`).ReplaceAllString(lifetimes, "Nsec"))...)
		addrs = append(addrs, strings.Join(f, " "))
	}
	slices.Sort(addrs)
	return addrs, settled
}

// lbnode and keepalived, each MASTER alone on its own links, run the same
// virtual_ipaddress and virtual_ipaddress_excluded lines with dev, label,
// scope, brd, no_track, peer, noprefixroute, home, -nodad and
// preferred_lft, IPv4 and IPv6: they hold the same addresses, with the
// same peer, broadcast, scope, flags, label and lifetimes, on the same
// interfaces, and both go FAULT
// when the other interface those addresses are on goes down, removing
// them (but for keepalived's point-to-point IPv4 address).
func TestIntegrationVIPOptionsAgreeWithKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	dir := t.TempDir()
	conf := filepath.Join(dir, "k.conf")
	if err := os.WriteFile(conf, []byte(vipOptionsConf), 0o644); err != nil {
		t.Fatal(err)
	}
	tp := netnstest.NewTopology(t)
	for _, b := range []string{"s1", "t1", "s2", "t2"} {
		tp.Bridge(b)
	}
	lb, ka := tp.Host("lb"), tp.Host("ka")
	tp.Connect(lb, "eth1", "s1", "172.16.0.1/24")
	tp.Connect(lb, "eth2", "t1")
	tp.Connect(ka, "eth1", "s2", "172.16.0.2/24")
	tp.Connect(ka, "eth2", "t2")

	states := make(chan vrrp.State, 16)
	startAgentIn(t, lb, conf, func(tr vrrp.Transition) {
		select {
		case states <- tr.To:
		default:
		}
	})
	p := ka.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", conf,
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = p.KillChildren() })
	p.WaitOutput(t, "(VI_1) Entering MASTER STATE", 20*time.Second)
	const n = 12
	var last []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last addresses seen:\n%s", strings.Join(last, "\n"))
		}
	})
	settledAddrs := func(ns *netnstest.NS) bool {
		addrs, settled := vipOptionsAddrs(t, ns)
		last = addrs
		return settled && len(addrs) == n
	}
	netnstest.WaitFor(t, "keepalived's addresses, DAD done", 10*time.Second, func() bool { return settledAddrs(ka) })
	netnstest.WaitFor(t, "lbnode's addresses, DAD done", 20*time.Second, func() bool { return settledAddrs(lb) })
	want, _ := vipOptionsAddrs(t, ka)
	got, _ := vipOptionsAddrs(t, lb)
	t.Logf("keepalived's addresses:\n%s", strings.Join(want, "\n"))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lbnode's addresses differ from keepalived's (-keepalived +lbnode):\n%s", d)
	}

	// eth2 carries tracked addresses: both go FAULT when it goes down.
	ka.Run(t, "ip", "link", "set", "eth2", "down")
	lb.Run(t, "ip", "link", "set", "eth2", "down")
	p.WaitOutput(t, "(VI_1) Entering FAULT STATE", 10*time.Second)
	deadline := time.After(10 * time.Second)
	for fault := false; !fault; {
		select {
		case s := <-states:
			fault = s == vrrp.StateFault
		case <-deadline:
			t.Fatal("lbnode did not enter FAULT with eth2 down")
		}
	}

	// Leaving MASTER, lbnode removes every address on eth1, the
	// point-to-point one included. keepalived 2.2.7 leaves that one: it
	// deletes it naming the address itself as IFA_ADDRESS, where the
	// kernel holds the peer (netlink_ipaddress).
	onEth1 := func(ns *netnstest.NS) []string {
		addrs, _ := vipOptionsAddrs(t, ns)
		return slices.DeleteFunc(addrs, func(s string) bool { return !strings.HasPrefix(s, "eth1 ") })
	}
	const kaLeftover = "eth1 inet 172.16.0.103 peer 172.16.0.104/32 scope global noprefixroute eth1 valid_lft forever preferred_lft forever"
	netnstest.WaitFor(t, "lbnode's eth1 addresses removed", 10*time.Second, func() bool { last = onEth1(lb); return len(last) == 0 })
	netnstest.WaitFor(t, "keepalived's eth1 addresses removed", 10*time.Second, func() bool {
		last = onEth1(ka)
		return slices.Equal(last, []string{kaLeftover})
	})
}
