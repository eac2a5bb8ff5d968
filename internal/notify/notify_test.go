package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunsInOrderWithoutAShell(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := filepath.Join(dir, "prog")
	// Each run sleeps a little so that a reordering would show.
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 0.0$(($$ % 5))\necho \"$*\" >> "+log+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := New(5*time.Second, nil, nil)
	var want []string
	for i, st := range []string{"BACKUP", "MASTER", "BACKUP", "FAULT", "STOP"} {
		r.Enqueue([]string{script, "INSTANCE", "vi 1; rm -rf /", st, string(rune('0' + i))})
		want = append(want, "INSTANCE vi 1; rm -rf / "+st+" "+string(rune('0'+i)))
	}
	r.Close(20 * time.Second)
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.TrimSpace(string(got)); g != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant:\n%s", g, strings.Join(want, "\n"))
	}
}

func TestTimeoutKillsTheProgramAndItsChildren(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child")
	script := filepath.Join(dir, "hang")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 60 &\necho $! > "+pidFile+"\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(dir, "done")
	r := New(300*time.Millisecond, nil, nil)
	start := time.Now()
	r.Enqueue([]string{script})
	r.Enqueue([]string{"touch", done}) // runs once the hung one is killed
	r.Close(20 * time.Second)
	if _, err := os.Stat(done); err != nil {
		t.Fatalf("the program after a hung one did not run: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 300 ms timeout took %v", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	// The child's /proc entry disappears once it is killed and reaped.
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %s of the hung program still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeepalivedArgs(t *testing.T) {
	if got := strings.Join(KeepalivedArgs("VI_1", "MASTER", 102), " "); got != "INSTANCE VI_1 MASTER 102" {
		t.Errorf("KeepalivedArgs = %q", got)
	}
}
