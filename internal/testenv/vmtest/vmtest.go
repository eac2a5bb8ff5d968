package vmtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vm"
)

// InGuest reports whether this process runs inside an lvskit test VM.
func InGuest() bool { return vm.InGuest() }

// why is the reason the VM tier cannot run here, set by Main.
var why string

// Main runs the package's tests, inside a VM when they need one; see the
// package documentation. modules are loaded in the guest (or natively)
// before the tests start.
func Main(m *testing.M, modules ...string) {
	if InGuest() || !selectsVMTests(os.Args[1:]) {
		os.Exit(m.Run())
	}
	if vm.HostHasIPVS(modules) {
		os.Exit(m.Run())
	}
	if os.Geteuid() != 0 {
		why = "the host kernel has no IPVS and booting the test VM needs root"
		os.Exit(m.Run())
	}
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		os.Exit(1)
	}
	cfg := vm.Config{
		Program: os.Args[0],
		Args:    guestArgs(os.Args[1:]),
		Dir:     wd,
		Modules: modules,
		Timeout: timeout(),
	}
	for _, name := range []string{netnstest.RequireEnv, "LVSKIT_VERBOSE"} {
		if v, ok := os.LookupEnv(name); ok {
			cfg.Env = append(cfg.Env, name+"="+v)
		}
	}
	fmt.Fprintf(os.Stderr, "vmtest: the host kernel has no IPVS; running %s in a VM\n", os.Args[0])
	res, err := vm.Run(context.Background(), cfg)
	if err != nil {
		why = "the test VM could not run: " + err.Error()
		if netnstest.Required() {
			fmt.Fprintln(os.Stderr, "vmtest:", why)
			os.Exit(1)
		}
		// Run on the host so that Require skips each test with the reason.
		os.Exit(m.Run())
	}
	fmt.Fprintf(os.Stderr, "vmtest: guest exit %d, boot %v, total %v\n", res.ExitCode, res.Boot.Round(time.Millisecond), res.Total.Round(time.Millisecond))
	os.Exit(res.ExitCode)
}

// Require stops t unless IPVS is available to it: skipped with the reason,
// or failed under LVSKIT_REQUIRE_PRIVILEGED=1.
func Require(t testing.TB) {
	t.Helper()
	netnstest.RequirePrivileged(t)
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		return
	}
	reason := why
	if reason == "" {
		reason = "no IPVS in this kernel (/proc/net/ip_vs missing); run the TestVM tests with -run '^TestVM' so that they boot the test VM"
	}
	netnstest.Unavailable(t, reason)
}

// selectsVMTests reports whether the -test.run pattern in args names TestVM
// tests.
func selectsVMTests(args []string) bool {
	for i, a := range args {
		var pat string
		switch {
		case strings.HasPrefix(a, "-test.run="):
			pat = strings.TrimPrefix(a, "-test.run=")
		case a == "-test.run" && i+1 < len(args):
			pat = args[i+1]
		default:
			continue
		}
		return strings.Contains(pat, "TestVM")
	}
	return false
}

// guestArgs drops the arguments that name host files the guest cannot
// write (go test's log for its cache, coverage output).
func guestArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-test.testlogfile") || strings.HasPrefix(a, "-test.gocoverdir") {
			if !strings.Contains(a, "=") {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// timeout bounds one VM run: LVSKIT_VM_TIMEOUT, or 20 minutes.
func timeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("LVSKIT_VM_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 20 * time.Minute
}
