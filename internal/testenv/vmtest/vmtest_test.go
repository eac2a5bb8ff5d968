package vmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
