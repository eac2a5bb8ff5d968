package healthcheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The assembly reads vforkReq at the offsets it defines.
func TestVforkReqLayout(t *testing.T) {
	var r vforkReq
	got := []uintptr{
		unsafe.Offsetof(r.path), unsafe.Offsetof(r.argv), unsafe.Offsetof(r.envv), unsafe.Offsetof(r.dir),
		unsafe.Offsetof(r.stdin), unsafe.Offsetof(r.stdout), unsafe.Offsetof(r.setpgid), unsafe.Offsetof(r.setCred),
		unsafe.Offsetof(r.ngroups), unsafe.Offsetof(r.groups), unsafe.Offsetof(r.gid), unsafe.Offsetof(r.uid),
		unsafe.Offsetof(r.full), unsafe.Offsetof(r.old), unsafe.Offsetof(r.clone), unsafe.Offsetof(r.dfl),
		unsafe.Offsetof(r.query), unsafe.Offsetof(r.errno), unsafe.Offsetof(r.nofile),
	}
	for i, off := range got {
		if off != uintptr(8*i) {
			t.Errorf("field %d at offset %d, the assembly reads it at %d", i, off, 8*i)
		}
	}
	if s := unsafe.Sizeof(cloneArgs{}); s != 64 {
		t.Errorf("cloneArgs is %d bytes, want 64 (CLONE_ARGS_SIZE_VER0)", s)
	}
	if s := unsafe.Sizeof(kernelSigaction{}); s != 32 {
		t.Errorf("kernelSigaction is %d bytes, want 32", s)
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

// The child that vforkExec starts is the program, in a process group of
// its own, with no signal blocked, the caller's ignored signals still
// ignored, and /dev/null and the pipe as its standard descriptors.
func TestForkExecChildState(t *testing.T) {
	devNull, ok := spawnSupport()
	if !ok {
		t.Fatal("no raw spawn on this kernel (pidfds need Linux 5.3)")
	}
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	e := &Exec{Argv: []string{script(t, `s=$(cat /proc/$$/status)
echo "$(ps -o pgid= -p $$ | tr -d ' ') $$"
echo "$s" | grep -E '^(SigBlk|SigIgn):'
readlink /proc/$$/fd/0`)}}
	out := &headBuffer{max: 4096}
	code, err := e.spawn(context.Background(), out, devNull)
	if err != nil || code != 0 {
		t.Fatalf("spawn: %d, %v, output %q", code, err, out.buf.String())
	}
	if noClone3.Load() {
		t.Fatal("clone3 was refused: the run went through syscall.ForkExec")
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

// A step failing in the child is reported as its errno, and the child is
// reaped.
func TestForkExecFailures(t *testing.T) {
	devNull, ok := spawnSupport()
	if !ok {
		t.Fatal("no raw spawn on this kernel (pidfds need Linux 5.3)")
	}
	dir := t.TempDir()
	before := len(children(t))
	for _, tt := range []struct {
		name, path, dir string
		want            syscall.Errno
	}{
		{"no such program", filepath.Join(dir, "none"), "", syscall.ENOENT},
		{"no such folder", "/bin/true", filepath.Join(dir, "none"), syscall.ENOENT},
		{"a folder as the program", dir, "", syscall.EACCES},
	} {
		pid, pidfd, err := forkExec(tt.path, []string{tt.path}, nil, tt.dir, devNull, devNull, nil)
		if err != tt.want {
			t.Errorf("%s: pid %d, pidfd %d, error %v, want %v", tt.name, pid, pidfd, err, tt.want)
		}
		if err == nil {
			closeRaw(pidfd)
		}
	}
	if after := len(children(t)); after != before {
		t.Errorf("%d children before, %d after: a failed child was not reaped", before, after)
	}
}

// Many programs started at once from several threads, while the collector
// runs, each get their own arguments and environment: the child reads the
// caller's memory, which must stay as it was until execve.
func TestForkExecConcurrent(t *testing.T) {
	devNull, ok := spawnSupport()
	if !ok {
		t.Fatal("no raw spawn on this kernel (pidfds need Linux 5.3)")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	prog := script(t, `echo "$1 $LVSKIT_N"`)
	stop := make(chan struct{})
	var gc sync.WaitGroup
	gc.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
				_ = make([]byte, 1<<16)
			}
		}
	})
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				n := fmt.Sprintf("%d-%d", g, i)
				e := &Exec{Argv: []string{prog, n}, Env: []string{"LVSKIT_N=" + n}}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				out := &headBuffer{max: 4096}
				code, err := e.spawn(ctx, out, devNull)
				cancel()
				if want := n + " " + n; code != 0 || err != nil || out.firstLine() != want {
					errs <- fmt.Sprintf("run %s: %d, %v, %q, want %q", n, code, err, out.firstLine(), want)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	gc.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A program gets the open-files limit os/exec would give it: the one this
// process had before the runtime raised its own.
func TestForkExecOpenFilesLimit(t *testing.T) {
	devNull, ok := spawnSupport()
	if !ok {
		t.Fatal("no raw spawn on this kernel (pidfds need Linux 5.3)")
	}
	e := &Exec{Argv: []string{script(t, `echo "$(ulimit -Sn) $(ulimit -Hn)"`)}}
	o1, o2 := &headBuffer{max: 4096}, &headBuffer{max: 4096}
	if _, err := e.spawn(context.Background(), o1, devNull); err != nil {
		t.Fatal(err)
	}
	if _, err := e.command(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	if o1.firstLine() != o2.firstLine() {
		t.Errorf("open-files limit (soft hard) %q, os/exec gives %q", o1.firstLine(), o2.firstLine())
	}
	var own syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &own); err == nil {
		t.Logf("this process: %d %d; its programs: %s", own.Cur, own.Max, o1.firstLine())
	}
	if os.Getenv("LVSKIT_NOFILE_LOWERED") != "" {
		if f := strings.Fields(o1.firstLine()); len(f) != 2 || f[0] != "256" {
			t.Errorf("started with a soft limit of 256, its programs got %q", o1.firstLine())
		}
		return
	}
	// Again in a copy of this test started with a soft limit of 256, below
	// the hard one, which the runtime then raises and the programs must
	// get back.
	cmd := exec.Command("/bin/sh", "-c", `ulimit -Sn 256 && exec "$0" -test.run='^TestForkExecOpenFilesLimit$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "LVSKIT_NOFILE_LOWERED=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "its programs: 256 ") {
		t.Errorf("with a soft limit of 256: %v\n%s", err, out)
	}
}

func TestParseNofile(t *testing.T) {
	limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max processes             63704                63704                processes \n" +
		"Max open files            1024                 524288               files     \n"
	got, ok := parseNofile(limits)
	if !ok || got.Cur != 1024 || got.Max != 524288 {
		t.Errorf("parseNofile = %+v, %v; want 1024 524288", got, ok)
	}
	got, ok = parseNofile("Max open files            unlimited            unlimited            files\n")
	if !ok || got.Cur != unix.RLIM_INFINITY || got.Max != unix.RLIM_INFINITY {
		t.Errorf("parseNofile(unlimited) = %+v, %v", got, ok)
	}
	if _, ok := parseNofile("Max processes 1 1\n"); ok {
		t.Error("parseNofile without the line: ok")
	}
}
