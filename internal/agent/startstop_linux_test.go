package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/vrrp"
)

// startStopLog is the program of the startup, shutdown and notify
// scripts: it appends "WORDS... NANOSECONDS" to the log file (its first
// argument). As "startup" it writes a begin and an end line a second
// apart; as "slow" it writes its PID and sleeps 30 seconds.
const startStopLog = `#!/bin/sh
f=$1; shift
case "$1" in
startup) echo "startup-begin $(date +%s%N)" >> "$f"; sleep 1; echo "startup-end $(date +%s%N)" >> "$f" ;;
slow) echo "slow $(date +%s%N)" >> "$f"; echo $$ > "$f.pid"; exec sleep 30 ;;
*) echo "$* $(date +%s%N)" >> "$f" ;;
esac
`

// startStopConf is one instance alone on its link, with a startup script
// (mode "startup" or "slow"), a shutdown script and a notify script, all
// logging to logFile.
func startStopConf(vrid int, program, logFile, mode string, timeout int) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  startup_script "%[2]s %[3]s %[4]s"
  startup_script_timeout %[5]d
  shutdown_script "%[2]s %[3]s shutdown"
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id %[1]d
  priority 100
  advert_int 1
  notify "%[2]s %[3]s notify"
  virtual_ipaddress {
    172.16.0.%[1]d/24 dev eth1
  }
}
`, vrid, program, logFile, mode, timeout)
}

// startStopLine is one line of the log.
type startStopLine struct {
	words string
	at    time.Time
}

func readStartStopLog(t *testing.T, path string) []startStopLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []startStopLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		i := strings.LastIndexByte(l, ' ')
		ns, err := strconv.ParseInt(l[i+1:], 10, 64)
		if i < 0 || err != nil {
			t.Fatalf("%s: bad line %q", path, l)
		}
		out = append(out, startStopLine{l[:i], time.Unix(0, ns)})
	}
	return out
}

// startStopNodes starts keepalived and lbnode, each alone on the link with
// the same configuration but for the VRID and the log, and returns the
// logs, keepalived's process and a function that stops the agent and
// returns Run's error.
func startStopNodes(t *testing.T, mode string, timeout int) (kaLog, lbLog string, ka *netnstest.Proc, a *Agent, stopLB func() error) {
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	kaNS, lbNS := tp.Host("ka"), tp.Host("lb")
	tp.Connect(kaNS, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(lbNS, "eth1", "svc", "172.16.0.2/24")
	dir := t.TempDir()
	write := func(name, s string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	program := write("log.sh", startStopLog, 0o755)
	kaLog, lbLog = filepath.Join(dir, "ka.log"), filepath.Join(dir, "lb.log")
	ka = kaNS.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("ka.conf", startStopConf(61, program, kaLog, mode, timeout), 0o644),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })

	cfg, err := config.Load(write("lb.conf", startStopConf(62, program, lbLog, mode, timeout), 0o644))
	if err != nil {
		t.Fatal(err)
	}
	a, err = New(cfg, &Options{Env: Env{OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
		o := *opts
		o.NetNS = int(lbNS.Handle())
		return vrrp.Open(cfgs, &o)
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stopLB = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stopLB() })
	return kaLog, lbLog, ka, a, stopLB
}

// As keepalived, lbnode runs its startup_script before its VRRP instance
// starts, waiting for it to end, and its shutdown_script once the
// instance has stopped (after its last notify, STOP).
func TestIntegrationStartStopScriptsAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	kaLog, lbLog, ka, _, stopLB := startStopNodes(t, "startup", 5)
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	netnstest.WaitFor(t, "both MASTER", 30*time.Second, func() bool {
		return strings.Contains(read(kaLog), "MASTER") && strings.Contains(read(lbLog), "MASTER")
	})
	if err := ka.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := stopLB(); err != nil {
		t.Errorf("agent: %v", err)
	}
	if err := ka.Wait(20 * time.Second); err != nil {
		t.Errorf("keepalived: %v", err)
	}
	for who, p := range map[string]string{"keepalived": kaLog, "lbnode": lbLog} {
		lines := readStartStopLog(t, p)
		var words []string
		for _, l := range lines {
			words = append(words, l.words)
		}
		t.Logf("%s: %q", who, words)
		if len(lines) < 4 || lines[0].words != "startup-begin" || lines[1].words != "startup-end" || lines[len(lines)-1].words != "shutdown" {
			t.Errorf("%s: lines %q; want startup-begin, startup-end, the notify lines, shutdown", who, words)
			continue
		}
		notes := lines[2 : len(lines)-1]
		for _, l := range notes {
			if !strings.HasPrefix(l.words, "notify INSTANCE VI_1 ") {
				t.Errorf("%s: %q between the startup and the shutdown script, want only notify lines", who, l.words)
			}
		}
		if first := notes[0]; first.at.Before(lines[1].at) {
			t.Errorf("%s: first notify (%s) %v before the startup script ended", who, first.words, lines[1].at.Sub(first.at))
		}
		if last := notes[len(notes)-1]; !strings.Contains(last.words, " STOP ") {
			t.Errorf("%s: last notify %q, want STOP before the shutdown script", who, last.words)
		}
		if !strings.Contains(words[2], "BACKUP") && !strings.Contains(words[2], "MASTER") {
			t.Errorf("%s: first notify %q", who, words[2])
		}
		t.Logf("%s: startup script %v, first notify %v after its end; shutdown %v after the last notify", who,
			lines[1].at.Sub(lines[0].at).Round(time.Millisecond), notes[0].at.Sub(lines[1].at).Round(time.Millisecond),
			lines[len(lines)-1].at.Sub(notes[len(notes)-1].at).Round(time.Millisecond))
	}
}

// A startup script still running at startup_script_timeout is killed
// (its process group), and the node starts, as keepalived does.
func TestIntegrationStartupScriptTimeout(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	kaLog, lbLog, _, a, _ := startStopNodes(t, "slow", 1)
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	took := netnstest.WaitFor(t, "both MASTER", 30*time.Second, func() bool {
		return strings.Contains(read(kaLog), "MASTER") && strings.Contains(read(lbLog), "MASTER")
	})
	t.Logf("both MASTER after %v", took.Round(time.Millisecond))
	if s := a.States()["VI_1"]; s != vrrp.StateMaster {
		t.Errorf("lbnode's VI_1 is %v, want MASTER", s)
	}
	for who, p := range map[string]string{"keepalived": kaLog, "lbnode": lbLog} {
		lines := readStartStopLog(t, p)
		if len(lines) < 2 || lines[0].words != "slow" {
			t.Fatalf("%s: log %v, want the slow script first", who, lines)
		}
		wait := lines[1].at.Sub(lines[0].at)
		t.Logf("%s: first notify %v after the startup script began", who, wait.Round(time.Millisecond))
		// The line is written once the shell runs, some tens of
		// milliseconds after the timeout's clock started.
		if wait < 800*time.Millisecond || wait > 10*time.Second {
			t.Errorf("%s: first notify %v after the startup script began; want at its 1 s timeout, well before its 30 s", who, wait)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(read(p + ".pid")))
		if err != nil {
			t.Fatalf("%s: the script's pid: %v", who, err)
		}
		gone := false
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !gone; time.Sleep(50 * time.Millisecond) {
			gone = syscall.Kill(pid, 0) == syscall.ESRCH
		}
		if !gone {
			t.Errorf("%s: the startup script (pid %d) still runs after its timeout", who, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
