package agent

import (
	"context"
	"fmt"
	"log/slog"
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

// A notify_fifo_script starts with its arguments and the FIFO's path,
// reads the lines written to the FIFO, and exits on its own when the FIFO
// is closed, which removes it.
func TestFIFOScriptReadsTheFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "notify.fifo")
	out := filepath.Join(dir, "out")
	script := filepath.Join(dir, "reader.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$*\" > "+out+".args\nexec cat \"$2\" > "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{}
	cfg.Global.NotifyFIFO = config.FIFOSpec{Path: fifo, Script: config.Command{"/bin/sh", script, "first"}}
	fs, err := openFIFOs(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.programs) != 1 {
		t.Fatalf("%d programs started, want 1", len(fs.programs))
	}
	fs.instance(vrrp.Transition{Instance: "VI_1", To: vrrp.StateMaster, Priority: 100})
	fs.group("G", vrrp.StateBackup)
	want := "INSTANCE \"VI_1\" MASTER 100\nGROUP \"G\" BACKUP 0\n"
	deadline := time.Now().Add(10 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		got, _ = os.ReadFile(out)
		if string(got) == want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if string(got) != want {
		t.Errorf("the program read %q, want %q", got, want)
	}
	if args, _ := os.ReadFile(out + ".args"); strings.TrimSpace(string(args)) != "first "+fifo {
		t.Errorf("the program's arguments %q, want %q", args, "first "+fifo)
	}
	start := time.Now()
	fs.close()
	select {
	case <-fs.programs[0].done:
	default:
		t.Errorf("the program still runs after close")
	}
	if took := time.Since(start); took >= programGrace {
		t.Errorf("the program took %v to exit: it did not see the end of the FIFO", took)
	}
	if _, err := os.Stat(fifo); !os.IsNotExist(err) {
		t.Errorf("the FIFO is still there after close: %v", err)
	}
}

// fifoScriptConf is one instance, alone on its link, with a FIFO and a
// program reading it.
func fifoScriptConf(vrid int, fifo, program string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
  vrrp_notify_fifo %[2]s
  vrrp_notify_fifo_script "%[3]s tag"
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id %[1]d
  priority 100
  advert_int 1
  virtual_ipaddress {
    172.16.0.%[1]d/24 dev eth1
  }
}
`, vrid, fifo, program)
}

// keepalived and lbnode, each alone with the same configuration but for
// the VRID and paths, start their vrrp_notify_fifo_script with the same
// arguments (its own, then the FIFO's path); the programs read the same
// lines; at stop both end their program (keepalived ends its scripts
// first, with SIGTERM, before the instances' last lines).
func TestIntegrationFIFOScriptAsKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	tp := netnstest.NewTopology(t)
	tp.Bridge("svc")
	kaNS, lbNS := tp.Host("ka"), tp.Host("lb")
	tp.Connect(kaNS, "eth1", "svc", "172.16.0.1/24")
	tp.Connect(lbNS, "eth1", "svc", "172.16.0.2/24")
	dir := t.TempDir()
	program := filepath.Join(dir, "reader.sh")
	if err := os.WriteFile(program, []byte("#!/bin/sh\necho $$ > \"$2.pid\"\necho \"$1 $(basename \"$2\")\" > \"$2.args\"\nexec cat \"$2\" > \"$2.out\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kaFIFO, lbFIFO := filepath.Join(dir, "ka.fifo"), filepath.Join(dir, "lb.fifo")
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ka := kaNS.Start(t, "keepalived", "-P", "-n", "-l", "-D", "-f", write("ka.conf", fifoScriptConf(51, kaFIFO, program)),
		"-p", filepath.Join(dir, "ka.pid"), "-r", filepath.Join(dir, "ka-vrrp.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })

	cfg, err := config.Load(write("lb.conf", fifoScriptConf(52, lbFIFO, program)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, &Options{Env: Env{OpenVRRP: func(cfgs []vrrp.Config, opts *vrrp.Options) (*vrrp.Router, error) {
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
	defer func() {
		cancel()
		<-done
	}()

	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	master := "INSTANCE \"VI_1\" MASTER 100\n"
	netnstest.WaitFor(t, "both programs reading MASTER", 30*time.Second, func() bool {
		return strings.Contains(read(kaFIFO+".out"), master) && strings.Contains(read(lbFIFO+".out"), master)
	})
	if k, l := read(kaFIFO+".args"), read(lbFIFO+".args"); k != "tag ka.fifo\n" || l != "tag lb.fifo\n" {
		t.Errorf("the programs' arguments: keepalived's %q, lbnode's %q; want \"tag\" and the FIFO", k, l)
	}
	// Stopped: each program sees the end of its FIFO and ends.
	if err := ka.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("agent: %v", err)
	}
	done <- nil
	for who, fifo := range map[string]string{"keepalived": kaFIFO, "lbnode": lbFIFO} {
		pid, err := strconv.Atoi(strings.TrimSpace(read(fifo + ".pid")))
		if err != nil {
			t.Fatalf("%s's program's pid: %v", who, err)
		}
		gone := false
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && !gone; time.Sleep(50 * time.Millisecond) {
			gone = syscall.Kill(pid, 0) == syscall.ESRCH
		}
		if !gone {
			t.Errorf("%s's program (pid %d) still runs 15 s after the stop", who, pid)
		}
	}
	k, l := read(kaFIFO+".out"), read(lbFIFO+".out")
	t.Logf("keepalived's program read %q; lbnode's %q", k, l)
	if k != l {
		t.Errorf("the programs read different lines:\nkeepalived: %q\nlbnode:     %q", k, l)
	}
}
