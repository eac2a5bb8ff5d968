//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
)

func TestMain(m *testing.M) {
	vmtest.Main(m, "ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_sh", "ip_vs_mh", "ip_vs_dh",
		"ip_vs_sed", "ip_vs_nq", "ip_vs_lblc", "ip_vs_lblcr", "ip_vs_fo", "ip_vs_ovf")
}

// routedNS is a fresh namespace with routes for the ranges of
// ipvstest.Rules.
func routedNS(t *testing.T) *netnstest.NS {
	t.Helper()
	ns := netnstest.New(t)
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "200.0.0.0/8"} {
		ns.Run(t, "ip", "route", "add", p, "dev", "lo")
	}
	ns.Run(t, "ip", "-6", "route", "add", "2001:db8::/32", "dev", "lo")
	return ns
}

func ipvsadmIn(t *testing.T, ns *netnstest.NS, stdin string, args ...string) string {
	t.Helper()
	cmd := ns.Command("ipvsadm", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ipvsadm %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func ipvsctlIn(t *testing.T, ns *netnstest.NS, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"-netns", ns.Name}, args...), strings.NewReader(stdin), &out, &errb, dialNetNS); code != 0 {
		t.Fatalf("ipvsctl %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

func TestVMIpvsctlMatchesIpvsadm(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ipvsadm")
	rules := ipvstest.Rules(70, 3)
	if n := strings.Count(rules, "\n"); n < 200 {
		t.Fatalf("only %d lines", n)
	}
	nsA, nsB := routedNS(t), routedNS(t)
	ipvsadmIn(t, nsA, rules, "-R")
	ipvsctlIn(t, nsB, rules, "restore")

	lines := func(s string) []string { return strings.Split(s, "\n") }
	for _, args := range [][]string{{"-Sn"}, {"-Ln", "--thresholds"}, {"-Ln", "--tun-info"}} {
		if diff := cmp.Diff(lines(ipvsadmIn(t, nsA, "", args...)), lines(ipvsadmIn(t, nsB, "", args...))); diff != "" {
			t.Errorf("ipvsadm %s after ipvsadm -R vs after ipvsctl restore (-ipvsadm +ipvsctl):\n%s", strings.Join(args, " "), diff)
		}
	}
	for _, c := range []struct {
		ipvsadm []string
		ipvsctl []string
	}{
		{[]string{"-Ln"}, []string{"list"}},
		{[]string{"-Ln", "--stats"}, []string{"list", "-stats"}},
		{[]string{"-Ln", "--stats", "--exact"}, []string{"list", "-stats", "-exact"}},
		{[]string{"-Ln", "--thresholds"}, []string{"list", "-thresholds"}},
		{[]string{"-Ln", "--persistent-conn"}, []string{"list", "--persistent-conn"}},
		{[]string{"-Ln", "--tun-info"}, []string{"list", "-tun-info"}},
		{[]string{"-Sn"}, []string{"save"}},
		{[]string{"-L", "--timeout"}, []string{"list", "-timeout"}},
	} {
		want := ipvsadmIn(t, nsB, "", c.ipvsadm...)
		got := ipvsctlIn(t, nsB, "", c.ipvsctl...)
		if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
			t.Errorf("ipvsadm %s vs ipvsctl %s (-ipvsadm +ipvsctl):\n%s", strings.Join(c.ipvsadm, " "), strings.Join(c.ipvsctl, " "), diff)
		}
	}

	// Sync daemons as ipvsadm lists them.
	nsB.Run(t, "ip", "link", "add", "sync0", "type", "veth", "peer", "name", "sync1")
	nsB.Run(t, "ip", "link", "set", "sync0", "up")
	ipvsadmIn(t, nsB, "", "--start-daemon", "backup", "--mcast-interface", "sync0", "--syncid", "4")
	if want, got := ipvsadmIn(t, nsB, "", "-L", "--daemon"), ipvsctlIn(t, nsB, "", "list", "-daemon"); want != got || got == "" {
		t.Errorf("ipvsadm -L --daemon %q, ipvsctl list -daemon %q", want, got)
	}

	// timeout, apply, flush.
	ipvsctlIn(t, nsB, "", "timeout", "1000", "0", "45")
	if got := ipvsadmIn(t, nsB, "", "-L", "--timeout"); !strings.HasPrefix(got, "Timeout (tcp tcpfin udp): 1000 ") || !strings.HasSuffix(got, " 45\n") {
		t.Errorf("after ipvsctl timeout 1000 0 45: %q", got)
	}
	file := filepath.Join(t.TempDir(), "rules")
	saved := ipvsadmIn(t, nsA, "", "-Sn")
	if err := os.WriteFile(file, []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ipvsctlIn(t, nsB, "", "apply", "-f", file); got != "# 0 operations applied\n" {
		t.Errorf("apply of the saved state: %q", got)
	}
	changed := strings.Replace(saved, " -w 1\n", " -w 42\n", 1)
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ipvsctlIn(t, nsB, "", "apply", "-f", file); strings.Count(got, "\n") != 2 || !strings.HasPrefix(got, "-e ") {
		t.Errorf("apply of one weight change: %q", got)
	}
	if diff := cmp.Diff(lines(changed), lines(ipvsadmIn(t, nsB, "", "-Sn"))); diff != "" {
		t.Errorf("ipvsadm -Sn after apply (-file +kernel):\n%s", diff)
	}
	ipvsctlIn(t, nsB, "", "flush")
	if got := ipvsadmIn(t, nsB, "", "-Sn"); got != "" {
		t.Errorf("after ipvsctl flush: %q", got)
	}
}

// TestIntegrationWithoutIPVS runs on a host whose kernel lacks IPVS: a
// clear error and exit 1.
func TestIntegrationWithoutIPVS(t *testing.T) {
	netnstest.RequirePrivileged(t)
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS")
	}
	ns := netnstest.New(t)
	var out, errb bytes.Buffer
	code := run([]string{"-netns", ns.Name, "list"}, strings.NewReader(""), &out, &errb, dialNetNS)
	if code != 1 || !strings.Contains(errb.String(), "IPVS is not available") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and an error saying IPVS is not available", code, out.String(), errb.String())
	}
}
