package vmtest

import (
	"os"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

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
