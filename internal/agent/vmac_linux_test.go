package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

func vmacConf(prio int) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 51
  priority %d
  advert_int 1
  use_vmac
  virtual_ipaddress {
    172.16.0.100/24
  }
}
`, prio)
}

// vmacVIP reports whether ns has the VMAC vrrp.51 and the VIP on it.
func vmacVIP(t *testing.T, ns *netnstest.NS) (vmac, vip bool) {
	t.Helper()
	nl := ns.Netlink(t)
	l, err := nl.LinkByName("vrrp.51")
	if err != nil {
		return false, false
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IP.String() == "172.16.0.100" {
			return true, true
		}
	}
	return true, false
}

// lbnode runs a keepalived.conf with use_vmac against keepalived with the
// same one: both have the VMAC vrrp.51 with the virtual MAC, the VIP is on
// the MASTER's, lbnode (priority 150) wins, and lbnode removes its VMAC
// at stop.
func TestIntegrationLbnodeVMACKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	p := &kaPair{t: t, lb1: tp.Host("lb1"), lb2: tp.Host("lb2")}
	tp.Connect(p.lb1, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(p.lb2, "eth1", "svc", "172.16.0.2/24")
	// Runs once the agent has stopped, before the namespaces go.
	t.Cleanup(func() {
		if vmac, _ := vmacVIP(t, p.lb1); vmac {
			t.Errorf("lbnode left vrrp.51 after stop")
		} else {
			t.Logf("lbnode removed vrrp.51 at stop")
		}
	})
	startAgentIn(t, p.lb1, write("lb1.conf", vmacConf(150)), nil)
	p.ka = p.lb2.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("lb2.conf", vmacConf(100)),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = p.ka.KillChildren() })
	netnstest.WaitFor(t, "the VIP on lbnode's vrrp.51", 20*time.Second, func() bool { _, vip := vmacVIP(t, p.lb1); return vip })
	p.ka.WaitOutput(t, "(VI_1) Entering BACKUP STATE", 10*time.Second)
	time.Sleep(3 * time.Second)
	if _, vip := vmacVIP(t, p.lb1); !vip {
		t.Errorf("lbnode lost the VIP")
	}
	if vmac, vip := vmacVIP(t, p.lb2); !vmac || vip {
		t.Errorf("keepalived: VMAC %v, VIP %v; want its VMAC without the VIP", vmac, vip)
	}
	for _, ns := range []*netnstest.NS{p.lb1, p.lb2} {
		l, err := ns.Netlink(t).LinkByName("vrrp.51")
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Attrs().HardwareAddr.String(); got != "00:00:5e:00:01:33" {
			t.Errorf("%s: vrrp.51 has MAC %s", ns.Name, got)
		}
	}
	if countAfter(p.ka.Output(), "(VI_1) Entering BACKUP STATE", "(VI_1) Entering MASTER STATE") {
		t.Errorf("keepalived became MASTER; output:\n%s", p.ka.Output())
	}
}
