package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// runAsMain makes the test binary act as lvscheck itself, so that the VM
// test can hand it to keepalived without building anything in the guest.
const runAsMain = "LVSCHECK_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMain) == "1" {
		main()
	}
	vmtest.Main(m, "ip_vs", "ip_vs_wlc")
}

// TestVMKeepalivedMiscCheck runs keepalived's health checker with lvscheck
// as the MISC_CHECK of the article's DNS service, in place of its
// "nc -zn -u IP 53", and watches keepalived
// add the real server to IPVS when lvscheck says up and remove it when the
// DNS server goes away.
func TestVMKeepalivedMiscCheck(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm")
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	lb, dns := tp.Host("lb"), tp.Host("dns")
	tp.Connect(lb, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(dns, "eth0", "svc", "172.16.0.201/24")
	for i := 0; ; i++ { // bounded wait for the link
		if err := lb.Command("ping", "-c1", "-W1", "172.16.0.201").Run(); err == nil {
			break
		} else if i == 20 {
			t.Fatalf("dns host unreachable: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	listen := func() net.PacketConn {
		var pc net.PacketConn
		if err := dns.Do(func() (err error) {
			pc, err = net.ListenPacket("udp", "172.16.0.201:53")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		serveDNS(t, pc)
		return pc
	}
	pc := listen()

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "lvscheck")
	if err := os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\n%s=1 exec %s \"$@\"\n", runAsMain, exe)), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`global_defs {
    router_id lvskit_lvscheck
}
virtual_server 192.168.0.100 53 {
    delay_loop 1
    lb_algo wlc
    lb_kind DR
    protocol UDP
    alpha
    real_server 172.16.0.201 53 {
        weight 1
        MISC_CHECK {
            misc_path "%s -timeout 2s udp 172.16.0.201:53"
            misc_timeout 5
        }
    }
}
`, wrapper)), 0o644); err != nil {
		t.Fatal(err)
	}
	ka := lb.Start(t, "keepalived", "-C", "-n", "-l", "-D", "-f", conf,
		"-p", filepath.Join(dir, "ka.pid"), "-c", filepath.Join(dir, "ka-check.pid"))

	present := func() bool {
		out, _ := lb.Command("ipvsadm", "-Ln", "-u", "192.168.0.100:53").CombinedOutput()
		return strings.Contains(string(out), "172.16.0.201:53")
	}
	waitFor := func(want bool, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for present() != want {
			if time.Now().After(deadline) {
				out, _ := lb.Command("ipvsadm", "-Ln").CombinedOutput()
				t.Fatalf("%s: not seen within 20s\nipvsadm -Ln:\n%s\nkeepalived:\n%s", what, out, ka.Output())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// alpha: the real server starts failed and is added after lvscheck
	// succeeds.
	waitFor(true, "real server added after a successful lvscheck")
	pc.Close()
	waitFor(false, "real server removed once the DNS server is gone")
	listen()
	waitFor(true, "real server added back when the DNS server returns")
	t.Logf("keepalived log:\n%s", ka.Output())
}
