package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vipCase is a vrrp_instance with virtual_ipaddress and
// virtual_ipaddress_excluded lines. keepalived is what `keepalived -t`
// prints for it (checked by the netns test; "" with no err: it prints no
// line message at all); the reader refuses it with err, or accepts it with
// warnings and the addresses.
type vipCase struct {
	name       string
	src        string
	keepalived string
	err        string
	warnings   []string
	vips       []VirtualIP
	excluded   []VirtualIP
}

// vipInstance is an instance on eth1 whose body starts on line 4.
func vipInstance(body string) string {
	return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n" + body + "}\n"
}

func vipBlock(lines ...string) string {
	return "  virtual_ipaddress {\n    " + strings.Join(lines, "\n    ") + "\n  }\n"
}

func excludedBlock(lines ...string) string {
	return "  virtual_ipaddress_excluded {\n    " + strings.Join(lines, "\n    ") + "\n  }\n"
}

var vipCases = []vipCase{
	{
		name: "every option", src: vipInstance(vipBlock("10.0.0.2/24 dev eth2 label eth2:x scope link brd + no_track")),
		vips: []VirtualIP{{Prefix: pfx("10.0.0.2/24"), Dev: "eth2", Label: "eth2:x", Scope: 253, Broadcast: ip("10.0.0.255"), NoTrack: true}},
	},
	{
		name: "broadcast minus, an address, scope number", src: vipInstance(vipBlock("10.0.0.2/24 broadcast -", "10.0.0.3/25 brd 10.0.0.127 scope 200", "10.0.0.4/24")),
		vips: []VirtualIP{
			{Prefix: pfx("10.0.0.2/24"), Broadcast: ip("10.0.0.0")},
			{Prefix: pfx("10.0.0.3/25"), Broadcast: ip("10.0.0.127"), Scope: 200},
			{Prefix: pfx("10.0.0.4/24")}, // no brd: no broadcast address
		},
	},
	{
		name: "brd plus on a /31", src: vipInstance(vipBlock("10.0.0.2/31 brd +")),
		keepalived: "(k.conf: Line 5) Address prefix length 31 too long for broadcast",
		warnings:   []string{`k.conf:5: virtual_ipaddress: brd +: no broadcast address for a /31, as keepalived 2.2.7 sets none ("Address prefix length 31 too long for broadcast")`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/31")}},
	},
	{
		name: "unknown word", src: vipInstance(vipBlock("10.0.0.2 bogus dev eth2")),
		keepalived: "(k.conf: Line 5) Unknown configuration entry 'bogus' for ip address - ignoring",
		warnings:   []string{`k.conf:5: virtual_ipaddress: "bogus" ignored, as keepalived 2.2.7 ignores it ("Unknown configuration entry 'bogus' for ip address - ignoring")`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32"), Dev: "eth2"}},
	},
	{
		name: "scope it cannot read", src: vipInstance(vipBlock("10.0.0.2 scope 300")),
		keepalived: "(k.conf: Line 5) Invalid scope '300' specified for 10.0.0.2 - ignoring",
		warnings:   []string{`k.conf:5: virtual_ipaddress: scope "300" is not global, site, link, host, nowhere or a number 0-255: ignored, as keepalived 2.2.7 does ("Invalid scope '300' specified for 10.0.0.2 - ignoring")`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32")}},
	},
	{
		name: "label and scope on IPv6", src: vipInstance(vipBlock("2001:db8::1 label foo scope link")),
		keepalived: "(k.conf: Line 5) Cannot specify label for IPv6 addresses (2001:db8::1) - ignoring label",
		warnings: []string{
			`k.conf:5: virtual_ipaddress: scope ignored for the IPv6 address 2001:db8::1, as keepalived 2.2.7 ignores it ("Cannot specify scope for IPv6 addresses (2001:db8::1) - ignoring scope")`,
			`k.conf:5: virtual_ipaddress: label ignored for the IPv6 address 2001:db8::1, as keepalived 2.2.7 ignores it ("Cannot specify label for IPv6 addresses (2001:db8::1) - ignoring label")`,
		},
		vips: []VirtualIP{{Prefix: pfx("2001:db8::1/128")}},
	},
	{
		name: "brd on IPv6", src: vipInstance(vipBlock("2001:db8::1 brd +")),
		keepalived: "(k.conf: Line 5) VRRP is trying to assign a broadcast brd to the IPv6 address 2001:db8::1 !!?? WTF... skipping VIP...",
		err:        "k.conf:5: virtual_ipaddress: brd + for the IPv6 address 2001:db8::1",
	},
	{
		name: "brd that is no address", src: vipInstance(vipBlock("10.0.0.2 brd 1.2.3")),
		keepalived: "(k.conf: Line 5) VRRP is trying to assign invalid broadcast 1.2.3. skipping VIP...",
		err:        `k.conf:5: virtual_ipaddress: brd "1.2.3" is not an IPv4 address`,
	},
	{
		name: "label too long", src: vipInstance(vipBlock("10.0.0.2 label abcdefghijklmnop")),
		keepalived: "(k.conf: Line 5) Address label abcdefghijklmnop is longer than maximum length 15 - removing address",
		err:        `k.conf:5: virtual_ipaddress: label "abcdefghijklmnop" is longer than 15 characters`,
	},
	{
		name: "dev twice", src: vipInstance(vipBlock("10.0.0.2 dev eth2 dev eth1")),
		keepalived: "(k.conf: Line 5) Cannot specify ipaddress device more than once for 10.0.0.2",
		err:        "k.conf:5: virtual_ipaddress: dev eth1: a second dev",
	},
	{
		name: "missing value", src: vipInstance(vipBlock("10.0.0.2 label")),
		keepalived: "(k.conf: Line 5) No label parameter specified for 10.0.0.2",
		err:        `k.conf:5: virtual_ipaddress: label: missing value (keepalived 2.2.7: "No label parameter specified for 10.0.0.2")`,
	},
	{
		name: "peer and flags on IPv4", src: vipInstance(vipBlock("10.0.0.2 dev eth2 peer 10.0.0.3 home mngtmpaddr noprefixroute")),
		vips: []VirtualIP{{Prefix: pfx("10.0.0.2/32"), Dev: "eth2", AddrSettings: AddrSettings{Peer: pfx("10.0.0.3/32"), Flags: IFAFHomeAddress | IFAFManageTempAddr | IFAFNoPrefixRoute}}},
	},
	{
		name: "IPv6 -nodad, preferred_lft forever, autojoin", src: vipInstance(vipBlock("2001:db8::1/64 -nodad preferred_lft forever autojoin", "2001:db8::2 preferred_lft 30", "2001:db8::3 preferred_lft +7 peer 2001:db8::4")),
		vips: []VirtualIP{
			{Prefix: pfx("2001:db8::1/64"), AddrSettings: AddrSettings{DAD: true, PreferredLft: 0xffffffff, PreferredLftSet: true, Flags: IFAFMCAutojoin}},
			{Prefix: pfx("2001:db8::2/128"), AddrSettings: AddrSettings{PreferredLft: 30, PreferredLftSet: true}},
			{Prefix: pfx("2001:db8::3/128"), AddrSettings: AddrSettings{PreferredLft: 7, PreferredLftSet: true, Peer: pfx("2001:db8::4/128")}},
		},
	},
	{
		name: "peer with a prefix length", src: vipInstance(vipBlock("10.0.0.2/24 peer 10.0.0.3")),
		keepalived: "(k.conf: Line 5) Cannot specify address prefix when specifying peer address - ignoring",
		warnings:   []string{`k.conf:5: virtual_ipaddress: 10.0.0.2/24: the prefix length is ignored with a peer, as keepalived 2.2.7 ignores it ("Cannot specify address prefix when specifying peer address - ignoring"): the address is a /32`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32"), AddrSettings: AddrSettings{Peer: pfx("10.0.0.3/32")}}},
	},
	{
		name: "brd with a peer", src: vipInstance(vipBlock("10.0.0.2 brd + peer 10.0.0.3")),
		keepalived: "(k.conf: Line 5) Cannot specify broadcast and peer addresses - ignoring broadcast address",
		warnings:   []string{`k.conf:5: virtual_ipaddress: brd + ignored with a peer, as keepalived 2.2.7 ignores it ("Cannot specify broadcast and peer addresses - ignoring broadcast address")`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32"), AddrSettings: AddrSettings{Peer: pfx("10.0.0.3/32")}}},
	},
	{
		name: "peer with a prefix length of its own", src: vipInstance(vipBlock("10.0.0.2 peer 10.0.0.3/30")),
		keepalived: "(k.conf: Line 5) Invalid peer address 10.0.0.3/30",
		warnings:   []string{`k.conf:5: virtual_ipaddress: peer "10.0.0.3/30" is not an address: ignored, as keepalived 2.2.7 ignores it ("Invalid peer address 10.0.0.3/30")`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32")}},
	},
	{
		name: "peer of another family", src: vipInstance(vipBlock("10.0.0.2 peer 2001:db8::2")),
		keepalived: "(k.conf: Line 5) Peer address 2001:db8::2 does not match address family",
		warnings:   []string{`k.conf:5: virtual_ipaddress: peer 2001:db8::2 is not of the family of 10.0.0.2: ignored, as keepalived 2.2.7 ignores it ("Peer address 2001:db8::2 does not match address family")`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32")}},
	},
	{
		// keepalived then reads the second peer's value as a word: here
		// the flag home.
		name: "a second peer", src: vipInstance(vipBlock("10.0.0.2 peer 10.0.0.3 peer home")),
		keepalived: "(k.conf: Line 5) Peer home - another peer has already been specified",
		warnings:   []string{`k.conf:5: virtual_ipaddress: peer home: a second peer is ignored, as keepalived 2.2.7 ignores it ("Peer home - another peer has already been specified"); like keepalived, lbnode then reads "home" as the next word`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.2/32"), AddrSettings: AddrSettings{Peer: pfx("10.0.0.3/32"), Flags: IFAFHomeAddress}}},
	},
	{
		name: "a second peer that is an address", src: vipInstance(vipBlock("10.0.0.2 peer 10.0.0.3 peer 10.0.0.4")),
		keepalived: "(k.conf: Line 5) Unknown configuration entry '10.0.0.4' for ip address - ignoring",
		warnings: []string{
			`k.conf:5: virtual_ipaddress: peer 10.0.0.4: a second peer is ignored, as keepalived 2.2.7 ignores it ("Peer 10.0.0.4 - another peer has already been specified"); like keepalived, lbnode then reads "10.0.0.4" as the next word`,
			`k.conf:5: virtual_ipaddress: "10.0.0.4" ignored, as keepalived 2.2.7 ignores it ("Unknown configuration entry '10.0.0.4' for ip address - ignoring")`,
		},
		vips: []VirtualIP{{Prefix: pfx("10.0.0.2/32"), AddrSettings: AddrSettings{Peer: pfx("10.0.0.3/32")}}},
	},
	{
		name: "peer missing", src: vipInstance(vipBlock("10.0.0.2 peer")),
		keepalived: "(k.conf: Line 5) No peer parameter specified for 10.0.0.2",
		err:        `k.conf:5: virtual_ipaddress: peer: missing value (keepalived 2.2.7: "No peer parameter specified for 10.0.0.2")`,
	},
	{
		name: "preferred_lft out of range", src: vipInstance(vipBlock("2001:db8::1 preferred_lft 4294967296")),
		keepalived: "(k.conf: Line 5) preferred_lft 4294967296 is invalid",
		warnings:   []string{`k.conf:5: virtual_ipaddress: preferred_lft 4294967296 is out of the range 0-4294967295: ignored, as keepalived 2.2.7 ignores it ("preferred_lft 4294967296 is invalid")`},
		vips:       []VirtualIP{{Prefix: pfx("2001:db8::1/128")}},
	},
	{
		name: "preferred_lft negative", src: vipInstance(vipBlock("2001:db8::1 preferred_lft -1")),
		keepalived: "(k.conf: Line 5) preferred_lft -1 is invalid",
		warnings:   []string{`k.conf:5: virtual_ipaddress: preferred_lft -1 is out of the range 0-4294967295: ignored, as keepalived 2.2.7 ignores it ("preferred_lft -1 is invalid")`},
		vips:       []VirtualIP{{Prefix: pfx("2001:db8::1/128")}},
	},
	{
		// keepalived -t ignores it; keepalived at run time uses 10.
		name: "preferred_lft not a number", src: vipInstance(vipBlock("2001:db8::1 preferred_lft 10s")),
		keepalived: "(k.conf: Line 5) preferred_lft 10s is invalid",
		err:        `k.conf:5: virtual_ipaddress: preferred_lft "10s" is not a number 0-4294967295 or forever`,
	},
	{
		name: "preferred_lft missing", src: vipInstance(vipBlock("2001:db8::1 preferred_lft")),
		keepalived: "(k.conf: Line 5) No preferred_lft parameter specified for 2001:db8::1",
		err:        `k.conf:5: virtual_ipaddress: preferred_lft: missing value`,
	},
	{
		// keepalived reads both and sets neither, silently.
		name: "-nodad and preferred_lft on IPv4", src: vipInstance(vipBlock("10.0.0.2 -nodad preferred_lft 5")),
		warnings: []string{
			"k.conf:5: virtual_ipaddress: -nodad has no effect on the IPv4 address 10.0.0.2 (keepalived 2.2.7 too asks for DAD on IPv6 addresses only)",
			"k.conf:5: virtual_ipaddress: preferred_lft has no effect on the IPv4 address 10.0.0.2 (keepalived 2.2.7 too sets it on IPv6 addresses only)",
		},
		vips: []VirtualIP{{Prefix: pfx("10.0.0.2/32")}},
	},
	{name: "use_vmac on an address", src: vipInstance(vipBlock("10.0.0.2 use_vmac")), err: `k.conf:5: virtual_ipaddress: 10.0.0.2 "use_vmac" is not supported`},
	{
		name: "excluded of both families with options", src: vipInstance(vipBlock("10.0.0.1") + excludedBlock("10.0.0.20/24 dev eth2 label eth2:e brd - no_track", "2001:db8::2/64 dev eth2")),
		vips:     []VirtualIP{{Prefix: pfx("10.0.0.1/32")}},
		excluded: []VirtualIP{{Prefix: pfx("10.0.0.20/24"), Dev: "eth2", Label: "eth2:e", Broadcast: ip("10.0.0.0"), NoTrack: true}, {Prefix: pfx("2001:db8::2/64"), Dev: "eth2"}},
	},
	{
		name: "excluded before the VIPs does not set the family", src: vipInstance(excludedBlock("2001:db8::2") + vipBlock("10.0.0.1")),
		vips:     []VirtualIP{{Prefix: pfx("10.0.0.1/32")}},
		excluded: []VirtualIP{{Prefix: pfx("2001:db8::2/128")}},
	},
	{
		// keepalived says nothing, adds the address once (the kernel
		// holds one) and sends its gratuitous ARPs twice.
		name: "in both blocks, VIPs first", src: vipInstance(vipBlock("10.0.0.1") + excludedBlock("10.0.0.1", "10.0.0.20", "10.0.0.20")),
		warnings: []string{
			"k.conf:8: virtual_ipaddress_excluded: 10.0.0.1 is listed twice: this line is ignored, as the address can be added once",
			"k.conf:10: virtual_ipaddress_excluded: 10.0.0.20 is listed twice: this line is ignored, as the address can be added once",
		},
		vips:     []VirtualIP{{Prefix: pfx("10.0.0.1/32")}},
		excluded: []VirtualIP{{Prefix: pfx("10.0.0.20/32")}},
	},
	{
		name: "in both blocks, excluded first", src: vipInstance(excludedBlock("10.0.0.1", "10.0.0.20") + vipBlock("10.0.0.1")),
		warnings: []string{"k.conf:9: virtual_ipaddress: 10.0.0.1 is also in virtual_ipaddress_excluded: added once, as a virtual address the adverts carry"},
		vips:     []VirtualIP{{Prefix: pfx("10.0.0.1/32")}},
		excluded: []VirtualIP{{Prefix: pfx("10.0.0.20/32")}},
	},
	{
		name: "excluded address that does not parse", src: vipInstance(vipBlock("10.0.0.1") + excludedBlock("10.0.0.300")),
		keepalived: "(k.conf: Line 8) VRRP parsed invalid IP 10.0.0.300. skipping IP...",
		warnings:   []string{`k.conf:8: virtual_ipaddress_excluded: "10.0.0.300" is not an address: keepalived 2.2.7 skips the line ("VRRP parsed invalid IP 10.0.0.300. skipping IP..."), and so does lbnode`},
		vips:       []VirtualIP{{Prefix: pfx("10.0.0.1/32")}},
	},
	{
		name: "excluded with flags and peer", src: vipInstance(vipBlock("10.0.0.1") + excludedBlock("10.0.0.20 home peer 10.0.0.21", "2001:db8::20/64 noprefixroute -nodad preferred_lft 0")),
		vips: []VirtualIP{{Prefix: pfx("10.0.0.1/32")}},
		excluded: []VirtualIP{
			{Prefix: pfx("10.0.0.20/32"), AddrSettings: AddrSettings{Peer: pfx("10.0.0.21/32"), Flags: IFAFHomeAddress}},
			{Prefix: pfx("2001:db8::20/64"), AddrSettings: AddrSettings{Flags: IFAFNoPrefixRoute, DAD: true, PreferredLftSet: true}},
		},
	},
}

// parseLineCase parses src and checks its first error is wantErr, or
// that it has the warnings want; it returns the config, nil after an
// error.
func parseLineCase(t *testing.T, src, wantErr string, want []string) *Config {
	t.Helper()
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if wantErr != "" {
		var es Errors
		if !errors.As(err, &es) || c != nil {
			t.Fatalf("got %v, %v; want the error %q", c != nil, err, wantErr)
		}
		if !strings.HasPrefix(es[0].Error(), wantErr) {
			t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range c.Warnings {
		warnings = append(warnings, w.String())
	}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	return c
}

func TestParseKeepalivedVIPs(t *testing.T) {
	for _, tt := range vipCases {
		t.Run(tt.name, func(t *testing.T) {
			c := parseLineCase(t, tt.src, tt.err, tt.warnings)
			if c == nil {
				return
			}
			in := c.VRRP[0]
			if diff := cmp.Diff(tt.vips, in.VirtualIPs, cmpOpts...); diff != "" {
				t.Errorf("virtual_ipaddress (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.excluded, in.ExcludedIPs, cmpOpts...); diff != "" {
				t.Errorf("virtual_ipaddress_excluded (-want +got):\n%s", diff)
			}
		})
	}
}

// A static address reads its options as a virtual one does.
func TestParseKeepalivedStaticAddressWarnings(t *testing.T) {
	src := "static_ipaddress {\n  2001:db8::5/64 dev eth2 label x\n  10.9.0.1/24 dev eth2 bogus brd 10.9.0.255\n  10.9.0.2 dev eth2 peer 10.9.0.3 noprefixroute\n  2001:db8::6/64 dev eth2 home -nodad preferred_lft 60\n}\n" + exactInstance("")
	c := parseLineCase(t, src, "", []string{
		`k.conf:2: static_ipaddress: label ignored for the IPv6 address 2001:db8::5/64, as keepalived 2.2.7 ignores it ("Cannot specify label for IPv6 addresses (2001:db8::5/64) - ignoring label")`,
		`k.conf:3: static_ipaddress: "bogus" ignored, as keepalived 2.2.7 ignores it ("Unknown configuration entry 'bogus' for ip address - ignoring")`,
	})
	wantAddrs := []StaticAddress{
		{Prefix: pfx("2001:db8::5/64"), Dev: "eth2"},
		{Prefix: pfx("10.9.0.1/24"), Dev: "eth2", Broadcast: ip("10.9.0.255")},
		{Prefix: pfx("10.9.0.2/32"), Dev: "eth2", AddrSettings: AddrSettings{Peer: pfx("10.9.0.3/32"), Flags: IFAFNoPrefixRoute}},
		{Prefix: pfx("2001:db8::6/64"), Dev: "eth2", AddrSettings: AddrSettings{Flags: IFAFHomeAddress, DAD: true, PreferredLft: 60, PreferredLftSet: true}},
	}
	if diff := cmp.Diff(wantAddrs, c.StaticAddresses, append(cmpOpts, cmp.Comparer(func(a, b Pos) bool { return true }))...); diff != "" {
		t.Errorf("static addresses (-want +got):\n%s", diff)
	}
}

// track_group is the one static_ipaddress option lbnode does not read.
func TestParseKeepalivedStaticAddressTrackGroup(t *testing.T) {
	parseLineCase(t, "static_ipaddress {\n  10.9.0.1/24 dev eth2 track_group g\n}\n"+exactInstance(""), `k.conf:2: static_ipaddress: 10.9.0.1/24 "track_group" is not supported`, nil)
}

// The plan shows each address with its own settings, the excluded ones
// apart.
func TestSummaryVIPOptions(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(vipInstance(vipBlock("10.0.0.2/24 dev eth2 label eth2:x scope link brd + no_track", "10.0.0.3", "10.0.0.4 peer 10.0.0.5 home noprefixroute")+excludedBlock("2001:db8::2/64", "2001:db8::3 -nodad preferred_lft 60 mngtmpaddr autojoin", "2001:db8::4/64 preferred_lft forever"))), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	summary := c.Summary()
	for _, want := range []string{
		"vip 10.0.0.2/24 dev eth2 label eth2:x scope 253 brd 10.0.0.255 no_track\n",
		"vip 10.0.0.3/32 dev eth1\n",
		"excluded vip (not advertised) 2001:db8::2/64 dev eth1\n",
		"vip 10.0.0.4/32 dev eth1 peer 10.0.0.5/32 home noprefixroute\n",
		"excluded vip (not advertised) 2001:db8::3/128 dev eth1 mngtmpaddr autojoin -nodad (DAD on) preferred_lft 60\n",
		"excluded vip (not advertised) 2001:db8::4/64 dev eth1 preferred_lft forever\n",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
}
