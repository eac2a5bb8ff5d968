package config

import (
	"strings"
	"testing"
	"time"
)

func TestKeepalivedLowerPrioritySettings(t *testing.T) {
	instance := func(extra string) string {
		return "vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 1\n virtual_ipaddress {\n  192.168.0.100/24\n }\n" + extra + "}\n"
	}
	type want struct {
		repeat   int
		delay    time.Duration
		noAdvert bool
		// master* are the instance's garp_master_* values.
		masterRepeat int
		masterDelay  time.Duration
	}
	tests := []struct {
		name string
		conf string
		want want
	}{
		{"keepalived's defaults", instance(""), want{5, 5 * time.Second, false, 5, 5 * time.Second}},
		{"follow the global garp_master settings",
			"global_defs {\n vrrp_garp_master_repeat 3\n vrrp_garp_master_delay 2\n}\n" + instance(""),
			want{3, 2 * time.Second, false, 3, 2 * time.Second}},
		{"global lower-priority settings",
			"global_defs {\n vrrp_garp_lower_prio_repeat 0\n vrrp_garp_lower_prio_delay 9\n vrrp_lower_prio_no_advert\n}\n" + instance(""),
			want{0, 9 * time.Second, true, 5, 5 * time.Second}},
		{"the instance's own win",
			"global_defs {\n vrrp_garp_lower_prio_repeat 0\n vrrp_lower_prio_no_advert true\n}\n" +
				instance(" garp_lower_prio_repeat 7\n garp_lower_prio_delay 0\n lower_prio_no_advert off\n"),
			want{7, 0, false, 5, 5 * time.Second}},
		{"globals read after the instance still apply, as keepalived resolves them last",
			instance("") + "global_defs {\n vrrp_garp_lower_prio_repeat 2\n vrrp_lower_prio_no_advert yes\n}\n",
			want{2, 5 * time.Second, true, 5, 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseKeepalived("k.conf", []byte(tt.conf), mapFS{})
			if err != nil {
				t.Fatal(err)
			}
			in := c.VRRP[0]
			got := want{in.GARPLowerPrioRepeat, in.GARPLowerPrioDelay, in.LowerPrioNoAdvert, in.GARPMasterRepeat, in.GARPMasterDelay}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestKeepalivedLowerPrioritySettingsRefused(t *testing.T) {
	instance := "vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 1\n virtual_ipaddress {\n  192.168.0.100/24\n }\n"
	tests := []struct{ conf, want string }{
		{instance + " lower_prio_no_advert maybe\n}\n", `k.conf:7: lower_prio_no_advert: "maybe" is not one of true, on, yes, false, off, no`},
		{instance + " garp_lower_prio_repeat -1\n}\n", "k.conf:7: garp_lower_prio_repeat:"},
		{instance + " garp_lower_prio_delay 1.5\n}\n", "k.conf:7: garp_lower_prio_delay:"},
		{"global_defs {\n vrrp_garp_lower_prio_delay x\n}\n" + instance + "}\n", "k.conf:2: vrrp_garp_lower_prio_delay:"},
	}
	for _, tt := range tests {
		_, err := parseKeepalived("k.conf", []byte(tt.conf), mapFS{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.conf, err, tt.want)
		}
	}
}
