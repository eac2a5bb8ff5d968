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
	if InGuest() {
		watchGuest(os.Args[1:], os.Stderr)
		os.Exit(m.Run())
	}
	if !selectsVMTests(os.Args[1:]) {
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
	limit := timeout(os.Args[1:])
	cfg := vm.Config{
		Program: os.Args[0],
		Args:    guestArgs(os.Args[1:], max(limit-guestMargin, limit/2)),
		Dir:     wd,
		Modules: modules,
		Timeout: limit,
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

// guestMargin is how much sooner than the VM's own limit the tests in the
// guest time out: enough for the boot and for the guest to print what it
// was doing, which a VM killed on the host's side never tells.
const guestMargin = 3 * time.Minute

// guestArgs drops the arguments that name host files the guest cannot
// write (go test's log for its cache, coverage output), and lowers the
// tests' timeout to at most limit, so that a hung test panics with its
// goroutines inside the guest instead of the VM being killed silently.
func guestArgs(args []string, limit time.Duration) []string {
	var out []string
	timeoutSet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "-test.testlogfile", "-test.gocoverdir":
			if !hasVal {
				i++
			}
			continue
		case "-test.timeout":
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			d, err := time.ParseDuration(val)
			if err == nil && (d == 0 || d > limit) {
				d = limit
			}
			if err == nil {
				a = "-test.timeout=" + d.String()
				timeoutSet = true
			}
		}
		out = append(out, a)
	}
	if !timeoutSet && limit > 0 {
		out = append(out, "-test.timeout="+limit.String())
	}
	return out
}

// timeout bounds one VM run: LVSKIT_VM_TIMEOUT, or else the tests'
// -test.timeout (go test kills the binary a minute after it, which leaves
// the time to report), or else 20 minutes.
func timeout(args []string) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("LVSKIT_VM_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	if d := testTimeout(args); d > 0 {
		return d
	}
	return 20 * time.Minute
}
