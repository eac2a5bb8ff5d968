package netnstest

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// RequireEnv is the environment variable that turns a missing prerequisite of
// a privileged test from a skip into a failure.
const RequireEnv = "LVSKIT_REQUIRE_PRIVILEGED"

// Required reports whether privileged tests must run rather than skip.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// RequirePrivileged stops t unless it runs as root on Linux with every
// program in programs on PATH ("ip" is always required). It skips with the
// reason, or fails when [Required] is true.
func RequirePrivileged(t testing.TB, programs ...string) {
	t.Helper()
	if reason := missing(programs); reason != "" {
		Unavailable(t, reason)
	}
}

// Unavailable stops t because a prerequisite is missing: a skip naming the
// reason, or a failure when [Required] is true.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("privileged test cannot run: %s (%s=1)", reason, RequireEnv)
	}
	t.Skipf("privileged test skipped: %s (set %s=1 to fail instead)", reason, RequireEnv)
}

func missing(programs []string) string {
	if runtime.GOOS != "linux" {
		return "needs Linux, running on " + runtime.GOOS
	}
	if os.Geteuid() != 0 {
		return "needs root"
	}
	var absent []string
	for _, p := range append([]string{"ip"}, programs...) {
		if _, err := exec.LookPath(p); err != nil {
			absent = append(absent, p)
		}
	}
	if len(absent) > 0 {
		return "programs not on PATH: " + strings.Join(absent, ", ")
	}
	return ""
}
