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

func TestKeepalivedArgs(t *testing.T) {
	if got := strings.Join(KeepalivedArgs("VI_1", "MASTER", 102), " "); got != "INSTANCE VI_1 MASTER 102" {
		t.Errorf("KeepalivedArgs = %q", got)
	}
}
