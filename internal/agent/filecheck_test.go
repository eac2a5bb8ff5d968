package agent

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
)

func TestFileCheckStatus(t *testing.T) {
	for _, tc := range []struct {
		v       int64
		weight  int
		reverse bool
		delta   int64
		down    bool
	}{
		{0, 0, false, 0, false},
		{1, 0, false, 0, true},
		{-3, 0, false, 0, true},
		{0, 0, true, 0, true},
		{5, 0, true, 0, false},
		{3, 10, false, 30, false},
		{3, 10, true, -30, false},
		{-3, -10, false, 30, false},
		{math.MaxInt32, 2, false, math.MaxInt32, false}, // clamped
		{math.MinInt32, 1, false, 0, true},              // the bottom: down
		{math.MaxInt32, math.MaxInt32, true, 0, true},   // below it: down
		{math.MinInt32 + 1, 1, false, math.MinInt32 + 1, false},
	} {
		d, down := fileCheckStatus(tc.v, tc.weight, tc.reverse)
		if d != tc.delta || down != tc.down {
			t.Errorf("fileCheckStatus(%d, %d, %v) = %d, %v; want %d, %v", tc.v, tc.weight, tc.reverse, d, down, tc.delta, tc.down)
		}
	}
}

const fileCheckPlanConf = `track_file maint {
  file /run/lvskit/maint
  weight 0
}
track_file load {
  file /run/lvskit/load
  weight -10
}
virtual_server 10.0.0.5 80 {
  protocol TCP
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
    TCP_CHECK {
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
`

// TestFileChecksInThePlan walks file values and a checker's state through
// a virtual server whose real servers have FILE_CHECKs, as keepalived's
// check_file.c and track_file.c apply them: a weight-0 file takes the
// real server down (with inhibit_on_failure: weight 0), a weighted one
// adds its value times the weight, kept to 0 and above.
func TestFileChecksInThePlan(t *testing.T) {
	cfg, err := config.ParseKeepalived("f.conf", []byte(fileCheckPlanConf))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ipvsPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tcp := "TCP 10.0.0.5:80 -> 10.0.2.1:80"
	files := func(maint, load int, tcpUp bool) map[string]targetState {
		return map[string]targetState{tcp: {up: tcpUp}, fileKey("maint"): {up: true, weight: maint}, fileKey("load"): {up: true, weight: load}}
	}
	head := "-A -t 10.0.0.5:80 -s wlc\n"
	for _, step := range []struct {
		name  string
		state map[string]targetState
		rules string
	}{
		{"files unknown (0): configured weights", map[string]targetState{tcp: {up: true}},
			head + "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 100\n-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 50\n"},
		{"load 3: 100-30 and 50-60 kept to 0", files(0, 3, true),
			head + "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 70\n-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 0\n"},
		{"load -2: 100+20 and 50+40", files(0, -2, true),
			head + "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 120\n-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 90\n"},
		{"maint 1: the first down, inhibited", files(1, -2, true),
			head + "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 0\n-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 90\n"},
		{"maint 0, TCP check down: still down", files(0, -2, false),
			head + "-a -t 10.0.0.5:80 -r 10.0.2.1:80 -g -w 0\n-a -t 10.0.0.5:80 -r 10.0.2.2:80 -g -w 90\n"},
	} {
		if diff := cmp.Diff(step.rules, rules(t, p.desired(step.state))); diff != "" {
			t.Errorf("%s: rules (-want +got):\n%s", step.name, diff)
		}
	}
	got := fileCheckFiles(cfg)
	if len(got) != 2 || got[0].Name != "maint" || got[1].Name != "load" {
		t.Errorf("fileCheckFiles = %+v, want maint and load", got)
	}
}
