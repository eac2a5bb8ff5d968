package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/vishvananda/netlink"
)

func buildVrrpd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vrrpd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func vipOn(t *testing.T, ns *netnstest.NS, ifname, ip string) bool {
	t.Helper()
	nl := ns.Netlink(t)
	l, err := nl.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IP.String() == ip {
			return true
		}
	}
	return false
}

// scrape fetches /metrics from addr inside ns (the socket is opened there).
func scrape(t *testing.T, ns *netnstest.NS, addr string) string {
	t.Helper()
	var body string
	err := ns.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var sb strings.Builder
		_, err = bufio.NewReader(resp.Body).WriteTo(&sb)
		body = sb.String()
		return err
	})
	if err != nil {
		t.Fatalf("scraping %s in %s: %v", addr, ns.Name, err)
	}
	return body
}

// pair builds the article's two balancers: eth1 on svc, eth0 on lan.
func pair(t *testing.T) []*netnstest.NS {
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	tp.Bridge("lan")
	var hs []*netnstest.NS
	for i := range 2 {
		h := tp.Host(fmt.Sprintf("lb%d", i+1))
		tp.Connect(h, "eth1", "svc", fmt.Sprintf("172.16.0.%d/24", i+1))
		tp.Connect(h, "eth0", "lan", fmt.Sprintf("192.168.0.%d/24", 11+i))
		hs = append(hs, h)
	}
	return hs
}

func TestIntegrationVrrpdKilledMasterIsReplaced(t *testing.T) {
	netnstest.RequirePrivileged(t, "go")
	bin := buildVrrpd(t)
	hs := pair(t)
	args := func(prio string) []string {
		return []string{"-interface", "eth1", "-vrid", "7", "-priority", prio, "-vip", "192.168.0.100/24", "-vip-interface", "eth0"}
	}
	m := hs[0].Start(t, bin, args("200")...)
	m.WaitOutput(t, "to=MASTER", 30*time.Second)
	b := hs[1].Start(t, bin, args("100")...)
	b.WaitOutput(t, "to=BACKUP", 30*time.Second)
	time.Sleep(2 * time.Second)
	// kill -9: no priority 0 advert; the backup waits Master_Down_Interval.
	if err := m.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.WaitOutput(t, "to=MASTER", 20*time.Second)
	if !strings.Contains(b.Output(), `reason="master down timer expired"`) {
		t.Errorf("backup log lacks the reason:\n%s", b.Output())
	}
	netnstest.WaitFor(t, "VIP on lb2", 10*time.Second, func() bool { return vipOn(t, hs[1], "eth0", "192.168.0.100") })
}

func TestIntegrationVrrpdPair(t *testing.T) {
	netnstest.RequirePrivileged(t, "go")
	bin := buildVrrpd(t)
	dir := t.TempDir()
	notify := filepath.Join(dir, "notify")
	if err := os.WriteFile(notify, []byte("#!/bin/sh\necho \"$@\" >> \"$0.$2.log\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hs := pair(t)
	args := func(prio int, name string) []string {
		return []string{"-interface", "eth1", "-vrid", "1", "-priority", fmt.Sprint(prio),
			"-vip", "192.168.0.100/24", "-vip-interface", "eth0", "-auth-pass", "secret",
			"-notify", notify + "-" + name, "-metrics", "127.0.0.1:9101"}
	}
	for _, n := range []string{"lb1", "lb2"} {
		if err := os.Symlink(notify, notify+"-"+n); err != nil {
			t.Fatal(err)
		}
	}
	m := hs[0].Start(t, bin, args(150, "lb1")...)
	b := hs[1].Start(t, bin, args(100, "lb2")...)
	m.WaitOutput(t, "to=MASTER", 30*time.Second)
	b.WaitOutput(t, "to=BACKUP", 30*time.Second)
	netnstest.WaitFor(t, "VIP on lb1", 10*time.Second, func() bool { return vipOn(t, hs[0], "eth0", "192.168.0.100") })
	if vipOn(t, hs[1], "eth0", "192.168.0.100") {
		t.Errorf("backup holds the VIP")
	}
	time.Sleep(2 * time.Second)
	body := scrape(t, hs[0], "127.0.0.1:9101")
	for _, want := range []string{`lvskit_vrrp_state{instance="VI_1",state="MASTER",vrid="1"} 1`, `lvskit_vrrp_became_master_total{instance="VI_1",vrid="1"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("lb1 metrics lack %q:\n%s", want, body)
		}
	}
	if body := scrape(t, hs[1], "127.0.0.1:9101"); !strings.Contains(body, `lvskit_vrrp_state{instance="VI_1",state="BACKUP",vrid="1"} 1`) ||
		strings.Contains(body, `lvskit_vrrp_adverts_received_total{instance="VI_1",vrid="1"} 0`) {
		t.Errorf("lb2 metrics:\n%s", body)
	}

	// SIGTERM: priority 0, VIP removed, exit 0; the backup takes over.
	if err := m.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(20 * time.Second); err != nil {
		t.Fatalf("vrrpd after SIGTERM: %v\n%s", err, m.Output())
	}
	if vipOn(t, hs[0], "eth0", "192.168.0.100") {
		t.Errorf("stopped vrrpd left the VIP")
	}
	b.WaitOutput(t, "to=MASTER", 20*time.Second)
	if !strings.Contains(b.Output(), "priority 0 from 172.16.0.1") {
		t.Errorf("backup log lacks the reason:\n%s", b.Output())
	}
	netnstest.WaitFor(t, "VIP on lb2", 10*time.Second, func() bool { return vipOn(t, hs[1], "eth0", "192.168.0.100") })
	if err := b.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(20 * time.Second); err != nil {
		t.Fatalf("vrrpd after SIGINT: %v", err)
	}
	for name, want := range map[string]string{
		"lb1": "INSTANCE VI_1 BACKUP 150\nINSTANCE VI_1 MASTER 150\nINSTANCE VI_1 STOP 150\n",
		"lb2": "INSTANCE VI_1 BACKUP 100\nINSTANCE VI_1 MASTER 100\nINSTANCE VI_1 STOP 100\n",
	} {
		got, err := os.ReadFile(notify + "-" + name + ".VI_1.log")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("%s notify calls (-want +got):\n%s", name, diff)
		}
	}
}
