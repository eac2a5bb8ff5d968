package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

const haSuspendConf = `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.1.0.100/32
  }
}
virtual_server 10.1.0.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  ha_suspend
  real_server 10.1.0.1 8080 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`

// TestVMHASuspendMatchesKeepalived runs keepalived and lbnode, each alone
// in a namespace, on a file whose virtual server sets ha_suspend: while
// the instance is BACKUP (its VIP not on the node) no check reaches the
// real server; once it is MASTER the checks run. Both daemons alike.
func TestVMHASuspendMatchesKeepalived(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "ip", "env")
	for _, daemon := range []string{"keepalived", "lbnode"} {
		t.Run(daemon, func(t *testing.T) {
			ns := netnstest.New(t)
			ns.Run(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
			ns.Run(t, "ip", "link", "set", "peer0", "up")
			ns.Run(t, "ip", "link", "set", "eth0", "up")
			ns.Run(t, "ip", "addr", "add", "10.1.0.1/24", "dev", "eth0")
			var checks atomic.Int64
			var l net.Listener
			if err := ns.Do(func() (err error) { l, err = net.Listen("tcp4", "10.1.0.1:8080"); return err }); err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					checks.Add(1)
					c.Close()
				}
			}()
			dir := t.TempDir()
			conf := filepath.Join(dir, "k.conf")
			if err := os.WriteFile(conf, []byte(haSuspendConf), 0o644); err != nil {
				t.Fatal(err)
			}
			var p *netnstest.Proc
			if daemon == "keepalived" {
				p = ns.Start(t, "keepalived", "-n", "-l", "-D", "-f", conf,
					"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "vrrp.pid"), "-c", filepath.Join(dir, "check.pid"))
				t.Cleanup(func() { _ = p.KillChildren() })
			} else {
				p = ns.Start(t, "env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", conf)
			}
			var before int64
			took := netnstest.WaitFor(t, daemon+" holding the VIP", 30*time.Second, func() bool {
				before = checks.Load()
				return strings.Contains(ns.Run(t, "ip", "-4", "addr", "show", "dev", "eth0"), "10.1.0.100/32")
			})
			time.Sleep(4 * time.Second)
			after := checks.Load()
			t.Logf("%s: MASTER %v after start; checks before: %d; in the 4 s after: %d", daemon, took.Round(100*time.Millisecond), before, after-before)
			if before != 0 {
				t.Errorf("%s: %d checks reached the real server while the VIP was not on the node (ha_suspend), want 0", daemon, before)
			}
			if after-before < 2 {
				t.Errorf("%s: %d checks in the 4 s after the VIP came (delay_loop 1), want at least 2\n%s", daemon, after-before, p.Output())
			}
		})
	}
}
