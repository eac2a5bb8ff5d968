package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBGPWarnings pins the warnings about announced VIPs that the nodes
// cannot forward consistently: a virtual server without the mh scheduler
// (by address, or by a listed fwmark), and TCP or SCTP services without
// sloppy_tcp or sloppy_sctp in sysctls. A prefix without a virtual
// server is an error (TestParseYAMLBGPErrors).
func TestBGPWarnings(t *testing.T) {
	vs := func(addr, proto, algo string) string {
		port := addr[strings.LastIndexByte(addr, ':'):]
		return "  - address: " + addr + "\n    protocol: " + proto + "\n    lb_algo: " + algo + "\n    lb_kind: DR\n    real_servers:\n      - address: 10.1.0.1" + port + "\n"
	}
	fwm := func(mark, algo string) string {
		return "  - fwmark: " + mark + "\n    lb_algo: " + algo + "\n    lb_kind: DR\n    real_servers:\n      - address: 10.1.0.1\n"
	}
	bgp := func(announce string) string {
		return "bgp:\n  asn: 65001\n  router_id: 10.0.0.11\n  neighbors:\n    - address: 10.0.0.1\n      asn: 65000\n  announce:\n" + announce
	}
	const sloppy = "sysctls:\n  net.ipv4.vs.sloppy_tcp: 1\n"
	notMH := " not mh: flows moved between nodes by ECMP will reach a different real server"
	noSloppy := "announced TCP services need net.ipv4.vs.sloppy_tcp: 1 in sysctls, which lacks it: a node that receives a connection moved to it by ECMP mid-stream hands it to its own TCP stack, which resets it"
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"mh and sloppy_tcp",
			"virtual_servers:\n" + vs("192.168.100.1:80", "TCP", "mh") + fwm("7", "mh") + bgp("    - 192.168.100.1/32\n    - {prefix: 192.168.100.2/32, fwmark: [7]}\n") + sloppy,
			nil},
		{"address service with wlc",
			// lines: virtual servers 2-13, bgp 14, the announce item 21
			"virtual_servers:\n" + vs("192.168.100.1:80", "TCP", "wlc") + vs("192.168.100.1:443", "TCP", "mh") + bgp("    - 192.168.100.1/32\n") + sloppy,
			[]string{"n.yaml:21: bgp.announce[0]: 192.168.100.1/32 is served by virtual server TCP 192.168.100.1:80 (n.yaml:2) with the wlc scheduler," + notMH}},
		{"listed fwmark service with rr",
			"virtual_servers:\n" + vs("192.168.100.1:80", "TCP", "mh") + fwm("7", "rr") + fwm("8", "wlc") + bgp("    - 192.168.100.1/32\n    - {prefix: 192.168.100.2/32, fwmark: [7]}\n") + sloppy,
			[]string{"n.yaml:26: bgp.announce[1]: 192.168.100.2/32 is served by virtual server FWM 7 (n.yaml:8) with the rr scheduler," + notMH}},
		{"no sysctls",
			"virtual_servers:\n" + vs("192.168.100.1:80", "TCP", "mh") + bgp("    - 192.168.100.1/32\n"),
			[]string{"n.yaml:9: bgp: " + noSloppy}},
		{"sloppy_tcp 0",
			"virtual_servers:\n" + fwm("7", "mh") + bgp("    - {prefix: 192.168.100.2/32, fwmark: [7]}\n") + "sysctls:\n  net.ipv4.vs.sloppy_tcp: 0\n",
			[]string{`n.yaml:8: bgp: announced TCP services need net.ipv4.vs.sloppy_tcp: 1 in sysctls, not "0": a node that receives a connection moved to it by ECMP mid-stream hands it to its own TCP stack, which resets it`}},
		{"sloppy_tcp written with slashes",
			"virtual_servers:\n" + vs("192.168.100.1:80", "TCP", "mh") + bgp("    - 192.168.100.1/32\n") + "sysctls:\n  net/ipv4/vs/sloppy_tcp: 1\n",
			nil},
		{"UDP only needs no sloppy_tcp",
			"virtual_servers:\n" + vs("192.168.100.1:53", "UDP", "mh") + bgp("    - 192.168.100.1/32\n"),
			nil},
		{"SCTP needs sloppy_sctp",
			"virtual_servers:\n" + vs("192.168.100.1:3868", "SCTP", "mh") + bgp("    - 192.168.100.1/32\n") + sloppy,
			[]string{"n.yaml:9: bgp: announced SCTP services need net.ipv4.vs.sloppy_sctp: 1 in sysctls, which lacks it: a node that receives a connection moved to it by ECMP mid-stream hands it to its own SCTP stack, which aborts it"}},
		{"a virtual server of another address is not the prefix's",
			"virtual_servers:\n" + vs("192.168.100.1:80", "TCP", "mh") + vs("192.168.100.9:80", "TCP", "rr") + bgp("    - 192.168.100.1/32\n") + sloppy,
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseYAML("n.yaml", []byte(tc.src))
			if err != nil {
				t.Fatalf("ParseYAML: %v\n%s", err, tc.src)
			}
			var got []string
			for _, w := range cfg.Warnings {
				got = append(got, w.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
