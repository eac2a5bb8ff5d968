package healthcheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// children lists the process's child processes, reaped or not.
func children(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "children"))
		if err == nil {
			kids = append(kids, strings.Fields(string(b))...)
		}
	}
	return kids
}

// On Linux, Exec forks with spawn; what it reports matches a run through
// os/exec in every case, failures to start included.
func TestSpawnMatchesOSExec(t *testing.T) {
	devNull, ok := spawnSupport()
	if !ok {
		t.Fatal("no raw spawn on this kernel (pidfds need Linux 5.3)")
	}
	dir := t.TempDir()
	big := strings.Repeat("x", 200<<10) // more than a pipe holds
	cases := []struct {
		name string
		e    Exec
	}{
		{"exit 0 with output", Exec{Argv: []string{script(t, "echo fine; echo more >&2")}}},
		{"exit 3 with stderr", Exec{Argv: []string{script(t, "echo broken >&2; exit 3")}}},
		{"closes its output, exits later", Exec{Argv: []string{script(t, "echo early; exec >&- 2>&-; sleep 0.3; exit 4")}}},
		{"killed by a signal", Exec{Argv: []string{script(t, "kill -TERM $$; sleep 5")}}},
		{"output larger than a pipe", Exec{Argv: []string{script(t, "printf '%s' "+big+"; exit 0")}}},
		{"found in PATH", Exec{Argv: []string{"true"}}},
		{"not in PATH", Exec{Argv: []string{"lvskit-no-such-program"}}},
		{"missing path", Exec{Argv: []string{"/nonexistent/lvskit-check"}}},
		{"not executable", Exec{Argv: []string{filepath.Join(dir, "plain")}}},
		{"environment and folder", Exec{Argv: []string{script(t, `echo "$LVSKIT_X $(pwd)"; [ "$LVSKIT_X" = y ]`)}, Env: []string{"LVSKIT_X=y"}, Dir: dir}},
		{"inherited environment, PWD", Exec{Argv: []string{script(t, `echo "$PWD"; [ "$PWD" = "`+dir+`" ]`)}, Dir: dir}},
		{"standard input is empty", Exec{Argv: []string{script(t, `read line && exit 1; exit 0`)}}},
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			o1, o2 := &headBuffer{max: 4096}, &headBuffer{max: 4096}
			c1, err1 := tt.e.spawn(ctx, o1, devNull)
			c2, err2 := tt.e.command(ctx, o2)
			if c1 != c2 || errText(err1) != errText(err2) || o1.buf.String() != o2.buf.String() {
				t.Errorf("spawn: %d, %v, output %q\nos/exec: %d, %v, output %q", c1, err1, o1.firstLine(), c2, err2, o2.firstLine())
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Every run, including those that fail to start and those killed at their
// timeout, closes its pipe and pidfd and reaps its program.
func TestExecClosesDescriptorsAndReaps(t *testing.T) {
	up := &Exec{Argv: []string{script(t, "echo up; exit 0")}}
	missing := &Exec{Argv: []string{"/nonexistent/lvskit-check"}}
	hang := &Exec{Argv: []string{script(t, "sleep 60")}, Timeout: 50 * time.Millisecond}
	up.Check(context.Background()) // the poller and /dev/null, opened once
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
		t.Errorf("open descriptors %d before 43 checks, %d after: pipes or pidfds leak", before, after)
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("children left unreaped: %v", kids)
	}
}

// A context canceled while the program runs ends the wait at once.
func TestExecCanceledWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := (&Exec{Argv: []string{script(t, "sleep 60")}, Timeout: time.Minute}).Check(ctx)
	if r.Up || !strings.Contains(r.Reason, "canceled") {
		t.Fatalf("canceled check: %+v", r)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("check returned %v after starting, long after its cancel at 100ms", el)
	}
}
