package cluster

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
)

func TestNodeYAMLParses(t *testing.T) {
	b := &Balancer{Name: "lb2", LAN: netip.MustParseAddr("192.168.0.12"), SVC: netip.MustParseAddr("172.16.0.2")}
	src := NodeYAML(b, NodeOptions{Priority: 101, Nopreempt: true, NginxPrefix: "/run/lvskit/nginx-lb2"})
	cfg, err := config.ParseYAML("lb2.yaml", []byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	sum := cfg.Summary()
	for _, want := range []string{
		"vrrp_instance 192.168.0.100: interface eth1, vrid 1, priority 101",
		"nopreempt",
		"vip 192.168.0.100/24 dev eth0",
		"TCP 192.168.0.100:80 wlc DR, delay_loop 6s",
		"-> 172.16.0.2:53 weight 1",
		"dnat to 172.16.0.2",
		"prefix /run/lvskit/nginx-lb2",
		"net.ipv4.ip_nonlocal_bind = 1",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if strings.Contains(sum, "nf_conntrack_max") {
		t.Errorf("conntrack max set without ConntrackMax:\n%s", sum)
	}
}

// V3Interval makes the instance VRRPv3 at that interval, without the
// authentication VRRPv3 has not; the default stays the article's.
func TestNodeYAMLV3(t *testing.T) {
	b := &Balancer{Name: "lb1", LAN: netip.MustParseAddr("192.168.0.11"), SVC: netip.MustParseAddr("172.16.0.1")}
	for _, tc := range []struct {
		o        NodeOptions
		version  int
		interval time.Duration
		auth     bool
	}{
		{NodeOptions{Priority: 102, NginxPrefix: "/x"}, 0, time.Second, true},
		{NodeOptions{Priority: 102, NginxPrefix: "/x", V3Interval: 100 * time.Millisecond}, 3, 100 * time.Millisecond, false},
	} {
		src := NodeYAML(b, tc.o)
		cfg, err := config.ParseYAML("lb1.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		in := cfg.VRRP[0]
		if in.Version != tc.version || in.AdvertInt != tc.interval || (in.Auth != nil) != tc.auth {
			t.Errorf("V3Interval %v: version %d, advert_int %v, auth %v; want %d, %v, auth %v", tc.o.V3Interval, in.Version, in.AdvertInt, in.Auth != nil, tc.version, tc.interval, tc.auth)
		}
	}
}
