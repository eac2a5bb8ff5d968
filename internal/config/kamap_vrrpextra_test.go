package config

import (
	"testing"
	"time"
)

// extraCase is a file with dont_track_primary, promote_secondaries,
// notify_priority_changes or garp_extra_if lines, what the reader warns,
// what keepalived 2.2.7 says of it with -t (when anything), and what the
// first instance ("VI_1") and the second ("VI_2", when there is one) get.
type extraCase struct {
	name       string
	src        string
	warnings   []string
	keepalived string
	check      func(t *testing.T, c *Config)
}

// twoInstances is a sync group G of VI_1, with body1 in VI_1, body2 in
// VI_2 outside the group, group in the group and global in global_defs.
func twoInstances(global, group, body1, body2 string) string {
	inst := func(name, vrid, vip, body string) string {
		return "vrrp_instance " + name + " {\n  interface eth1\n  virtual_router_id " + vrid + "\n  virtual_ipaddress {\n    " + vip + "\n  }\n" + body + "}\n"
	}
	return "global_defs {\n" + global + "}\n" + "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n" + group + "}\n" +
		inst("VI_1", "7", "10.0.0.1", body1) + inst("VI_2", "8", "10.0.0.2", body2)
}

func wantInstance(f func(in *VRRPInstance) (got, want any)) func(t *testing.T, c *Config) {
	return func(t *testing.T, c *Config) {
		t.Helper()
		for i := range c.VRRP {
			if got, want := f(&c.VRRP[i]); got != want {
				t.Errorf("%s: got %v, want %v", c.VRRP[i].Name, got, want)
			}
		}
	}
}

var extraCases = []extraCase{
	{
		name: "dont_track_primary and promote_secondaries", src: exactInstance("  dont_track_primary\n  promote_secondaries\n"),
		check: wantInstance(func(in *VRRPInstance) (any, any) {
			return [2]bool{in.DontTrackPrimary, in.PromoteSecondaries}, [2]bool{true, true}
		}),
	},
	{
		name: "dont_track_primary with a word", src: exactInstance("  dont_track_primary no\n"),
		warnings: []string{`k.conf:7: dont_track_primary: "no" after it ignored: keepalived sets dont_track_primary whatever follows`},
		check:    wantInstance(func(in *VRRPInstance) (any, any) { return in.DontTrackPrimary, true }),
	},
	{
		name: "promote_secondaries with use_vmac", src: exactInstance("  use_vmac\n  promote_secondaries\n"),
		keepalived: "(VI_1) promote_secondaries is automatically set for vmacs - ignoring",
		warnings:   []string{`k.conf:8: promote_secondaries: ignored with use_vmac, as keepalived does ("promote_secondaries is automatically set for vmacs - ignoring")`},
		check:      wantInstance(func(in *VRRPInstance) (any, any) { return in.PromoteSecondaries, false }),
	},
	{
		name: "notify_priority_changes: instance, group, global",
		src:  twoInstances("  vrrp_notify_priority_changes\n", "  notify_priority_changes false\n", "", ""),
		check: func(t *testing.T, c *Config) {
			if c.VRRP[0].NotifyPriorityChanges || !c.VRRP[1].NotifyPriorityChanges {
				t.Errorf("VI_1 (group: false) %v, VI_2 (global: true) %v", c.VRRP[0].NotifyPriorityChanges, c.VRRP[1].NotifyPriorityChanges)
			}
		},
	},
	{
		name: "notify_priority_changes: the instance's own wins",
		src:  twoInstances("", "  notify_priority_changes\n", "  notify_priority_changes off\n", "  notify_priority_changes yes\n"),
		check: func(t *testing.T, c *Config) {
			if c.VRRP[0].NotifyPriorityChanges || !c.VRRP[1].NotifyPriorityChanges {
				t.Errorf("VI_1 (own: off) %v, VI_2 (own: yes) %v", c.VRRP[0].NotifyPriorityChanges, c.VRRP[1].NotifyPriorityChanges)
			}
		},
	},
	{
		name: "garp_extra_if all", src: exactInstance("  garp_extra_if all 100\n"),
		check: wantInstance(func(in *VRRPInstance) (any, any) { return in.GARPExtraIf, 100 * time.Second }),
	},
	{
		name: "garp_extra_if without all", src: exactInstance("  garp_extra_if 100\n"),
		warnings: []string{`k.conf:7: garp_extra_if: without "all" keepalived sends these on the VMACs of single addresses (use_vmac in an address line) only, which lbnode does not have: no gratuitous ARP is sent`},
		check:    wantInstance(func(in *VRRPInstance) (any, any) { return in.GARPExtraIf, time.Duration(0) }),
	},
	{
		name: "garp_extra_if bad", src: exactInstance("  garp_extra_if all 86401\n"),
		keepalived: "(VI_1): garp_extra_if '86401' invalid - ignoring",
		warnings:   []string{`k.conf:7: garp_extra_if: "86401" is not a number of seconds 0-86400: the line is ignored, as keepalived does ("garp_extra_if '86401' invalid - ignoring")`},
		check:      wantInstance(func(in *VRRPInstance) (any, any) { return in.GARPExtraIf, time.Duration(0) }),
	},
	{
		name: "garp_extra_if without time", src: exactInstance("  garp_extra_if all\n"),
		keepalived: "(VI_1): garp_extra_if specified without time - ignoring",
		warnings:   []string{`k.conf:7: garp_extra_if: no interval: the line is ignored, as keepalived does ("garp_extra_if specified without time - ignoring")`},
	},
	{
		name: "vmac_garp_intvl", src: exactInstance("  vmac_garp_intvl 30 all\n"),
		keepalived: `Keyword "vmac_garp_intvl" is deprecated - please use "garp_extra_if"`,
		warnings:   []string{`k.conf:7: vmac_garp_intvl: deprecated: keepalived reads it as garp_extra_if`},
		check:      wantInstance(func(in *VRRPInstance) (any, any) { return in.GARPExtraIf, 30 * time.Second }),
	},
	{
		name: "vrrp_garp_extra_if all, and an instance's own",
		src:  twoInstances("  vrrp_garp_extra_if all 60\n", "", "", "  garp_extra_if 0\n"),
		check: func(t *testing.T, c *Config) {
			// VI_2's own line (without "all") wins over the global one.
			if c.VRRP[0].GARPExtraIf != time.Minute || c.VRRP[1].GARPExtraIf != 0 {
				t.Errorf("VI_1 (global) %v, VI_2 (own 0) %v", c.VRRP[0].GARPExtraIf, c.VRRP[1].GARPExtraIf)
			}
		},
	},
	{
		name: "vrrp_garp_extra_if 0", src: "global_defs {\n  vrrp_garp_extra_if all 0\n}\n" + exactInstance(""),
		keepalived: "vrrp_garp_extra_if '0' invalid - ignoring",
		warnings:   []string{`k.conf:2: vrrp_garp_extra_if: "0" is not a number of seconds 1-86400: the line is ignored, as keepalived does ("vrrp_garp_extra_if '0' invalid - ignoring")`},
		check:      wantInstance(func(in *VRRPInstance) (any, any) { return in.GARPExtraIf, time.Duration(0) }),
	},
	{
		name: "vrrp_vmac_garp_intvl", src: "global_defs {\n  vrrp_vmac_garp_intvl 20 all\n}\n" + exactInstance(""),
		keepalived: `Keyword "vrrp_vmac_garp_intvl" is deprecated - please use "vrrp_garp_extra_if"`,
		warnings:   []string{`k.conf:2: vrrp_vmac_garp_intvl: deprecated: keepalived reads it as vrrp_garp_extra_if`},
		check:      wantInstance(func(in *VRRPInstance) (any, any) { return in.GARPExtraIf, 20 * time.Second }),
	},
	{
		name: "old_unicast_checksum", src: exactInstance("  old_unicast_checksum\n"),
		check: wantInstance(func(in *VRRPInstance) (any, any) { return in.OldUnicastChecksum, "always" }),
	},
	{
		name: "old_unicast_checksum never", src: exactInstance("  old_unicast_checksum never\n"),
		check: wantInstance(func(in *VRRPInstance) (any, any) { return in.OldUnicastChecksum, "never" }),
	},
	{
		name: "old_unicast_checksum bad", src: exactInstance("  old_unicast_checksum sometimes\n"),
		keepalived: "(VI_1) Unknown old_unicast_chksum mode sometimes - ignoring",
		warnings:   []string{`k.conf:7: old_unicast_checksum: "sometimes" is not never: ignored, as keepalived does ("(VI_1) Unknown old_unicast_chksum mode sometimes - ignoring")`},
		check:      wantInstance(func(in *VRRPInstance) (any, any) { return in.OldUnicastChecksum, "" }),
	},
	{
		name: "notify_deleted", src: exactInstance("  notify_deleted\n"),
		warnings: []string{"k.conf:7: notify_deleted: accepted and ignored in vrrp_instance: no effect: lbnode refuses a reload that removes an instance (restart the node to apply it), so it never notifies a deletion"},
	},
	{
		name: "garp_group",
		src: "garp_group {\n  garp_interval 0.001\n  gna_interval 0.5\n  interfaces {\n    eth1\n  }\n}\n" +
			"garp_group {\n  garp_interval 2\n  interface lo\n}\n" + exactInstance(""),
		check: func(t *testing.T, c *Config) {
			g := c.Global.GARPGroups
			if len(g) != 2 || len(g[0].Interfaces) != 1 || g[0].Interfaces[0] != "eth1" || g[0].GARPInterval != time.Millisecond || g[0].GNAInterval != 500*time.Millisecond ||
				g[1].Interfaces[0] != "lo" || g[1].GARPInterval != 2*time.Second || g[1].GNAInterval != 0 {
				t.Errorf("groups %+v", g)
			}
		},
	},
	{
		name:       "garp_group without interval",
		src:        "garp_group {\n  interface eth1\n}\ngarp_group {\n  gna_interval 1\n  interfaces {\n    lo\n  }\n}\ngarp_group {\n  interfaces {\n    eth1\n  }\n}\n" + exactInstance(""),
		keepalived: "garp group 2 does not have any delay set - removing",
		warnings: []string{`k.conf:1: garp_group: no garp_interval or gna_interval: the group is dropped, as keepalived does ("garp group 0 does not have any delay set - removing")`,
			`k.conf:10: garp_group: no garp_interval or gna_interval: the group is dropped, as keepalived does ("garp group 2 does not have any delay set - removing")`},
		check: func(t *testing.T, c *Config) {
			if len(c.Global.GARPGroups) != 1 {
				t.Errorf("groups %+v", c.Global.GARPGroups)
			}
		},
	},
	{
		name: "garp_group interface twice", src: "garp_group {\n  garp_interval 1\n  interface eth1\n}\ngarp_group {\n  gna_interval 1\n  interface eth1\n}\n" + exactInstance(""),
		keepalived: "garp_group already specified for eth1 - ignoring",
		warnings:   []string{`k.conf:7: interface: eth1 is in the garp_group of k.conf:1 already: ignored here, as keepalived does ("garp_group already specified for eth1 - ignoring")`},
	},
}

func TestParseKeepalivedVRRPExtras(t *testing.T) {
	for _, tc := range extraCases {
		t.Run(tc.name, func(t *testing.T) {
			c := parseLineCase(t, tc.src, "", tc.warnings)
			if c != nil && tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestParseKeepalivedGARPGroupBadInterval(t *testing.T) {
	parseLineCase(t, "garp_group {\n  garp_interval 3000\n  interface eth1\n}\n"+exactInstance(""),
		`k.conf:2: garp_interval: "3000" is not a number of seconds 0-2147.483647 (keepalived 2.2.7 reports it and ignores the line or reads another value)`, nil)
}
