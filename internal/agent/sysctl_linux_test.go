package agent

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// In a network namespace other than the initial one, the conntrack table
// size is global and read-only: asking for no more than it holds is a
// warning, asking for more an error that says so; the namespace's own
// settings are written.
func TestIntegrationSysctlsInNamespace(t *testing.T) {
	netnstest.RequirePrivileged(t)
	if _, err := os.Stat("/proc/sys/net/netfilter/nf_conntrack_max"); err != nil {
		netnstest.Unavailable(t, "no conntrack in this kernel: "+err.Error())
	}
	ns := netnstest.New(t)
	var max int64
	var warnings []string
	var errBigger error
	var nonlocal string
	if err := ns.Do(func() error {
		b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max")
		if err != nil {
			return err
		}
		if max, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return err
		}
		warnings, err = applySysctls(osSysctlFiles{}, "/proc/sys", []config.Sysctl{
			{Key: "net.ipv4.ip_nonlocal_bind", Value: "1"},
			{Key: "net.nf_conntrack_max", Value: strconv.FormatInt(max-1, 10)},
		})
		if err != nil {
			return err
		}
		_, errBigger = applySysctls(osSysctlFiles{}, "/proc/sys", []config.Sysctl{{Key: "net.nf_conntrack_max", Value: strconv.FormatInt(max+1, 10)}})
		b, err = os.ReadFile("/proc/sys/net/ipv4/ip_nonlocal_bind")
		nonlocal = strings.TrimSpace(string(b))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if nonlocal != "1" {
		t.Errorf("ip_nonlocal_bind in the namespace = %s, want 1", nonlocal)
	}
	want := []string{"sysctl net.nf_conntrack_max = " + strconv.FormatInt(max-1, 10) + ": read-only in this network namespace; keeping " + strconv.FormatInt(max, 10) + ", which is larger"}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if errBigger == nil || !strings.Contains(errBigger.Error(), "read-only in this network namespace") {
		t.Errorf("asking for %d: %v, want an error saying the setting is read-only", max+1, errBigger)
	}
}
