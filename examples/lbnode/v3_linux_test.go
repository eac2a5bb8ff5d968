package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

// v3Conf is a keepalived.conf with two VRRPv3 instances on eth1, 100 ms
// adverts: VI_4 (VRID 1) for an IPv4 VIP and VI_6 (VRID 2) for an IPv6
// one, both on eth0.
func v3Conf(prio int) string {
	inst := func(name string, vrid int, vip string) string {
		return fmt.Sprintf("vrrp_instance %s {\n\tstate BACKUP\n\tinterface eth1\n\tvirtual_router_id %d\n\tpriority %d\n\tadvert_int 0.1\n\tvirtual_ipaddress {\n\t\t%s dev eth0\n\t}\n}\n", name, vrid, prio, vip)
	}
	return "global_defs {\n\trouter_id lvskit_test\n\tvrrp_version 3\n}\n" +
		inst("VI_4", 1, "192.168.0.100/24") + inst("VI_6", 2, "fd00::100/64")
}

var v3VIPs = []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24"), netip.MustParsePrefix("fd00::100/64")}

// holds reports which of v3VIPs ns has on eth0.
func holds(t *testing.T, ns *netnstest.NS) [2]bool {
	t.Helper()
	nl := ns.Netlink(t)
	l, err := nl.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got [2]bool
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		for i, v := range v3VIPs {
			if ip.Unmap() == v.Addr() {
				got[i] = true
			}
		}
	}
	return got
}

// TestIntegrationLbnodeV3MixedWithKeepalived runs one keepalived.conf with
// a VRRPv3 IPv4 instance and a VRRPv3 IPv6 instance (100 ms adverts) on two
// nodes: keepalived 2.2.7 on lb1 at priority 100, lbnode on lb2 at 150.
// lbnode preempts both instances, keepalived stays BACKUP for both (no
// split brain, checked for two seconds); lbnode killed with -9, keepalived
// takes both VIPs; lbnode back, it takes them again; lbnode stopped with
// SIGTERM (priority 0), keepalived takes them at once.
func TestIntegrationLbnodeV3MixedWithKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "sysctl")
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	tp.Bridge("lan")
	var hs []*netnstest.NS
	for i := range 2 {
		h := tp.Host(fmt.Sprintf("lb%d", i+1))
		h.Run(t, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		tp.Connect(h, "eth1", "svc", fmt.Sprintf("172.16.0.%d/24", i+1))
		tp.Connect(h, "eth0", "lan", fmt.Sprintf("192.168.0.%d/24", 11+i), fmt.Sprintf("fd00::%d/64", 11+i))
		hs = append(hs, h)
	}
	// The IPv6 adverts leave from eth1's link-local address.
	for _, h := range hs {
		netnstest.WaitFor(t, h.Name+"'s link-local address on eth1", 10*time.Second, func() bool {
			out := h.Run(t, "ip", "-6", "addr", "show", "dev", "eth1", "scope", "link")
			return strings.Contains(out, "fe80::") && !strings.Contains(out, "tentative")
		})
	}
	dir := t.TempDir()
	write := func(name, conf string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	kaConf, lbConf := write("lb1.conf", v3Conf(100)), write("lb2.conf", v3Conf(150))
	ka := hs[0].Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", kaConf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	ka.WaitOutput(t, "(VI_6) Entering MASTER STATE", 30*time.Second)
	ka.WaitOutput(t, "(VI_4) Entering MASTER STATE", 30*time.Second)

	startLbnode := func() *netnstest.Proc {
		return hs[1].Start(t, "env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", lbConf)
	}
	holder := func(what string, want int) {
		t.Helper()
		netnstest.WaitFor(t, fmt.Sprintf("lb%d holding both VIPs %s", want+1, what), 10*time.Second, func() bool {
			return holds(t, hs[want]) == [2]bool{true, true} && holds(t, hs[1-want]) == [2]bool{}
		})
	}
	lb := startLbnode()
	holder("after lbnode preempted keepalived", 1)
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		if a, b := holds(t, hs[0]), holds(t, hs[1]); a != [2]bool{} || b != [2]bool{true, true} {
			t.Fatalf("after the preemption: lb1 (keepalived) holds %v, lb2 (lbnode) %v; want lbnode alone", a, b)
		}
	}
	if out := lb.Output(); strings.Count(out, "to=MASTER") != 2 || strings.Contains(out, "level=ERROR") {
		t.Errorf("lbnode: want two transitions to MASTER and no error:\n%s", out)
	}

	// kill -9: keepalived takes both after Master_Down_Interval.
	if err := syscall.Kill(-lb.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	netnstest.WaitFor(t, "lb1 (keepalived) holding both VIPs after lbnode was killed", 10*time.Second, func() bool {
		return holds(t, hs[0]) == [2]bool{true, true}
	})
	// A killed lbnode leaves its VIPs behind: remove them, as a restart of
	// the node would.
	for _, v := range v3VIPs {
		hs[1].Run(t, "ip", "addr", "del", v.String(), "dev", "eth0")
	}

	// Back: it preempts again; then SIGTERM sends priority 0.
	lb = startLbnode()
	holder("after lbnode restarted", 1)
	if err := lb.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	holder("after lbnode's graceful stop", 0)
	for _, vi := range []string{"VI_4", "VI_6"} {
		if !strings.Contains(ka.Output(), "("+vi+") Backup received priority 0 advertisement") {
			t.Errorf("keepalived did not take %s on lbnode's priority-0 advert:\n%s", vi, ka.Output())
		}
	}
}
