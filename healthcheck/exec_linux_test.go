package healthcheck

import (
	"context"
	"os"
	"testing"
	"time"
)

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Exec waits for its program through a pidfd; every run, including those
// that fail to start and those killed at their timeout, closes it.
func TestExecClosesPidfds(t *testing.T) {
	up := &Exec{Argv: []string{script(t, "exit 0")}}
	missing := &Exec{Argv: []string{"/nonexistent/lvskit-check"}}
	hang := &Exec{Argv: []string{script(t, "sleep 60")}, Timeout: 50 * time.Millisecond}
	up.Check(context.Background()) // the runtime's poller opens its own descriptors once
	before := openFDs(t)
	for range 20 {
		if r := up.Check(context.Background()); !r.Up {
			t.Fatalf("up: %+v", r)
		}
		if r := missing.Check(context.Background()); r.Up {
			t.Fatalf("missing: %+v", r)
		}
	}
	for range 3 {
		if r := hang.Check(context.Background()); r.Up {
			t.Fatalf("hang: %+v", r)
		}
	}
	if after := openFDs(t); after > before {
		t.Errorf("open descriptors %d before 43 checks, %d after: pidfds leak", before, after)
	}
}

// A context canceled while the program runs ends the wait at once.
func TestExecCanceledWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := (&Exec{Argv: []string{script(t, "sleep 60")}, Timeout: time.Minute}).Check(ctx)
	if r.Up {
		t.Fatalf("canceled check up: %+v", r)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("check returned %v after starting, long after its cancel at 100ms", el)
	}
}
