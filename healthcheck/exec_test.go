package healthcheck

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// script writes an executable shell script into a temporary directory.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExec(t *testing.T) {
	tests := []struct {
		name string
		exec Exec
		want Result
	}{
		{"exit 0 is up", Exec{Argv: []string{script(t, "echo all good; exit 0")}}, Result{Up: true, Reason: "exit status 0: all good"}},
		{"exit 1 is down", Exec{Argv: []string{script(t, "echo no backend >&2; exit 1")}}, Result{Reason: "exit status 1: no backend"}},
		{"exit 7 is down", Exec{Argv: []string{script(t, "exit 7")}}, Result{Reason: "exit status 7"}},
		{"arguments are passed without a shell", Exec{Argv: []string{script(t, `[ "$1" = 'a b;c' ] && exit 0; exit 1`), "a b;c"}}, Result{Up: true, Reason: "exit status 0"}},
		{"dynamic exit 0 keeps the weight", Exec{Argv: []string{script(t, "exit 0")}, Dynamic: true}, Result{Up: true, Reason: "exit status 0"}},
		{"dynamic exit 1 is down", Exec{Argv: []string{script(t, "exit 1")}, Dynamic: true}, Result{Reason: "exit status 1"}},
		{"dynamic exit 12 is weight 10", Exec{Argv: []string{script(t, "exit 12")}, Dynamic: true}, Result{Up: true, Reason: "exit status 12", Weight: 10, HasWeight: true}},
		{"dynamic exit 255 is weight 253", Exec{Argv: []string{script(t, "exit 255")}, Dynamic: true}, Result{Up: true, Reason: "exit status 255", Weight: 253, HasWeight: true}},
		{"missing program is down", Exec{Argv: []string{"/nonexistent/lvskit-check"}}, Result{Reason: "program: fork/exec /nonexistent/lvskit-check: no such file or directory"}},
		{"empty argv is an error", Exec{}, Result{Reason: "healthcheck: exec argv is empty: want a program and its arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.exec.Check(context.Background())
			if diff := cmp.Diff(tt.want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Err" }, cmp.Ignore())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecHangingScriptKilledAtTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The script starts a child that would outlive it, then hangs itself.
	s := script(t, "sleep 60 & echo $! > "+pidFile+"; sleep 60")
	const timeout = 500 * time.Millisecond
	start := time.Now()
	got := (&Exec{Argv: []string{s}, Timeout: timeout}).Check(context.Background())
	el := time.Since(start)
	checkResult(t, got, resultWant{false, "program timed out after 500ms, process group killed"})
	if el < timeout || el > timeout+3*time.Second {
		t.Errorf("check took %v, want about %v", el, timeout)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The grandchild was killed with the group: once reaped by init it is
	// gone; until then it is a zombie.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH || isZombie(pid) {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d of the timed-out script is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}
