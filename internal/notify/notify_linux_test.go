package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
