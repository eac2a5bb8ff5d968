package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sgTrackConf has a sync group that tracks an interface, a script and a
// file of its own, and a member that tracks the script itself too.
const sgTrackConf = `vrrp_script chk {
  script /bin/true
  weight -20
}
track_file tf {
  file /run/lvskit/tf
}
vrrp_sync_group G {
  group {
    A
    B
  }
  track_interface {
    eth2 weight -10
    eth3
  }
  track_script {
    chk
  }
  track_file {
    tf weight -5 reverse
  }
}
vrrp_instance A {
  interface eth1
  virtual_router_id 1
  priority 100
  virtual_ipaddress {
    10.0.0.1
  }
}
vrrp_instance B {
  interface eth1
  virtual_router_id 2
  priority 90
  virtual_ipaddress {
    10.0.0.2
  }
  track_script {
    chk weight 0
  }
}
`

func TestSyncGroupTrackingReachesMembers(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(sgTrackConf), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) Pos { return Pos{File: "k.conf", Line: line} }
	g := c.SyncGroups[0]
	if diff := cmp.Diff([]TrackInterface{{Name: "eth2", Weight: -10}, {Name: "eth3"}}, g.Track); diff != "" {
		t.Errorf("group Track (-want +got):\n%s", diff)
	}
	// Without sync_group_tracking_weight the group's own weights stay,
	// as keepalived 2.2.7 keeps them (only the members' own weighted
	// objects lose theirs).
	wantA := VRRPInstance{
		Track:        []TrackInterface{{Name: "eth2", Weight: -10}, {Name: "eth3"}},
		TrackScripts: []TrackScript{{Pos: at(18), Name: "chk", Weight: -20}},
		TrackFiles:   []TrackFile{{Pos: at(21), Name: "tf", Weight: -5, Reverse: true}},
	}
	a := c.VRRP[0]
	if diff := cmp.Diff(wantA, VRRPInstance{Track: a.Track, TrackScripts: a.TrackScripts, TrackFiles: a.TrackFiles}, cmpOpts...); diff != "" {
		t.Errorf("A's tracking (-want +got):\n%s", diff)
	}
	// B tracks chk itself with weight 0: it stays 0, once, with a
	// warning, as keepalived keeps an unweighted instance entry.
	b := c.VRRP[1]
	if diff := cmp.Diff([]TrackScript{{Pos: at(40), Name: "chk"}}, b.TrackScripts, cmpOpts...); diff != "" {
		t.Errorf("B's scripts (-want +got):\n%s", diff)
	}
	if len(b.Track) != 2 || len(b.TrackFiles) != 1 {
		t.Errorf("B tracks interfaces %v and files %v, want the group's 2 and 1", b.Track, b.TrackFiles)
	}
	var warns []string
	for _, w := range c.Warnings {
		warns = append(warns, w.String())
	}
	if want := "k.conf:18: track_script: chk is tracked by vrrp_instance B and by its sync group G"; !containsPrefix(warns, want) {
		t.Errorf("no warning %q in:\n%s", want, strings.Join(warns, "\n"))
	}
}

// A member that owns the addresses (priority 255): the group's weights
// are cleared, for every member, each with a warning, as keepalived's
// "Cannot have weighted track ... with member having priority 255".
func TestSyncGroupTrackingOwnerClearsWeights(t *testing.T) {
	src := strings.Replace(sgTrackConf, "priority 90", "priority 255", 1)
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range c.VRRP {
		for _, tr := range in.Track {
			if tr.Weight != 0 {
				t.Errorf("%s: track_interface %s weight %d, want 0", in.Name, tr.Name, tr.Weight)
			}
		}
		if len(in.TrackScripts) != 1 || in.TrackScripts[0].Weight != 0 {
			t.Errorf("%s: scripts %+v, want chk with weight 0", in.Name, in.TrackScripts)
		}
		if len(in.TrackFiles) != 1 || in.TrackFiles[0].Weight != 0 || in.TrackFiles[0].Reverse {
			t.Errorf("%s: files %+v, want tf with weight 0", in.Name, in.TrackFiles)
		}
	}
	var warns []string
	for _, w := range c.Warnings {
		warns = append(warns, w.String())
	}
	for _, want := range []string{
		"k.conf:18: track_script: chk: weight -20: a member of sync group G is the address owner",
		"k.conf:21: track_file: tf: weight -5: a member of sync group G is the address owner",
		"k.conf:8: track_interface: eth2: weight -10: a member of sync group G is the address owner",
	} {
		if !containsPrefix(warns, want) {
			t.Errorf("no warning %q in:\n%s", want, strings.Join(warns, "\n"))
		}
	}
}

// With sync_group_tracking_weight a member's own weighted objects are
// allowed; one the group tracks too takes the group's weight.
func TestSyncGroupTrackingWeightMerge(t *testing.T) {
	src := strings.Replace(sgTrackConf, "  track_interface {\n    eth2", "  sync_group_tracking_weight\n  track_interface {\n    eth2", 1)
	src = strings.Replace(src, "    chk weight 0\n", "    chk weight 7\n", 1)
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.SyncGroups[0].TrackingWeight {
		t.Fatal("TrackingWeight not set")
	}
	if got := c.VRRP[1].TrackScripts; len(got) != 1 || got[0].Weight != -20 {
		t.Errorf("B's scripts %+v, want chk once with the group's weight -20", got)
	}
}

func TestSyncGroupTrackingErrors(t *testing.T) {
	head := "vrrp_script chk {\n  script /bin/true\n}\ntrack_file tf {\n  file /tmp/tf\n}\n"
	group := func(body string) string {
		return "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n" + body + "}\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"unknown script", head + group("  track_script {\n    nosuch\n  }\n") + minimalVRRP, `k.conf:12: track_script: no vrrp_script "nosuch" defined before this line`},
		{"unknown file", head + group("  track_file {\n    nosuch\n  }\n") + minimalVRRP, `k.conf:12: track_file: no track_file "nosuch" defined before this line`},
		{"script twice", head + group("  track_script {\n    chk\n    chk weight 2\n  }\n") + minimalVRRP, "k.conf:13: track_script: chk is tracked twice"},
		{"interface twice", head + group("  track_interface {\n    eth2\n    eth2 weight 2\n  }\n") + minimalVRRP, "k.conf:13: track_interface: eth2 is tracked twice"},
		{"interface weight 254", head + group("  track_interface {\n    eth2 weight 254\n  }\n") + minimalVRRP, `k.conf:12: track_interface: weight "254" is not a number -253-253`},
		{"script weight option", head + group("  track_script {\n    chk weight 2 backwards\n  }\n") + minimalVRRP, `k.conf:12: track_script: chk: "2 backwards": want weight N [reverse|noreverse]`},
		{"file bad option", head + group("  track_file {\n    tf weigth 2\n  }\n") + minimalVRRP, `k.conf:12: track_file: "tf weigth 2": want NAME [weight N [reverse|noreverse]]`},
		{"interface in member and group", head + group("  track_interface {\n    eth2\n  }\n") + strings.Replace(minimalVRRP, "}\n}\n", "}\n  track_interface {\n    eth2\n  }\n}\n", 1), "k.conf:7: track_interface: eth2 is tracked by vrrp_instance VI_1 and by its sync group G"},
		{"weighted member script the group tracks too", head + group("  track_script {\n    chk\n  }\n") + strings.Replace(minimalVRRP, "}\n}\n", "}\n  track_script {\n    chk weight 5\n  }\n}\n", 1), "k.conf:22: vrrp_instance VI_1: track_script chk: weight 5 in sync group G: keepalived 2.2.7 ignores weighted scripts"},
		{"track_process", group("  track_process {\n    p\n  }\n") + minimalVRRP, "k.conf:5: track_process: not supported in vrrp_sync_group: process tracking"},
		{"track_bfd", group("  track_bfd {\n    b\n  }\n") + minimalVRRP, "k.conf:5: track_bfd: not supported in vrrp_sync_group: BFD tracking"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKeepalived("k.conf", []byte(tt.src), mapFS{})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if !strings.HasPrefix(es[0].Error(), tt.want) {
				t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), tt.want)
			}
		})
	}
}
