package frr

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVRRPConfRendersFRRCommands(t *testing.T) {
	c := VRRPConfig{Interface: "eth0", Routers: []VRRPRouter{
		{VRID: 1, Priority: 150, AdvertInterval: 100 * time.Millisecond, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}},
		{VRID: 2, Version: 3, NoPreempt: true, VIPs: []netip.Prefix{netip.MustParsePrefix("fd00::100/64")}},
	}}
	if err := validateVRRP(c); err != nil {
		t.Fatal(err)
	}
	want := `debug vrrp protocol
interface eth0
 vrrp 1 version 3
 vrrp 1 priority 150
 vrrp 1 advertisement-interval 100
 vrrp 1 ip 192.168.0.100
 vrrp 2 version 3
 no vrrp 2 preempt
 vrrp 2 ipv6 fd00::100
`
	if diff := cmp.Diff(want, vrrpdConf(c)); diff != "" {
		t.Errorf("vrrpd.conf (-want +got):\n%s", diff)
	}
	if got := MacvlanName(2, 1, false) + " " + MacvlanName(2, 5, true); got != "vrrp4-2-1 vrrp6-2-5" {
		t.Errorf("MacvlanName: %q", got)
	}
}

func TestVRRPConfigRejectsWhatFRRRefuses(t *testing.T) {
	vip := []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}
	for _, tc := range []struct {
		name string
		r    VRRPRouter
		want string // in the error
	}{
		{"vrid 0", VRRPRouter{VIPs: vip}, "VRID 0"},
		{"priority 255", VRRPRouter{VRID: 1, Priority: 255, VIPs: vip}, "Priority 255"},
		{"interval not in centiseconds", VRRPRouter{VRID: 1, AdvertInterval: 15 * time.Millisecond, VIPs: vip}, "AdvertInterval 15ms"},
		{"interval too long", VRRPRouter{VRID: 1, AdvertInterval: 41 * time.Second, VIPs: vip}, "AdvertInterval 41s"},
		{"version 4", VRRPRouter{VRID: 1, Version: 4, VIPs: vip}, "Version 4"},
		{"no VIPs", VRRPRouter{VRID: 1}, "VIPs of VRID 1 is empty"},
		{"IPv6 in VRRPv2", VRRPRouter{VRID: 1, Version: 2, VIPs: []netip.Prefix{netip.MustParsePrefix("fd00::1/64")}}, "fd00::1/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateVRRP(VRRPConfig{Interface: "eth0", Routers: []VRRPRouter{tc.r}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
	dup := VRRPConfig{Interface: "eth0", Routers: []VRRPRouter{{VRID: 3, VIPs: vip}, {VRID: 3, VIPs: vip}}}
	if err := validateVRRP(dup); err == nil || !strings.Contains(err.Error(), "VRID 3 configured twice") {
		t.Errorf("duplicate VRID: %v", err)
	}
}
