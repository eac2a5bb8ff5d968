package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/vrrp"
)

// trackFileConf is a keepalived.conf whose instance tracks the file at
// path with weight.
func trackFileConf(prio int, path, weight string) string {
	return fmt.Sprintf(`global_defs {
  router_id lvskit_test
}
track_file state {
  file %s
  weight %s
  init_file 0 overwrite
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 52
  priority %d
  advert_int 1
  virtual_ipaddress {
    192.168.0.100/24 dev eth1
  }
  track_file {
    state
  }
}
`, path, weight, prio)
}

// A number written to a tracked file lowers lbnode's priority below its
// keepalived peer's (weight -10: 6 makes 150 into 90), or puts it in FAULT
// (weight 0: any value but 0), and the VIP moves to keepalived; 0 written
// back, or the file deleted, and lbnode takes the VIP back. Both nodes
// read the same keepalived.conf but for the priority and the file, and
// keepalived, given the same value, logs the same arithmetic.
func TestIntegrationTrackFileMovesTheVIP(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	for _, tc := range []struct {
		weight, value string
		lbnode        vrrp.State
		kaLog         string // keepalived's log line for the value in its own file
	}{
		{"-10", "6", vrrp.StateBackup, "(VI_1) Changing effective priority from 100 to 40"},
		{"0", "1", vrrp.StateFault, "(VI_1): tracked file state now FAULT state"},
	} {
		t.Run("weight "+tc.weight, func(t *testing.T) {
			dir := t.TempDir()
			file1, file2 := filepath.Join(dir, "lb1-state"), filepath.Join(dir, "lb2-state")
			write := func(p, s string) {
				t.Helper()
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// init_file 0 overwrite: both daemons reset these at start.
			write(file1, "5\n")
			write(file2, "5\n")
			conf1, conf2 := filepath.Join(dir, "lb1.conf"), filepath.Join(dir, "lb2.conf")
			write(conf1, trackFileConf(150, file1, tc.weight))
			write(conf2, trackFileConf(100, file2, tc.weight))
			p := startKAPair(t, dir, conf1, conf2)
			p.waitVIP("lb1")
			p.ka.WaitOutput(t, "(VI_1) Entering BACKUP STATE", 10*time.Second)
			for _, f := range []string{file1, file2} {
				if b, err := os.ReadFile(f); err != nil || string(b) != "0\n" {
					t.Errorf("%s after the start = %q, %v; want init_file's \"0\\n\"", f, b, err)
				}
			}

			write(file1, tc.value+"\n")
			p.waitVIP("lb2")
			p.ka.WaitOutput(t, "(VI_1) Entering MASTER STATE", 10*time.Second)
			p.waitLbnode(tc.lbnode)

			// Back to 0 (weight -10), or the file deleted (weight 0,
			// which reads as 0): lbnode preempts.
			if tc.weight == "0" {
				if err := os.Remove(file1); err != nil {
					t.Fatal(err)
				}
			} else {
				write(file1, "0\n")
			}
			p.waitVIP("lb1")
			p.waitKeepalivedBackup()

			// keepalived, the BACKUP now, reads the same value in its own
			// file alike.
			write(file2, tc.value+"\n")
			p.ka.WaitOutput(t, tc.kaLog, 10*time.Second)
			if w := p.where(); w != "lb1" {
				t.Errorf("the VIP is on %s after keepalived's file changed, want lb1", w)
			}
		})
	}
}
