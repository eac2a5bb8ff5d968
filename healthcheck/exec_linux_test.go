package healthcheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// What Exec reports for programs that end in every way: the exit status
// and the first line of standard output and error, which share one pipe,
// or why the program did not run.
func TestExecOutcomes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 200<<10) // more than a pipe holds
	cases := []struct {
		name string
		e    Exec
		want Result
	}{
		{"output and error interleave in one pipe", Exec{Argv: []string{script(t, "echo fine >&2; echo more")}}, Result{Up: true, Reason: "exit status 0: fine"}},
		{"closes its output, exits later", Exec{Argv: []string{script(t, "echo early; exec >&- 2>&-; sleep 0.3; exit 4")}}, Result{Reason: "exit status 4: early"}},
		{"killed by a signal", Exec{Argv: []string{script(t, "kill -TERM $$; sleep 5")}}, Result{Reason: "program: signal: terminated"}},
		{"output larger than a pipe", Exec{Argv: []string{script(t, "printf '%s' "+big+"; exit 0")}}, Result{Up: true, Reason: "exit status 0: " + big[:200] + "..."}},
		{"found in PATH", Exec{Argv: []string{"true"}}, Result{Up: true, Reason: "exit status 0"}},
		{"not in PATH", Exec{Argv: []string{"lvskit-no-such-program"}}, Result{Reason: `program: exec: "lvskit-no-such-program": executable file not found in $PATH`}},
		{"not executable", Exec{Argv: []string{filepath.Join(dir, "plain")}}, Result{Reason: "program: fork/exec " + filepath.Join(dir, "plain") + ": permission denied"}},
		{"missing folder", Exec{Argv: []string{"/bin/true"}, Dir: filepath.Join(dir, "none")}, Result{Reason: "program: fork/exec /bin/true: no such file or directory"}},
		{"environment and folder", Exec{Argv: []string{script(t, `echo "$LVSKIT_X $(pwd)"; [ "$LVSKIT_X" = y ]`)}, Env: []string{"LVSKIT_X=y"}, Dir: dir}, Result{Up: true, Reason: "exit status 0: y " + dir}},
		{"inherited environment, PWD", Exec{Argv: []string{script(t, `echo "$PWD"; [ "$PWD" = "`+dir+`" ]`)}, Dir: dir}, Result{Up: true, Reason: "exit status 0: " + dir}},
		{"standard input is empty", Exec{Argv: []string{script(t, `read line && exit 1; echo eof; exit 0`)}}, Result{Up: true, Reason: "exit status 0: eof"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := tt.e.Check(ctx)
			got.Err = nil
			if got != tt.want {
				t.Errorf("Check = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A program that exits while a child it left running holds its output open
// is judged by its exit status, with the output written until then, about
// execWaitDelay after it exited; the child is left running.
func TestExecChildHoldsOutput(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	e := &Exec{Argv: []string{script(t, "echo started; sleep 30 & echo $! > "+pidFile+"; exit 0")}, Timeout: 10 * time.Second}
	start := time.Now()
	r := e.Check(context.Background())
	el := time.Since(start)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	alive := syscall.Kill(pid, 0) == nil
	syscall.Kill(pid, syscall.SIGKILL)
	checkResult(t, r, resultWant{true, "exit status 0: started"})
	if el < execWaitDelay || el > execWaitDelay+5*time.Second {
		t.Errorf("check took %v, want about %v", el, execWaitDelay)
	}
	if !alive {
		t.Error("the child left running was killed: only a timeout kills the group")
	}
}

// A program that exited in time, but whose child holds its output open
// past the check's timeout, is down as timed out; its group is not killed,
// as it was not running at the timeout.
func TestExecChildHoldsOutputPastTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	e := &Exec{Argv: []string{script(t, "sleep 30 & echo $! > "+pidFile+"; exit 0")}, Timeout: 300 * time.Millisecond}
	r := e.Check(context.Background())
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	alive := syscall.Kill(pid, 0) == nil
	syscall.Kill(pid, syscall.SIGKILL)
	checkResult(t, r, resultWant{false, "program timed out after 300ms"})
	if strings.Contains(r.Reason, "killed") || !alive {
		t.Errorf("reason %q, child alive %v: the group was killed though the program had exited", r.Reason, alive)
	}
}

// statusField returns a field of a /proc/PID/status text.
func statusField(status, name string) string {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// The program runs in a process group of its own, with no signal blocked,
// the caller's ignored signals still ignored, and /dev/null as its standard
// input.
func TestExecChildState(t *testing.T) {
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	e := &Exec{Argv: []string{script(t, `s=$(cat /proc/$$/status)
echo "$(ps -o pgid= -p $$ | tr -d ' ') $$"
echo "$s" | grep -E '^(SigBlk|SigIgn):'
readlink /proc/$$/fd/0`)}}
	out := &headBuffer{max: 4096}
	code, _, err := e.run(context.Background(), out)
	if err != nil || code != 0 {
		t.Fatalf("run: %d, %v, output %q", code, err, out.buf.String())
	}
	lines := strings.Split(strings.TrimSpace(out.buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("output %q, want 4 lines", out.buf.String())
	}
	if f := strings.Fields(lines[0]); len(f) != 2 || f[0] != f[1] {
		t.Errorf("process group and PID %q: want a group of its own", lines[0])
	}
	if got := statusField(lines[1], "SigBlk"); got != "0000000000000000" {
		t.Errorf("the program's blocked signals are %s, want none", got)
	}
	// The shell ignores none itself when not interactive; what it ignores
	// came from the caller.
	if got, want := statusField(lines[2], "SigIgn"), statusField(string(self), "SigIgn"); got != want {
		t.Errorf("the program ignores %s, the caller %s", got, want)
	}
	if lines[3] != os.DevNull {
		t.Errorf("standard input is %q, want %s", lines[3], os.DevNull)
	}
}

// nofile reads the soft and hard "Max open files" of a /proc/PID/limits
// text.
func nofile(limits string) string {
	for line := range strings.Lines(limits) {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	return ""
}

// A program gets the open-files limit this process had before the Go
// runtime raised its own soft limit to the hard one, as os/exec restores
// it. The test runs itself again with a soft limit of 256.
func TestExecOpenFilesLimit(t *testing.T) {
	e := &Exec{Argv: []string{"/bin/cat", "/proc/self/limits"}}
	out := &headBuffer{max: 4096}
	if code, _, err := e.run(context.Background(), out); code != 0 || err != nil {
		t.Fatalf("run: %d, %v", code, err)
	}
	got := nofile(out.buf.String())
	if got == "" {
		t.Fatalf("no open-files limit in the program's /proc/self/limits:\n%s", out.buf.String())
	}
	own, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this process: %s; its programs: %s", nofile(string(own)), got)
	if os.Getenv("LVSKIT_NOFILE_LOWERED") != "" {
		if f := strings.Fields(got); f[0] != "256" || f[1] == "256" {
			t.Errorf("started with a soft limit of 256 below the hard one, its programs got %q", got)
		}
		if f := strings.Fields(nofile(string(own))); f[0] == "256" {
			t.Errorf("the runtime left this process's soft limit at 256; the test proves nothing")
		}
		return
	}
	cmd := exec.Command("/bin/sh", "-c", `ulimit -Sn 256 && exec "$0" -test.run='^TestExecOpenFilesLimit$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "LVSKIT_NOFILE_LOWERED=1")
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "its programs: 256 ") || !strings.Contains(string(b), "--- PASS") {
		t.Errorf("with a soft limit of 256: %v\n%s", err, b)
	}
}

// Every run, including those that fail to start and those killed at their
// timeout, closes its pipes and reaps its program.
func TestExecClosesDescriptorsAndReaps(t *testing.T) {
	up := &Exec{Argv: []string{script(t, "echo up; exit 0")}}
	missing := &Exec{Argv: []string{"/nonexistent/lvskit-check"}}
	hang := &Exec{Argv: []string{script(t, "sleep 60")}, Timeout: 50 * time.Millisecond}
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
		t.Errorf("open descriptors %d before 43 checks, %d after: pipes leak", before, after)
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
