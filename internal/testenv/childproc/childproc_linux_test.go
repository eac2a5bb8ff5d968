package childproc

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartedChildSurvivesThreadExits: threads that end (as a goroutine
// locked to its thread does when it returns) must not take the child with
// them, although it dies with its parent. wait parks first, as one that
// reads the child's output does, leaving its thread free for other work.
func TestStartedChildSurvivesThreadExits(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	release := make(chan struct{})
	done := make(chan struct{})
	if err := Start(cmd, func() {
		<-release
		_ = cmd.Wait()
		close(done)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		close(release)
		<-done
	})
	if sig := cmd.SysProcAttr.Pdeathsig; sig != syscall.SIGKILL {
		t.Fatalf("Pdeathsig = %v, want SIGKILL", sig)
	}
	for i := 0; i < 200; i++ {
		ended := make(chan struct{})
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			close(ended)
		}()
		<-ended
	}
	time.Sleep(100 * time.Millisecond)
	// Signal 0 probes the child, which Wait has not reaped: a child killed
	// by its parent-death signal is a zombie, seen in /proc as state Z.
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("child gone after threads ended: %v", err)
	}
	if st := procState(t, cmd.Process.Pid); st == "Z" {
		t.Fatal("child killed after threads ended")
	}
}

// procState returns the state letter of /proc/PID/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}
