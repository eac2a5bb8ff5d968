package config

import (
	"strings"
	"testing"
)

// keepalived runs these with a report: accepted, with a warning at the
// line.
func TestParseKeepalivedLenientVRRP(t *testing.T) {
	const src = `vrrp_sync_group VG1 {
  VI_1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 1
  priority 100
  virtual_ipaddress {
    192.168.0.100/24 dev eth0
  }
}
`
	c, err := ParseKeepalived("k.conf", []byte(src))
	if err != nil {
		t.Fatalf("ParseKeepalived: %v", err)
	}
	if len(c.SyncGroups) != 0 {
		t.Errorf("sync groups %+v, want none: a group without group { } is removed", c.SyncGroups)
	}
	want := map[int]string{1: "has no group", 2: "instance names belong in group"}
	for _, w := range c.Warnings {
		if s, ok := want[w.Pos.Line]; ok && strings.Contains(w.Msg, s) {
			delete(want, w.Pos.Line)
		}
	}
	for line, s := range want {
		t.Errorf("no warning at line %d saying %q; warnings: %v", line, s, c.Warnings)
	}
}
