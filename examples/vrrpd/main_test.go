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
		GARPRepeat: vrrp.DefaultGARPRepeat, GARPDelay: -1}
	if diff := cmp.Diff(want, o.cfg, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if o.notify != "/bin/true" || o.metrics != ":9100" {
		t.Errorf("notify %q, metrics %q", o.notify, o.metrics)
	}
}

func TestBadFlagsExit2NamingTheFlag(t *testing.T) {
	base := []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24"}
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"vrid 0", []string{"-interface", "lo", "-vrid", "0", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"vrid 256", []string{"-interface", "lo", "-vrid", "256", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"vrid not a number", []string{"-interface", "lo", "-vrid", "x", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"priority 0", append(base, "-priority", "0"), "-priority"},
		{"priority 256", append(base, "-priority", "256"), "-priority"},
		{"long password", append(base, "-auth-pass", "123456789"), "-auth-pass"},
		{"IPv6 VIP", []string{"-interface", "lo", "-vrid", "1", "-vip", "2001:db8::1/64"}, "-vip"},
		{"VIP without prefix", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100"}, "-vip"},
		{"second VIP bad", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24,nope"}, "-vip"},
		{"unknown interface", []string{"-interface", "nope0", "-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"unknown VIP interface", append(base, "-vip-interface", "nope0"), "-vip-interface"},
		{"unknown tracked interface", append(base, "-track-interface", "lo,nope0"), "-track-interface"},
		{"fractional interval", append(base, "-advert-int", "1500ms"), "-advert-int"},
		{"zero interval", append(base, "-advert-int", "0s"), "-advert-int"},
		{"interval not a duration", append(base, "-advert-int", "fast"), "-advert-int"},
		{"fractional seconds", append(base, "-advert-int", "1.5"), "-advert-int"},
		{"unicast src IPv6", append(base, "-unicast-src", "::1", "-unicast-peer", "172.16.0.2"), "-unicast-src"},
		{"unicast src without peer", append(base, "-unicast-src", "172.16.0.1"), "-unicast-peer"},
		{"multicast peer", append(base, "-unicast-peer", "224.0.0.18"), "-unicast-peer"},
		{"garp repeat 0", append(base, "-garp-repeat", "0"), "-garp-repeat"},
		{"negative garp delay", append(base, "-garp-delay", "-1s"), "-garp-delay"},
		{"negative preempt delay", append(base, "-preempt-delay", "-1s"), "-preempt-delay"},
		{"missing notify program", append(base, "-notify", "/nonexistent/notify"), "-notify"},
		{"no interface", []string{"-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"no vip", []string{"-interface", "lo", "-vrid", "1"}, "-vip"},
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
