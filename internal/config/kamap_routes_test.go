package config

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// routeCase is a static or virtual address, route or rule line. keepalived
// is what `keepalived -t` prints for it (checked by the netns test); the
// reader refuses it with err, or accepts it with warnings and the entries.
type routeCase struct {
	name       string
	src        string
	keepalived string
	err        string
	warnings   []string
	routes     []Route // the instance's virtual routes, or the static ones
	rules      []Rule
	addrs      []StaticAddress
	track      []string // the instance's tracked interfaces
}

const notWatched = "lbnode does not watch these entries once added: one deleted behind its back stays deleted, where keepalived moves the MASTER to BACKUP; write no_track on a line to say that is wanted."

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func rt(r Route) Route {
	if r.Type == "" {
		r.Type = RouteUnicast
	}
	if r.Table == 0 {
		r.Table = 254
	}
	if r.Mode == "" {
		r.Mode = RoutePrepend
	}
	return r
}

var routeCases = []routeCase{
	{
		name: "static route via dev", src: "static_routes {\n  10.20.0.0/24 via 10.0.0.1 dev eth1\n}\n" + exactInstance(""),
		routes: []Route{rt(Route{Dst: pfx("10.20.0.0/24"), Via: ip("10.0.0.1"), Dev: "eth1"})},
	},
	{
		name: "static route src, scope, table, metric", src: "static_routes {\n  src 10.0.0.10 10.20.0.0/24 dev eth1 scope link table 100 metric 5\n}\n" + exactInstance(""),
		routes: []Route{rt(Route{Dst: pfx("10.20.0.0/24"), Src: ip("10.0.0.10"), Dev: "eth1", Scope: 253, Table: 100, Metric: 5, MetricSet: true})},
	},
	{
		name: "blackhole", src: "static_routes {\n  blackhole 10.21.0.0/24 no_track\n}\n" + exactInstance(""),
		routes: []Route{rt(Route{Type: RouteBlackhole, Dst: pfx("10.21.0.0/24"), NoTrack: true})},
	},
	{
		name: "virtual route gw", src: exactInstance("  virtual_routes {\n    0.0.0.0/0 gw 10.0.0.1 dev eth1 table 100\n  }\n"),
		keepalived: `(k.conf: Line 8) "gw" for routes is deprecated. Please use "via"`,
		warnings: []string{`k.conf:8: virtual_routes: "gw" is deprecated, as keepalived says ("\"gw\" for routes is deprecated. Please use \"via\""); read as via`,
			"k.conf:7: virtual_routes: " + notWatched},
		routes: []Route{rt(Route{Dst: pfx("0.0.0.0/0"), Via: ip("10.0.0.1"), Dev: "eth1", Table: 100})},
	},
	{
		name: "virtual route or", src: exactInstance("  virtual_routes {\n    10.41.0.0/24 via 10.0.0.2 or 10.0.0.3 no_track\n  }\n"),
		keepalived: `(k.conf: Line 8) "or" for routes is deprecated. Please use "nexthop"`,
		warnings:   []string{`k.conf:8: virtual_routes: "or" is deprecated, as keepalived says ("\"or\" for routes is deprecated. Please use \"nexthop\""); read as a multipath route`},
		routes:     []Route{rt(Route{Dst: pfx("10.41.0.0/24"), Nexthops: []netip.Addr{ip("10.0.0.2"), ip("10.0.0.3")}, NoTrack: true})},
	},
	{
		name: "virtual route dev is tracked", src: exactInstance("  virtual_routes {\n    10.42.0.0/24 dev eth2\n  }\n"),
		warnings: []string{"k.conf:7: virtual_routes: " + notWatched},
		routes:   []Route{rt(Route{Dst: pfx("10.42.0.0/24"), Dev: "eth2"})},
		track:    []string{"eth2"},
	},
	{
		name: "route with an address that does not parse", src: "static_routes {\n  10.20.0./24 dev eth1\n}\n" + exactInstance(""),
		keepalived: "(k.conf: Line 2) unknown route keyword 10.20.0./24",
		warnings:   []string{`k.conf:2: static_routes: "10.20.0./24" is not an address/prefix: keepalived 2.2.7 skips the route ("unknown route keyword 10.20.0./24"), and so does lbnode`},
	},
	{
		name: "route option not supported", src: "static_routes {\n  10.20.0.0/24 dev eth1 mtu 1400\n}\n" + exactInstance(""),
		err: `k.conf:2: static_routes: "mtu" is not supported in a route`,
	},
	{
		name: "route keyword unknown", src: "static_routes {\n  10.20.0.0/24 dev eth1 metrik 5\n}\n" + exactInstance(""),
		keepalived: "(k.conf: Line 2) unknown route keyword metrik",
		err:        `k.conf:2: static_routes: "metrik" is not a route keyword this reader knows`,
	},
	{
		name: "route host bits", src: "static_routes {\n  10.20.0.1/24 dev eth1\n}\n" + exactInstance(""),
		err: "k.conf:2: static_routes: 10.20.0.1/24 has host bits set",
	},
	{
		name: "rules without a preference", src: "static_rules {\n  from 10.30.0.0/24 table 1\n}\n" + exactInstance("  virtual_rules {\n    to 10.31.0.0/24 table 2\n  }\n"),
		keepalived: "(k.conf: Line 2) Rule has no preference specified - setting to 16384. This is probably not what you want.",
		warnings: []string{
			`k.conf:2: static_rules: no preference: 16384, as keepalived gives it (keepalived: "Rule has no preference specified - setting to 16384. This is probably not what you want.")`,
			`k.conf:11: virtual_rules: no preference: 16383, as keepalived gives it (keepalived: "Rule has no preference specified - setting to 16383. This is probably not what you want.")`,
			"k.conf:10: virtual_rules: " + notWatched,
		},
		rules: []Rule{{To: pfx("10.31.0.0/24"), Table: 2, Priority: 16383}},
	},
	{
		name: "rule with an address that does not parse", src: "static_rules {\n  to 192.168.100./24 table 1 priority 10\n}\n" + exactInstance(""),
		keepalived: "(k.conf: Line 2) Invalid rule to address 192.168.100./24",
		warnings:   []string{`k.conf:2: static_rules: to "192.168.100./24" is not an address/prefix: keepalived 2.2.7 skips the rule ("Invalid rule to address 192.168.100./24"), and so does lbnode`},
	},
	{
		name: "rule fwmark not supported", src: "static_rules {\n  fwmark 1 table 1 priority 10\n}\n" + exactInstance(""),
		err: `k.conf:2: static_rules: "fwmark" is not supported in a rule`,
	},
	{
		name: "rule without a table", src: "static_rules {\n  from 10.30.0.0/24 priority 10\n}\n" + exactInstance(""),
		keepalived: "(k.conf: Line 2) No action specified for rule - ignoring",
		err:        "k.conf:2: static_rules: no table",
	},
	{
		name: "static address", src: "static_ipaddress {\n  10.9.0.1/24 dev eth2 scope link brd +\n}\n" + exactInstance(""),
		addrs: []StaticAddress{{Prefix: pfx("10.9.0.1/24"), Dev: "eth2", Scope: 253, Broadcast: ip("10.9.0.255")}},
	},
	{
		name: "static address without dev", src: "static_ipaddress {\n  10.9.0.1/24\n}\n" + exactInstance(""),
		err: "k.conf:2: static_ipaddress: 10.9.0.1/24 has no dev",
	},
}

func TestParseKeepalivedRoutes(t *testing.T) {
	for _, tt := range routeCases {
		t.Run(tt.name, func(t *testing.T) {
			c := parseLineCase(t, tt.src, tt.err, tt.warnings)
			if c == nil {
				return
			}
			in := c.VRRP[0]
			routes, rules := append(c.StaticRoutes, in.VirtualRoutes...), in.VirtualRules
			opts := cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
				cmp.Comparer(func(a, b Pos) bool { return true })}
			if diff := cmp.Diff(tt.routes, routes, opts); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rules, rules, opts); diff != "" {
				t.Errorf("virtual rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.addrs, c.StaticAddresses, opts); diff != "" {
				t.Errorf("static addresses (-want +got):\n%s", diff)
			}
			var track []string
			for _, tr := range in.Track {
				track = append(track, tr.Name)
			}
			if diff := cmp.Diff(tt.track, track); diff != "" {
				t.Errorf("tracked interfaces (-want +got):\n%s", diff)
			}
		})
	}
}
