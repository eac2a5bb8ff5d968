package vm

import (
	"bytes"
	"compress/gzip"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestShellQuoteRoundTripsThroughSh(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	args := []string{"plain", "-test.run=^TestVM$", "with space", "it's", `$HOME "x" \n`, "", "a*b"}
	var q []string
	for _, a := range args {
		q = append(q, shellQuote(a))
	}
	script := "set -- " + strings.Join(q, " ") + `; for a in "$@"; do printf '%s\n' "[$a]"; done`
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, a := range args {
		want = append(want, "["+a+"]")
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")); diff != "" {
		t.Errorf("arguments after quoting (-want +got):\n%s", diff)
	}
}

func TestParseExit(t *testing.T) {
	for _, tc := range []struct {
		line string
		code int
		ok   bool
	}{
		{"LVSKIT_VM_EXIT=0", 0, true},
		{"LVSKIT_VM_EXIT=3  ", 3, true},
		{" LVSKIT_VM_EXIT=125", 125, true},
		{"echo LVSKIT_VM_EXIT=$rc", 0, false},
		{"prefixLVSKIT_VM_EXIT=1", 0, false},
		{"LVSKIT_VM_EXIT=", 0, false},
		{"some test output", 0, false},
	} {
		code, ok := parseExit(tc.line)
		if code != tc.code || ok != tc.ok {
			t.Errorf("parseExit(%q) = %d, %v; want %d, %v", tc.line, code, ok, tc.code, tc.ok)
		}
	}
}

func TestScanConsole(t *testing.T) {
	in := "\x1bc\x1b[?7l\x1b[2JSeaBIOS\r\nLVSKIT_VM_START\r\n=== RUN TestX\r\nPASS\r\nLVSKIT_VM_EXIT=0\r\n[ 1.0] reboot: Power down\r\n"
	var out bytes.Buffer
	booted := make(chan time.Time, 1)
	exit := make(chan int, 1)
	if err := scanConsole(strings.NewReader(in), &out, time.Now().Add(-2*time.Second), booted, exit); err != nil {
		t.Fatal(err)
	}
	want := "SeaBIOS\nvm: the guest booted in 2s and starts the program\n=== RUN TestX\nPASS\n[ 1.0] reboot: Power down\n"
	got := regexp.MustCompile(`booted in 2\.\d+s`).ReplaceAllString(out.String(), "booted in 2s")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("console copy (-want +got):\n%s", diff)
	}
	if len(booted) != 1 {
		t.Error("start marker not noticed")
	}
	if code := <-exit; code != 0 {
		t.Errorf("exit = %d, want 0", code)
	}
}

// TestCPIONewc checks the archive with cpio(1) where it is installed, and the
// header layout by hand otherwise.
func TestCPIONewc(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.Dir("bin")
	w.File("bin/hello", 0o755, []byte("hello\n"))
	w.CharDev("dev/console", 5, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("070701")) {
		t.Fatalf("archive starts with %q, want the newc magic", raw[:6])
	}
	if len(raw)%4 != 0 {
		t.Errorf("archive length %d is not 4-byte aligned", len(raw))
	}
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio(1) not installed; header checked by hand only")
	}
	cmd := exec.Command("cpio", "-t", "-v")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	for _, want := range []string{"drwxr-xr-x", "bin", "-rwxr-xr-x", "6", "bin/hello", "crw-------", "5,", "dev/console"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cpio -t -v output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunScriptBindsHostTmp(t *testing.T) {
	k := &Kernel{Version: "v", Root: "/k"}
	s := runScript(k, &Config{Dir: "/tmp/clone/internal/testenv/vm"}, []string{"/var/tmp/x/vm.test"})
	if want := "mkdir -p /tmp/clone && mount --bind /run/hosttmp/clone /tmp/clone\n"; !strings.Contains(s, want) {
		t.Errorf("run script lacks %q:\n%s", want, s)
	}
	if s := runScript(k, &Config{Dir: "/work/main"}, []string{"/x"}); strings.Contains(s, "hosttmp") {
		t.Errorf("run script binds /tmp for a folder outside it:\n%s", s)
	}
}

func TestRunScript(t *testing.T) {
	k := &Kernel{Version: "6.1.0-56-amd64", Root: "/var/cache/lvskit/vm/6.1.0-56-amd64"}
	s := runScript(k, &Config{Dir: "/work/my dir", Env: []string{"LVSKIT_REQUIRE_PRIVILEGED=1"}, Modules: []string{"ip_vs", "ip_vs_wlc"}},
		[]string{"/var/tmp/lvskit-vm-1/x.test", "-test.run=^TestVM"})
	for _, want := range []string{
		"export LVSKIT_REQUIRE_PRIVILEGED=1\n",
		"exec /sbin/modprobe -d /var/cache/lvskit/vm/6.1.0-56-amd64",
		"echo /run/modprobe > /proc/sys/kernel/modprobe\n",
		"/run/modprobe -a ip_vs ip_vs_wlc ",
		"(cd '/work/my dir' && exec /var/tmp/lvskit-vm-1/x.test '-test.run=^TestVM')\n",
		`echo "LVSKIT_VM_EXIT=$rc"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("run script lacks %q:\n%s", want, s)
		}
	}
}
