package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
)

// fileCheckConf is a keepalived.conf whose real servers have FILE_CHECKs
// on the files of dir: maint (weight 0: down when not 0) and load (weight
// -10, and 20 reverse in the second real server), one real server with
// inhibit_on_failure.
func fileCheckConf(dir string) string {
	return fmt.Sprintf(`track_file maint {
  file %[1]s/maint
  weight 0
}
track_file load {
  file %[1]s/load
  weight -10
}
virtual_server 10.0.0.5 80 {
  protocol TCP
  lb_algo wrr
  lb_kind DR
  real_server 10.0.2.1 80 {
    weight 100
    inhibit_on_failure
    FILE_CHECK {
      track_file maint
    }
    FILE_CHECK {
      track_file load
    }
  }
  real_server 10.0.2.2 80 {
    weight 50
    FILE_CHECK {
      track_file load
      weight 20 reverse
    }
  }
}
`, dir)
}

// TestVMFileCheckMatchesKeepalived runs keepalived's checker and lbnode on
// the same FILE_CHECK configuration, each in a namespace of its own with
// its own files, writes the same values into both daemons' files step by
// step, and checks that their IPVS rules (ipvsadm -Sn) agree after each.
func TestVMFileCheckMatchesKeepalived(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "keepalived", "ipvsadm", "env")
	type side struct {
		name string
		ns   *netnstest.NS
		dir  string
	}
	var sides []*side
	for _, name := range []string{"keepalived", "lbnode"} {
		s := &side{name: name, ns: netnstest.New(t), dir: t.TempDir()}
		conf := filepath.Join(s.dir, "k.conf")
		if err := os.WriteFile(conf, []byte(fileCheckConf(s.dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "keepalived" {
			p := s.ns.Start(t, "keepalived", "-n", "-l", "-D", "-C", "-f", conf,
				"-p", filepath.Join(s.dir, "ka.pid"), "-c", filepath.Join(s.dir, "ka-check.pid"))
			t.Cleanup(func() { _ = p.KillChildren() })
		} else {
			s.ns.Start(t, "env", "LVSKIT_LBNODE_MAIN=1", os.Args[0], "-f", conf)
		}
		sides = append(sides, s)
	}
	rulesOf := func(s *side) string {
		lines := strings.Split(strings.TrimSpace(s.ns.Run(t, "ipvsadm", "-Sn")), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	for _, step := range []struct {
		name        string
		maint, load string
		want        string
	}{
		{"no files (0)", "", "", "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 100|-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 50"},
		{"load 3", "0", "3", "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 70|-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 0"},
		{"load -2", "0", "-2", "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 120|-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 90"},
		{"maint 1", "1", "-2", "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 0|-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 90"},
		{"maint 0x0, load 0x10", "0x0", "0x10", ""},
		{"load 0", "0", "0", "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 100|-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 50"},
	} {
		for _, s := range sides {
			for name, v := range map[string]string{"maint": step.maint, "load": step.load} {
				if v == "" {
					continue
				}
				// Written elsewhere and moved in, so that neither daemon
				// reads a half-written file.
				tmp := filepath.Join(s.dir, "."+name)
				if err := os.WriteFile(tmp, []byte(v+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var ka, lb string
		agreed := false
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			ka, lb = rulesOf(sides[0]), rulesOf(sides[1])
			if ka != "" && ka == lb && (step.want == "" || strings.Contains(ka, strings.ReplaceAll(step.want, "|", "\n"))) {
				agreed = true
				break
			}
		}
		if !agreed {
			t.Errorf("%s: ipvsadm -Sn of keepalived (-) and lbnode (+) differ, or not as expected (%s):\n%s", step.name, step.want, cmp.Diff(ka, lb))
			continue
		}
		t.Logf("%s: both daemons: %s", step.name, strings.ReplaceAll(ka, "\n", " | "))
	}
}
