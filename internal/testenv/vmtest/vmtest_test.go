package vmtest

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

func TestMain(m *testing.M) { Main(m, "ip_vs", "ip_vs_rr", "ip_vs_wlc") }

func TestSelectsVMTests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-test.run=^TestVM"}, true},
		{[]string{"-test.v", "-test.run", "^TestVMFoo$"}, true},
		{[]string{"-test.run=^TestIntegration"}, false},
		{[]string{"-test.skip=TestVM"}, false},
	} {
		if got := selectsVMTests(tc.args); got != tc.want {
			t.Errorf("selectsVMTests(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestGuestArgsDropHostPaths(t *testing.T) {
	got := guestArgs([]string{"-test.paniconexit0", "-test.testlogfile=/tmp/x/testlog.txt", "-test.timeout=10m0s", "-test.gocoverdir", "/tmp/c", "-test.run=^TestVM"})
	want := []string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.run=^TestVM"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("guestArgs (-want +got):\n%s", diff)
	}
}

// TestVMIPVSAvailable proves the VM tier: IPVS loads, and ipvsadm creates
// and lists a service inside a network namespace of the guest.
func TestVMIPVSAvailable(t *testing.T) {
	Require(t)
	netnstest.RequirePrivileged(t, "ipvsadm")
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Fatalf("/proc/net/ip_vs: %v", err)
	}
	ns := netnstest.New(t)
	ns.Run(t, "ipvsadm", "-A", "-t", "10.1.2.3:80", "-s", "wlc")
	out := ns.Run(t, "ipvsadm", "-Ln")
	if !strings.Contains(out, "TCP  10.1.2.3:80 wlc") {
		t.Fatalf("ipvsadm -Ln in the namespace does not list the service:\n%s", out)
	}
	// The service exists in that namespace only.
	if root, err := os.ReadFile("/proc/net/ip_vs"); err != nil || strings.Contains(string(root), "0A010203:0050") {
		t.Fatalf("service leaked into the initial namespace (err %v):\n%s", err, root)
	}
}
