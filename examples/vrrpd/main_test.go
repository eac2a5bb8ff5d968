package main

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvskit/lvskit/vrrp"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24,192.168.0.101/24",
		"-priority", "150", "-unicast-peer", "172.16.0.2", "-garp-delay", "0", "-notify", "/bin/true", "-metrics", ":9100"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := vrrp.Config{Name: "VI_1", Interface: "lo", VIPInterface: "lo", VRID: 1, Priority: 150,
		VIPs:           []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24"), netip.MustParsePrefix("192.168.0.101/24")},
		AdvertInterval: time.Second, UnicastPeers: []netip.Addr{netip.MustParseAddr("172.16.0.2")},
		GARPRepeat: vrrp.DefaultGARPRepeat, GARPDelay: -1, GARPRefreshRepeat: 1,
		GARPLowerPrioRepeat: vrrp.DefaultGARPRepeat, GARPLowerPrioDelay: -1, Version: 2, Group: vrrp.MulticastGroup}
	if diff := cmp.Diff(want, o.cfg, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if o.notify != "/bin/true" || o.metrics != ":9100" {
		t.Errorf("notify %q, metrics %q", o.notify, o.metrics)
	}
}

// vrrp's Flags tests cover each value's checks; these pin that vrrpd
// exits 2 naming the flag, for a value, an interface, the notify program
// and the command line itself.
func TestBadFlagsExit2NamingTheFlag(t *testing.T) {
	base := []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24"}
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"vrid 0", []string{"-interface", "lo", "-vrid", "0", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"unknown interface", []string{"-interface", "nope0", "-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"unknown VIP interface", append(base, "-vip-interface", "nope0"), "-vip-interface"},
		{"unknown tracked interface", append(base, "-track-interface", "lo,nope0"), "-track-interface"},
		{"fractional interval", append(base, "-advert-int", "1500ms"), "-advert-int"},
		{"missing notify program", append(base, "-notify", "/nonexistent/notify"), "-notify"},
		{"no interface", []string{"-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"no vip", []string{"-interface", "lo", "-vrid", "1"}, "-vip"},
		{"rt priority 0", append(base, "-rt-priority", "0"), "-rt-priority"},
		{"rt priority 100", append(base, "-rt-priority", "100"), "-rt-priority"},
		{"IPv6 VIP with version 2", []string{"-interface", "lo", "-vrid", "1", "-version", "2", "-vip", "fd00::100/64"}, "-version"},
		{"v3 interval 5ms", append(base, "-version", "3", "-advert-int", "5ms"), "-advert-int"},
		{"v3 password", append(base, "-version", "3", "-auth-pass", "secret"), "-auth-pass"},
		{"unknown flag", append(base, "-bogus"), "-bogus"},
		{"stray argument", append(base, "extra"), "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tt.args, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.flag) {
				t.Errorf("message %q does not name %s", stderr.String(), tt.flag)
			}
		})
	}
}
