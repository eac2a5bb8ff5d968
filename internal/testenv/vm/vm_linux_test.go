package vm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// TestVMRunPropagatesOutputAndExitCode boots the VM for real, with the
// host root cached (every other VM test uses the default).
func TestVMRunPropagatesOutputAndExitCode(t *testing.T) {
	netnstest.RequirePrivileged(t, "qemu-system-x86_64", "apt-get", "dpkg", "depmod")
	if _, err := os.Stat("/bin/busybox"); err != nil {
		netnstest.Unavailable(t, "busybox-static not installed")
	}
	// A working folder under the host's /tmp stays visible in the guest.
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/host-file", []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The program is named like the guest's own script, which it must
	// not replace.
	prog := dir + "/run.sh"
	script := `#!/bin/sh
echo "guest says $(id -u) $(uname -r) $1"; touch /etc/x 2>/dev/null && echo root-writable; echo "pwd $(pwd)"; cat host-file
awk '$2 == "/" && $3 == "9p" { print "root mount", $4 }' /proc/mounts; exit 7
`
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{
		Program:       prog,
		Args:          []string{"arg"},
		Dir:           dir,
		Output:        &out,
		Timeout:       10 * time.Minute,
		CacheHostRoot: true,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Logf("boot %v, total %v", res.Boot, res.Total)
	if res.ExitCode != 7 {
		t.Errorf("exit code = %d, want 7\n%s", res.ExitCode, out.String())
	}
	k, err := cached(CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"guest says 0 " + k.Version + " arg", "pwd " + dir, "from the host"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The host root is mounted with the cache asked for.
	if !regexp.MustCompile(`root mount ro,.*(cache=loose|loose)`).MatchString(out.String()) {
		t.Errorf("the host root is not mounted read-only with cache=loose:\n%s", out.String())
	}
	if strings.Contains(out.String(), "root-writable") {
		t.Errorf("the host root is writable in the guest:\n%s", out.String())
	}
	if res.Boot <= 0 || res.Boot > res.Total {
		t.Errorf("boot time %v not within total %v", res.Boot, res.Total)
	}
}

func TestVMRunTimesOut(t *testing.T) {
	netnstest.RequirePrivileged(t, "qemu-system-x86_64", "apt-get", "dpkg", "depmod")
	// The kernel is fetched first so that the timeout covers the boot only.
	if _, err := Prepare(context.Background(), CacheDir(), &bytes.Buffer{}); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	start := time.Now()
	_, err := Run(context.Background(), Config{
		Program: "/bin/sleep", Args: []string{"600"}, Timeout: 3 * time.Second, Output: &bytes.Buffer{},
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Run = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("a 3 s timeout took %v", d)
	}
}
