package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bgpVS is a virtual server for the VIP 192.168.100.1 with the mh
// scheduler, and a fwmark service 7, as a scale-out node has.
const bgpVS = `virtual_servers:
  - address: 192.168.100.1:80
    protocol: TCP
    lb_algo: mh
    lb_kind: DR
    real_servers:
      - address: 10.1.0.1:80
  - fwmark: 7
    lb_algo: mh
    lb_kind: DR
    real_servers:
      - address: 10.1.0.1:0
`

func TestParseYAMLBGP(t *testing.T) {
	src := bgpVS + `bgp:
  asn: 65001
  router_id: 10.0.0.11
  withdraw_wait: 1.5
  neighbors:
    - address: 10.0.0.1
      asn: 65000
      bfd: true
    - address: 10.0.1.1
      asn: 4200000000
      port: 1179
      hold_time: 3
      bfd: true
      bfd_interval: 100ms
      bfd_multiplier: 5
    - address: 10.0.2.1
      asn: 65000
  announce:
    - 192.168.100.1/32
    - {prefix: 192.168.100.2, fwmark: 7}
    - prefix: 192.168.100.3/32
      fwmark: [7]
      mark:
        - {protocol: tcp, port: 80, fwmark: 7}
        - {protocol: UDP, fwmark: 7}
`
	cfg, err := ParseYAML("n.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseYAML: %v", err)
	}
	at := func(l int) Pos { return Pos{File: "n.yaml", Line: l} }
	want := &BGP{
		Pos: at(14), ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), WithdrawWait: 1500 * time.Millisecond,
		Neighbors: []BGPNeighbor{
			{Pos: at(18), Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, Port: 179, HoldTime: 9 * time.Second, BFD: true, BFDInterval: 300 * time.Millisecond, BFDMultiplier: 3},
			{Pos: at(21), Address: netip.MustParseAddr("10.0.1.1"), ASN: 4200000000, Port: 1179, HoldTime: 3 * time.Second, BFD: true, BFDInterval: 100 * time.Millisecond, BFDMultiplier: 5},
			{Pos: at(28), Address: netip.MustParseAddr("10.0.2.1"), ASN: 65000, Port: 179, HoldTime: 9 * time.Second, BFDInterval: 300 * time.Millisecond, BFDMultiplier: 3},
		},
		Announce: []BGPAnnounce{
			{Pos: at(31), Prefix: netip.MustParsePrefix("192.168.100.1/32")},
			{Pos: at(32), Prefix: netip.MustParsePrefix("192.168.100.2/32"), FWMarks: []uint32{7}},
			{Pos: at(33), Prefix: netip.MustParsePrefix("192.168.100.3/32"), FWMarks: []uint32{7}, Marks: []BGPMark{
				{Pos: at(36), Protocol: TCP, Port: 80, FWMark: 7},
				{Pos: at(37), Protocol: UDP, FWMark: 7},
			}},
		},
	}
	if diff := cmp.Diff(want, cfg.BGP, cmpOpts...); diff != "" {
		t.Errorf("BGP (-want +got):\n%s", diff)
	}
}

// TestParseYAMLBGPErrors pins that each bad bgp setting is refused with
// the file, the line and the field, and that nothing is returned.
func TestParseYAMLBGPErrors(t *testing.T) {
	head := bgpVS + "bgp:\n  asn: 65001\n  router_id: 10.0.0.11\n"
	// head is 16 lines: the next line is 17.
	nb := "  neighbors:\n    - address: 10.0.0.1\n      asn: 65000\n"
	ann := "  announce:\n    - 192.168.100.1/32\n"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unknown neighbor field", head + nb + "      password: x\n" + ann,
			"n.yaml:19: password: unknown field"},
		{"neighbor ASN out of range", head + "  neighbors:\n    - address: 10.0.0.1\n      asn: 4294967296\n" + ann,
			`n.yaml:18: bgp.neighbors[0].asn: "4294967296" is not an AS number 1-4294967295`},
		{"own ASN zero", bgpVS + "bgp:\n  asn: 0\n  router_id: 10.0.0.11\n" + nb + ann,
			`n.yaml:14: bgp.asn: "0" is not an AS number 1-4294967295`},
		{"AS_TRANS", bgpVS + "bgp:\n  asn: 23456\n  router_id: 10.0.0.11\n" + nb + ann,
			`n.yaml:14: bgp.asn: "23456" is AS_TRANS (RFC 6793), not a real AS number`},
		{"prefix not a host route", head + nb + "  announce:\n    - 192.168.100.0/24\n",
			`n.yaml:20: bgp.announce[0]: "192.168.100.0/24" is not a host route (/32): a node announces only its VIPs`},
		{"prefix not a prefix", head + nb + "  announce:\n    - vip\n",
			`n.yaml:20: bgp.announce[0]: "vip" is not a prefix such as 192.168.100.1/32`},
		{"unknown announce field", head + nb + "  announce:\n    - {prefix: 192.168.100.1/32, med: 5}\n",
			`n.yaml:20: bgp.announce[0].med: unknown field`},
		{"prefix without virtual server", head + nb + "  announce:\n    - 192.168.100.9/32\n",
			`n.yaml:20: bgp.announce[0]: no virtual server has the address 192.168.100.9`},
		{"fwmark without virtual server", head + nb + "  announce:\n    - {prefix: 192.168.100.2/32, fwmark: 8}\n",
			`n.yaml:20: bgp.announce[0].fwmark: no virtual server has fwmark 8`},
		{"mark of another fwmark", head + nb + "  announce:\n    - prefix: 192.168.100.2/32\n      fwmark: [7]\n      mark:\n        - {protocol: TCP, port: 80, fwmark: 8}\n",
			`n.yaml:23: bgp.announce[0].mark[0].fwmark: 8 is not one of the prefix's fwmark services [7]`},
		{"mark without protocol", head + nb + "  announce:\n    - prefix: 192.168.100.2/32\n      fwmark: [7]\n      mark:\n        - {port: 80, fwmark: 7}\n",
			`n.yaml:23: bgp.announce[0].mark[0].protocol: missing`},
		{"mark port out of range", head + nb + "  announce:\n    - prefix: 192.168.100.2/32\n      fwmark: [7]\n      mark:\n        - {protocol: TCP, port: 70000, fwmark: 7}\n",
			`n.yaml:23: bgp.announce[0].mark[0].port: "70000" is not a number 1-65535`},
		{"mark twice", head + nb + "  announce:\n    - prefix: 192.168.100.2/32\n      fwmark: [7]\n      mark:\n        - {protocol: TCP, port: 80, fwmark: 7}\n        - {protocol: tcp, port: 80, fwmark: 7}\n",
			`n.yaml:24: bgp.announce[0].mark[1]: TCP port 80 is marked twice`},
		{"mark unknown field", head + nb + "  announce:\n    - prefix: 192.168.100.2/32\n      fwmark: [7]\n      mark:\n        - {protocol: TCP, dport: 80, fwmark: 7}\n",
			`n.yaml:23: bgp.announce[0].mark[0].dport: unknown field`},
		{"bfd interval without bfd", head + nb + "      bfd_interval: 100ms\n" + ann,
			`n.yaml:19: bgp.neighbors[0].bfd_interval: set without bfd: true`},
		{"bfd interval too short", head + nb + "      bfd: true\n      bfd_interval: 1ms\n" + ann,
			`n.yaml:20: bgp.neighbors[0].bfd_interval: "1ms" is not a duration`},
		{"bfd multiplier zero", head + nb + "      bfd: true\n      bfd_multiplier: 0\n" + ann,
			`n.yaml:20: bgp.neighbors[0].bfd_multiplier: "0" is not a number 1-255`},
		{"hold time 1 s", head + nb + "      hold_time: 1\n" + ann,
			`n.yaml:19: bgp.neighbors[0].hold_time: "1" is neither 0 nor at least 3 s`},
		{"router id IPv6", bgpVS + "bgp:\n  asn: 65001\n  router_id: '2001:db8::1'\n" + nb + ann,
			`n.yaml:15: bgp.router_id: "2001:db8::1" is not an IPv4 address`},
		{"no neighbors", head + ann,
			`n.yaml:14: bgp.neighbors: missing`},
		{"neighbor twice", head + nb + "    - address: 10.0.0.1\n      asn: 65002\n" + ann,
			`n.yaml:19: bgp.neighbors[1].address: "10.0.0.1" is listed twice`},
		{"neighbor without asn", head + "  neighbors:\n    - address: 10.0.0.1\n" + ann,
			`n.yaml:17: bgp.neighbors[0].asn: missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseYAML("n.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("ParseYAML accepted:\n%s", tt.src)
			}
			if cfg != nil {
				t.Errorf("ParseYAML returned a Config with the error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}
