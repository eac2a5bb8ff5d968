package vrrp

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseConfig parses args with a FlagSet that holds only Flags.
func parseConfig(args ...string) (Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := NewFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return f.Config()
}

func TestFlagsFillConfig(t *testing.T) {
	base := []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24"}
	tests := []struct {
		name string
		args []string
		want func(*Config)
	}{
		{"defaults", base, func(*Config) {}},
		{"every flag", append(base, "-priority", "150", "-vip-interface", "eth0", "-advert-int", "2s",
			"-auth-pass", "secret", "-nopreempt", "-preempt-delay", "10s", "-unicast-src", "172.16.0.1",
			"-unicast-peer", "172.16.0.2, 172.16.0.3", "-track-interface", "eth1,eth2", "-garp-repeat", "3",
			"-garp-delay", "1s", "-garp-refresh", "1m"), func(c *Config) {
			c.Priority, c.VIPInterface, c.AdvertInterval = 150, "eth0", 2*time.Second
			c.AuthPass, c.NoPreempt, c.PreemptDelay = "secret", true, 10*time.Second
			c.UnicastSrc = netip.MustParseAddr("172.16.0.1")
			c.UnicastPeers = []netip.Addr{netip.MustParseAddr("172.16.0.2"), netip.MustParseAddr("172.16.0.3")}
			c.TrackInterfaces = []string{"eth1", "eth2"}
			c.GARPRepeat, c.GARPDelay, c.GARPRefresh = 3, time.Second, time.Minute
		}},
		{"several VIPs", []string{"-interface", "lo", "-vrid", "7", "-vip", "192.168.0.100/24,10.0.0.1/32"}, func(c *Config) {
			c.VRID, c.Name = 7, "VI_7"
			c.VIPs = append(c.VIPs, netip.MustParsePrefix("10.0.0.1/32"))
		}},
		{"garp delay 0 is no second burst", append(base, "-garp-delay", "0"), func(c *Config) { c.GARPDelay = -1 }},
		{"bare numbers are seconds", append(base, "-advert-int", "3", "-garp-delay", "2.5"), func(c *Config) {
			c.AdvertInterval, c.GARPDelay = 3*time.Second, 2500*time.Millisecond
		}},
		{"v3 IPv6 at 10ms", []string{"-interface", "lo", "-vrid", "1", "-vip", "fd00::100/64", "-advert-int", "10ms",
			"-unicast-src", "fe80::1", "-unicast-peer", "fe80::2"}, func(c *Config) {
			c.Version, c.IPv6, c.Group, c.AdvertInterval = 3, true, MulticastGroup6, 10*time.Millisecond
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("fd00::100/64")}
			c.UnicastSrc, c.UnicastPeers = netip.MustParseAddr("fe80::1"), []netip.Addr{netip.MustParseAddr("fe80::2")}
		}},
		{"v3 IPv4 in centiseconds", append(base, "-version", "3", "-advert-int", "0.25", "-mcast-group", "224.0.0.19"), func(c *Config) {
			c.Version, c.AdvertInterval, c.Group = 3, 250*time.Millisecond, netip.MustParseAddr("224.0.0.19")
		}},
		{"last of a repeated flag", append(base, "-vip", "192.168.0.200/24"), func(c *Config) {
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("192.168.0.200/24")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := Config{Name: "VI_1", Interface: "lo", VIPInterface: "lo", VRID: 1, Priority: DefaultPriority,
				VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}, AdvertInterval: DefaultAdvertInterval,
				GARPRepeat: DefaultGARPRepeat, GARPDelay: DefaultGARPDelay, GARPRefreshRepeat: 1, Version: 2, Group: MulticastGroup}
			tt.want(&want)
			// vrrpd has no flags of its own for these: they follow the
			// garp repeat and delay, as keepalived's defaults do.
			want.GARPLowerPrioRepeat, want.GARPLowerPrioDelay = want.GARPRepeat, want.GARPDelay
			got, err := parseConfig(tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlagsRejectNamingTheFlag(t *testing.T) {
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
		{"IPv6 VIP with version 2", []string{"-interface", "lo", "-vrid", "1", "-version", "2", "-vip", "2001:db8::1/64"}, "-version"},
		{"IPv4 and IPv6 VIPs", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24,2001:db8::1/64"}, "-vip"},
		{"version 4", append(base, "-version", "4"), "-version"},
		{"v3 interval below 10ms", append(base, "-version", "3", "-advert-int", "5ms"), "-advert-int"},
		{"v3 interval above 40.95s", append(base, "-version", "3", "-advert-int", "41s"), "-advert-int"},
		{"v3 password", append(base, "-version", "3", "-auth-pass", "secret"), "-auth-pass"},
		{"v3 unicast src global IPv6", []string{"-interface", "lo", "-vrid", "1", "-vip", "2001:db8::1/64",
			"-unicast-src", "2001:db8::2", "-unicast-peer", "fe80::3"}, "-unicast-src"},
		{"IPv6 group for IPv4", append(base, "-mcast-group", "ff02::12"), "-mcast-group"},
		{"unicast group", append(base, "-mcast-group", "10.0.0.1"), "-mcast-group"},
		{"VIP without prefix", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100"}, "-vip"},
		{"second VIP bad", []string{"-interface", "lo", "-vrid", "1", "-vip", "192.168.0.100/24,nope"}, "-vip"},
		{"empty track interface", append(base, "-track-interface", "lo,"), "-track-interface"},
		{"fractional interval", append(base, "-advert-int", "1500ms"), "-advert-int"},
		{"zero interval", append(base, "-advert-int", "0s"), "-advert-int"},
		{"interval too long", append(base, "-advert-int", "256"), "-advert-int"},
		{"interval not a duration", append(base, "-advert-int", "fast"), "-advert-int"},
		{"interval NaN", append(base, "-advert-int", "NaN"), "-advert-int"},
		{"fractional seconds", append(base, "-advert-int", "1.5"), "-advert-int"},
		{"unicast src IPv6", append(base, "-unicast-src", "fe80::1", "-unicast-peer", "172.16.0.2"), "-unicast-src"},
		{"unicast src not an address", append(base, "-unicast-src", "x", "-unicast-peer", "172.16.0.2"), "-unicast-src"},
		{"multicast peer", append(base, "-unicast-peer", "224.0.0.18"), "-unicast-peer"},
		{"garp repeat 0", append(base, "-garp-repeat", "0"), "-garp-repeat"},
		{"negative garp delay", append(base, "-garp-delay", "-1s"), "-garp-delay"},
		{"negative garp refresh", append(base, "-garp-refresh", "-1s"), "-garp-refresh"},
		{"negative preempt delay", append(base, "-preempt-delay", "-1s"), "-preempt-delay"},
		{"no interface", []string{"-vrid", "1", "-vip", "192.168.0.100/24"}, "-interface"},
		{"no vrid", []string{"-interface", "lo", "-vip", "192.168.0.100/24"}, "-vrid"},
		{"no vip", []string{"-interface", "lo", "-vrid", "1"}, "-vip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			// A value that does not parse fails flag parsing, which names
			// the flag; a Config that does not normalize is a FieldError,
			// whose flag FlagName gives.
			msg := err.Error()
			if fe := (*FieldError)(nil); errors.As(err, &fe) {
				msg = FlagName(fe.Field)
			}
			if !strings.Contains(msg, tt.flag) {
				t.Errorf("error %q does not lead to %s", err, tt.flag)
			}
		})
	}
}

func TestFlagNameCoversEveryFlag(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	NewFlags(fs)
	names := map[string]bool{}
	for _, f := range flagNames {
		names[f] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "nopreempt" && !names["-"+f.Name] {
			t.Errorf("flag -%s has no Config field in FlagName", f.Name)
		}
		delete(names, "-"+f.Name)
	})
	for f := range names {
		t.Errorf("FlagName gives %s, which NewFlags does not define", f)
	}
	if FlagName("NetNS") != "" {
		t.Errorf("FlagName(NetNS) = %q, want none", FlagName("NetNS"))
	}
}

func TestParseVIPs(t *testing.T) {
	got, err := ParseVIPs(" 192.168.0.100/24 ,10.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24"), netip.MustParsePrefix("10.0.0.1/32")}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, s := range []string{"", "192.168.0.100", "192.168.0.100/24,", "fe80::1%eth0/64", "192.168.0.100/33", "2001:db8::1/129"} {
		_, err := ParseVIPs(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "VIPs" {
			t.Errorf("ParseVIPs(%q) error %v, want a FieldError naming VIPs", s, err)
		}
	}
}

func TestParsePeers(t *testing.T) {
	got, err := ParsePeers("172.16.0.2,172.16.0.3")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("172.16.0.2"), netip.MustParseAddr("172.16.0.3")}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, s := range []string{"", "172.16.0.2,", "224.0.0.18", "0.0.0.0", "::", "ff02::12", "fe80::2%eth1", "172.16.0.0/24"} {
		_, err := ParsePeers(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "UnicastPeers" || !strings.Contains(fe.Value, strings.Split(s, ",")[len(strings.Split(s, ","))-1]) {
			t.Errorf("ParsePeers(%q) error %v, want a FieldError naming UnicastPeers and the bad element", s, err)
		}
	}
}
