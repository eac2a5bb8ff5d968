package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// A router waits for the tracked state of exactly the instances the
// tracking gives one at its start: those tracking a script, a file or a
// weighted interface, and the members of sync groups (here through a
// file the group tracks), among the router's own.
func TestAwaitTrackingNamesTrackedInstances(t *testing.T) {
	src := `track_file tf {
  file /run/lvskit/tf
}
vrrp_sync_group G {
  group {
    A
  }
  track_file {
    tf weight 0
  }
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress {
    10.0.0.2
  }
}
vrrp_instance C {
  interface eth1
  virtual_router_id 3
  virtual_ipaddress {
    10.0.1.1
  }
  track_interface {
    eth2 weight -10
  }
}
`
	cfg, err := config.Parse("k.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.VRRP[0].TrackFiles; len(got) != 1 || got[0].Name != "tf" {
		t.Fatalf("A tracks %v, want the group's file tf", got)
	}
	eth0 := []vrrp.Config{{Name: "A"}, {Name: "B"}}
	eth1 := []vrrp.Config{{Name: "C"}}
	if diff := cmp.Diff([]string{"A"}, awaitTracking(cfg, eth0)); diff != "" {
		t.Errorf("eth0 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"C"}, awaitTracking(cfg, eth1)); diff != "" {
		t.Errorf("eth1 (-want +got):\n%s", diff)
	}
	cfg.SyncGroups, cfg.VRRP[0].TrackFiles, cfg.VRRP[2].Track = nil, nil, nil
	if got := awaitTracking(cfg, append(eth0, eth1...)); got != nil {
		t.Errorf("nothing tracked: %v, want none", got)
	}
}
