package agent

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

	"github.com/lvskit/lvskit/internal/config"
)

// The real runner drives the nginx program: it installs the files and
// starts a master when none runs, reloads the running one when the files
// change (and only then), and stops it with SIGQUIT. A shell script
// stands in for nginx, logging its arguments; the master it "starts" is a
// process of the test's own, so that the test reaps it.
func TestNginxRunner(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "nginx")
	calls := filepath.Join(dir, "calls")

	master := exec.Command("sleep", "60")
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan *os.ProcessState, 1)
	go func() {
		master.Wait()
		exited <- master.ProcessState
	}()
	t.Cleanup(func() { master.Process.Kill() })

	script := "#!/bin/sh\n" +
		"echo \"$*\" >> " + calls + "\n" +
		"case \" $* \" in\n" +
		"*\" -t \"*) exit 0 ;;\n" +
		"*\" -s reload \"*) exit 0 ;;\n" +
		"esac\n" +
		"echo " + strconv.Itoa(master.Process.Pid) + " > " + prefix + "/nginx.pid\n"
	bin := filepath.Join(dir, "nginx-fake")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	took := func() []string {
		b, _ := os.ReadFile(calls)
		os.Remove(calls)
		var out []string
		for l := range strings.Lines(string(b)) {
			switch {
			case strings.Contains(l, " -t "):
				out = append(out, "test")
			case strings.Contains(l, " -s reload"):
				out = append(out, "reload")
			default:
				out = append(out, "start")
			}
		}
		return out
	}

	r := newNginxRunner(prefix)
	r.n.Binary = bin
	if pid := r.pid(); pid != 0 {
		t.Fatalf("pid %d before start, want 0", pid)
	}
	site := func(upstream string) *config.Config {
		return parseNode(t, strings.Replace(nodeYAML, "192.168.0.101:80", upstream, 1))
	}
	ctx := context.Background()
	apply := func(cfg *config.Config) bool {
		t.Helper()
		changed, err := r.Apply(ctx, proxyConfig(cfg.Nginx, ""))
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		return changed
	}

	if !apply(site("192.168.0.101:80")) {
		t.Error("first Apply reported no change")
	}
	if got := strings.Join(took(), " "); got != "test start" {
		t.Errorf("first Apply ran nginx for %q, want test then start", got)
	}
	if pid := r.pid(); pid != master.Process.Pid {
		t.Errorf("pid %d after start, want the master's %d", pid, master.Process.Pid)
	}
	conf, err := os.ReadFile(filepath.Join(prefix, "conf", "sites-enabled", "web.conf"))
	if err != nil || !strings.Contains(string(conf), "192.168.0.101:80") {
		t.Errorf("installed site: %q, %v", conf, err)
	}
	if _, err := os.Stat(filepath.Join(prefix, "tmp")); err != nil {
		t.Errorf("temporary folder: %v", err)
	}

	if apply(site("192.168.0.101:80")) {
		t.Error("Apply of the same files reported a change")
	}
	if got := took(); len(got) != 0 && strings.Contains(strings.Join(got, " "), "reload") {
		t.Errorf("Apply of the same files ran %q, want no reload", got)
	}

	if !apply(site("192.168.0.109:80")) {
		t.Error("Apply of a changed upstream reported no change")
	}
	if got := took(); len(got) == 0 || got[len(got)-1] != "reload" || strings.Contains(strings.Join(got, " "), "start") {
		t.Errorf("Apply of changed files ran %q, want tests then a reload of the running master", got)
	}

	if err := r.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case st := <-exited:
		if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGQUIT {
			t.Errorf("master ended with %v, want SIGQUIT", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the master still runs after Stop")
	}
	if pid := r.pid(); pid != 0 {
		t.Errorf("pid %d after stop, want 0", pid)
	}
	if err := r.Stop(time.Second); err != nil {
		t.Errorf("Stop with nothing running: %v", err)
	}

	// A pid file that names no process.
	if err := os.WriteFile(filepath.Join(prefix, "nginx.pid"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if pid := r.pid(); pid != 0 {
		t.Errorf("pid %d from a garbage pid file, want 0", pid)
	}
}
