package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
)

// The agent waits for a startup or shutdown script to end, and no longer
// than its timeout: a script still running then is killed.
func TestRunStartStopScriptWaitsBounded(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	a := &Agent{env: Env{}.withDefaults()}
	log := slog.New(slog.DiscardHandler)

	start := time.Now()
	a.runStartStopScript("startup", config.StartStopScript{Command: config.Command{"/bin/sh", "-c", "sleep 0.3; echo done > " + out}, Timeout: 5 * time.Second}, log)
	if b, err := os.ReadFile(out); err != nil || string(b) != "done\n" {
		t.Errorf("after the script: %q, %v; want it to have run to its end", b, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("returned after %v, before the script ended", took)
	}

	start = time.Now()
	a.runStartStopScript("shutdown", config.StartStopScript{Command: config.Command{"/bin/sh", "-c", "sleep 30"}, Timeout: 300 * time.Millisecond}, log)
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("a script sleeping 30 s with a 300 ms timeout returned after %v", took)
	}

	start = time.Now()
	a.runStartStopScript("startup", config.StartStopScript{}, log)
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("no script took %v", took)
	}
}
