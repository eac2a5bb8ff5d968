package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// lvsFIFOConf is the keepalived.conf of TestVMLVSFIFOLinesMatchKeepalived:
// notify_fifo and lvs_notify_fifo in dir, each read by a program that
// appends what it reads to a file beside it, and one virtual server whose
// real server 10.0.0.21:80 is TCP-checked every second.
func lvsFIFOConf(dir string) string {
	return fmt.Sprintf(`global_defs {
  notify_fifo %[1]s/all.fifo
  notify_fifo_script %[1]s/reader.sh
  lvs_notify_fifo %[1]s/lvs.fifo
  lvs_notify_fifo_script %[1]s/reader.sh
}
virtual_server 10.0.0.5 80 {
  protocol TCP
  lb_algo rr
  lb_kind DR
  delay_loop 1
  real_server 10.0.0.21 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`, dir)
}

// TestVMLVSFIFOLinesMatchKeepalived runs keepalived's checker (lb2) and
// lbnode (lb1) on the same keepalived.conf but for the FIFOs' folder. The
// real server stops listening, then listens again: both daemons write the
// same lines to notify_fifo and to lvs_notify_fifo, in the same order:
// the quorum at start, then the real server down and the quorum lost,
// then the real server up and the quorum gained.
func TestVMLVSFIFOLinesMatchKeepalived(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "env")
	tp := netnstest.NewTopology(t)
	tp.Bridge("lan")
	lb1, lb2, web := tp.Host("lb1"), tp.Host("lb2"), tp.Host("web")
	tp.Connect(lb1, "eth0", "lan", "10.0.0.11/24")
	tp.Connect(lb2, "eth0", "lan", "10.0.0.12/24")
	tp.Connect(web, "eth0", "lan", "10.0.0.21/24")
	serve := func() func() {
		ln := closingServer(t, web, "10.0.0.21:80")
		return func() { ln.Close() }
	}
	stopRS := serve()

	dirs := map[string]string{}
	for _, node := range []string{"lb1", "lb2"} {
		dir := filepath.Join(t.TempDir(), node)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// The FIFO's path is the program's last argument.
		reader := "#!/bin/sh\nexec cat \"$1\" >> \"$1.lines\"\n"
		if err := os.WriteFile(filepath.Join(dir, "reader.sh"), []byte(reader), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "keepalived.conf"), []byte(lvsFIFOConf(dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs[node] = dir
	}
	lb1.Start(t, "env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", filepath.Join(dirs["lb1"], "keepalived.conf"))
	ka := lb2.Start(t, "keepalived", "-n", "-l", "-D", "-C", "-f", filepath.Join(dirs["lb2"], "keepalived.conf"),
		"-p", filepath.Join(dirs["lb2"], "ka.pid"), "-c", filepath.Join(dirs["lb2"], "ka-check.pid"))
	t.Cleanup(func() { _ = ka.KillChildren() })
	lines := func(node, fifo string) []string {
		b, _ := os.ReadFile(filepath.Join(dirs[node], fifo+".fifo.lines"))
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	has := func(node, line string) bool {
		for _, fifo := range []string{"all", "lvs"} {
			if !strings.Contains(strings.Join(lines(node, fifo), "\n"), line) {
				return false
			}
		}
		return true
	}
	const rsLine, vsLine = "RS [10.0.0.21]:tcp:80 [10.0.0.5]:tcp:80 ", "VS [10.0.0.5]:tcp:80 "
	for _, node := range []string{"lb1", "lb2"} {
		netnstest.WaitFor(t, node+"'s quorum at start", 30*time.Second, func() bool { return has(node, vsLine+"UP") })
	}
	time.Sleep(3 * time.Second) // some rounds of checks that pass
	stopRS()
	for _, node := range []string{"lb1", "lb2"} {
		netnstest.WaitFor(t, node+"'s lines of the real server down and the quorum lost", 30*time.Second, func() bool {
			return has(node, rsLine+"DOWN") && has(node, vsLine+"DOWN")
		})
	}
	stopRS = serve()
	defer stopRS()
	for _, node := range []string{"lb1", "lb2"} {
		netnstest.WaitFor(t, node+"'s lines of the real server up and the quorum gained", 30*time.Second, func() bool {
			return has(node, rsLine+"UP\n"+vsLine+"UP")
		})
	}
	time.Sleep(2 * time.Second) // any later line
	for _, fifo := range []string{"all", "lvs"} {
		lbnode, keepalived := lines("lb1", fifo), lines("lb2", fifo)
		if diff := cmp.Diff(keepalived, lbnode); diff != "" {
			t.Errorf("%s.fifo: lines of keepalived (-) and lbnode (+) differ:\n%s", fifo, diff)
		}
		t.Logf("%s.fifo, both: %q", fifo, lbnode)
	}
}
