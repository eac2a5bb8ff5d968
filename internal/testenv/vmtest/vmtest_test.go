package vmtest

import (
	"testing"
	"time"

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
	got := guestArgs([]string{"-test.paniconexit0", "-test.testlogfile=/tmp/x/testlog.txt", "-test.timeout=10m0s", "-test.gocoverdir", "/tmp/c", "-test.run=^TestVM"}, 17*time.Minute)
	want := []string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.run=^TestVM"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("guestArgs (-want +got):\n%s", diff)
	}
}

// The guest's tests time out before the VM is killed, so that a hang
// prints its goroutines.
func TestGuestArgsCapTimeout(t *testing.T) {
	for _, tc := range []struct {
		args, want []string
	}{
		{[]string{"-test.timeout=40m0s", "-test.v"}, []string{"-test.timeout=17m0s", "-test.v"}},
		{[]string{"-test.timeout", "1h"}, []string{"-test.timeout=17m0s"}},
		{[]string{"-test.timeout=0s"}, []string{"-test.timeout=17m0s"}},
		{[]string{"-test.run=^TestVM"}, []string{"-test.run=^TestVM", "-test.timeout=17m0s"}},
		{[]string{"-test.timeout=5m"}, []string{"-test.timeout=5m0s"}},
	} {
		got := guestArgs(tc.args, 17*time.Minute)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("guestArgs(%q) (-want +got):\n%s", tc.args, diff)
		}
		if d := testTimeout(got); d > 17*time.Minute || d == 0 {
			t.Errorf("testTimeout(%q) = %v", got, d)
		}
	}
}

func TestVMLimitFollowsTestTimeout(t *testing.T) {
	t.Setenv("LVSKIT_VM_TIMEOUT", "")
	if got := timeout([]string{"-test.v", "-test.timeout=40m0s"}); got != 40*time.Minute {
		t.Errorf("timeout with -test.timeout=40m0s = %v, want 40m", got)
	}
	if got := timeout(nil); got != 20*time.Minute {
		t.Errorf("timeout without -test.timeout = %v, want 20m", got)
	}
	t.Setenv("LVSKIT_VM_TIMEOUT", "7m")
	if got := timeout([]string{"-test.timeout=40m0s"}); got != 7*time.Minute {
		t.Errorf("timeout with LVSKIT_VM_TIMEOUT=7m = %v, want 7m", got)
	}
}
