package agent

import (
	"os"
	"path/filepath"
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
  }
  virtual_ipaddress_excluded {
    172.16.9.1/24 dev eth2 brd -
    fd00::9/64 dev eth2
  }
}
`

// vipOptionsAddrs are the test's addresses in ns as `ip -o addr` shows
// them: interface, address, brd, scope and label, without the flags that
// depend on the order of addition or on DAD.
func vipOptionsAddrs(t *testing.T, ns *netnstest.NS) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(ns.Run(t, "ip", "-o", "addr", "show"), "\n") {
		line, _, _ = strings.Cut(line, `\`)
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[3], "172.16.0.10") && !strings.HasPrefix(f[3], "172.16.9.") && !strings.HasPrefix(f[3], "172.16.8.") && !strings.HasPrefix(f[3], "fd00::") {
			continue
		}
		f = slices.DeleteFunc(f[1:], func(s string) bool {
			return s == "secondary" || s == "tentative" || s == "nodad" || s == "noprefixroute"
		})
		out = append(out, strings.Join(f, " "))
	}
	slices.Sort(out)
	return out
}

// lbnode and keepalived, each MASTER alone on its own links, run the same
// virtual_ipaddress and virtual_ipaddress_excluded lines with dev, label,
// scope, brd and no_track: they hold the same addresses, with the same
// broadcast, scope and label, on the same interfaces, and both go FAULT
// when the other interface those addresses are on goes down.
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
	const n = 6
	var last []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last addresses seen:\n%s", strings.Join(last, "\n"))
		}
	})
	netnstest.WaitFor(t, "keepalived's addresses", 10*time.Second, func() bool { last = vipOptionsAddrs(t, ka); return len(last) == n })
	netnstest.WaitFor(t, "lbnode's addresses", 20*time.Second, func() bool { last = vipOptionsAddrs(t, lb); return len(last) == n })
	want, got := vipOptionsAddrs(t, ka), vipOptionsAddrs(t, lb)
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
}
