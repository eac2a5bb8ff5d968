package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exactCase is a keepalived.conf value that keepalived 2.2.7 reads in a
// way a lenient reader would not. keepalived is the message `keepalived -t`
// prints for it (checked by the netns test); the reader either refuses the
// file with err, or accepts it with warning and the instance's resulting
// state and notify_master.
type exactCase struct {
	name       string
	src        string
	keepalived string
	err        string
	warning    string
	state      State
	master     Command
	version    int           // the instance's or the global version, 0 for neither
	group4     string        // Global.MulticastGroup4, "" for none
	advert     time.Duration // the instance's advert_int, 0 for the default (1s)
	vips       int           // the instance's VIPs, 0 for 1
	nopreempt  bool
}

func exactInstance(body string) string {
	return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" + body + "}\n"
}

func exactVS(body string) string {
	return exactInstance("") + "virtual_server 10.0.0.1 80 {\n  protocol TCP\n" + body + "  real_server 10.0.1.1 80 {\n  }\n}\n"
}

var exactCases = []exactCase{
	{
		name: "state lower case", src: exactInstance("  state master\n"),
		keepalived: "(k.conf: Line 7) (VI_1) unknown state 'master', defaulting to BACKUP",
		err:        `k.conf:7: state: "master" is not MASTER or BACKUP: keepalived 2.2.7 reads these in upper case only and otherwise runs the instance as BACKUP; write MASTER`,
	},
	{
		name: "state unknown", src: exactInstance("  state PRIMARY\n"),
		keepalived: "(k.conf: Line 7) (VI_1) unknown state 'PRIMARY', defaulting to BACKUP",
		err:        `k.conf:7: state: "PRIMARY" is not MASTER or BACKUP (keepalived 2.2.7 runs the instance as BACKUP)`,
	},
	{
		name: "state MASTER then BACKUP", src: exactInstance("  state MASTER\n  state BACKUP\n  priority 100\n"),
		keepalived: "(k.conf: Line 8) (VI_1) state previously set as MASTER - ignoring BACKUP",
		warning:    "k.conf:8: state: state previously set as MASTER: BACKUP ignored, as keepalived does",
		state:      StateMaster,
	},
	{
		name: "auth_type lower case", src: exactInstance("  authentication {\n    auth_type pass\n    auth_pass x\n  }\n"),
		keepalived: "(k.conf: Line 8) (VI_1) unknown authentication type 'pass'",
		err:        `k.conf:8: auth_type: "pass" is not PASS or AH: keepalived 2.2.7 reads these in upper case only and otherwise runs the instance without authentication; write PASS`,
	},
	{
		name: "auth_type unknown", src: exactInstance("  authentication {\n    auth_type MD5\n    auth_pass x\n  }\n"),
		keepalived: "(k.conf: Line 8) (VI_1) unknown authentication type 'MD5'",
		err:        `k.conf:8: auth_type: "MD5" is not PASS or AH (keepalived 2.2.7 runs the instance without authentication)`,
	},
	{
		name: "lb_kind lower case", src: exactVS("  lb_kind dr\n"),
		keepalived: "(k.conf: Line 10) PARSER : unknown [dr] routing method for virtual server.",
		err:        `k.conf:10: lb_kind: "dr" is not NAT, DR or TUN: keepalived 2.2.7 reads these in upper case only and otherwise ignores the line and forwards by NAT; write DR`,
	},
	{
		name: "two notify_master", src: exactInstance("  state MASTER\n  notify_master \"/bin/echo first\"\n  notify_master \"/bin/echo second\"\n"),
		keepalived: "(k.conf: Line 9) (VI_1) notify_master script already specified - ignoring /bin/echo second",
		warning:    `k.conf:9: notify_master: script already specified: "/bin/echo second" ignored, as keepalived keeps the first`,
		state:      StateMaster, master: Command{"/bin/echo", "first"},
	},
	{
		name: "priority out of range", src: exactInstance("  priority 300\n"),
		keepalived: "(k.conf: Line 7) (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
		err:        `k.conf:7: priority: "300" is not a number 1-255`,
	},
	{
		name: "vrrp_version 3", src: "global_defs {\n  vrrp_version 3\n}\n" + exactInstance(""),
		state: StateBackup, version: 3,
	},
	{
		name: "version 3 in the instance", src: exactInstance("  version 3\n"),
		state: StateBackup, version: 3,
	},
	{
		name: "vrrp_version 3 with authentication", src: "global_defs {\n  vrrp_version 3\n}\n" + exactInstance("  authentication {\n    auth_type PASS\n    auth_pass x\n  }\n"),
		keepalived: "(VI_1) VRRP version 3 does not support authentication. Ignoring.",
		err:        "k.conf:4: vrrp_instance VI_1: authentication: VRRP version 3 has no authentication",
	},
	{
		name: "vrrp_version 4", src: "global_defs {\n  vrrp_version 4\n}\n" + exactInstance(""),
		keepalived: "(Line 2) VRRP Error: Version must be either 2 or 3",
		err:        `k.conf:2: vrrp_version: "4" is not a number 2-3`,
	},
	{
		name: "vrrp_version 2", src: "global_defs {\n  vrrp_version 2\n}\n" + exactInstance(""),
		state: StateBackup, version: 2,
	},
	{
		name: "vrrp_mcast_group4 other", src: "global_defs {\n  vrrp_mcast_group4 224.0.0.19\n}\n" + exactInstance(""),
		state: StateBackup, group4: "224.0.0.19",
	},
	{
		name: "vrrp_mcast_group4 unicast", src: "global_defs {\n  vrrp_mcast_group4 10.1.1.1\n}\n" + exactInstance(""),
		keepalived: "(Line 2) vrrp_mcast_group4 [10.1.1.1] is not multicast. Skipping",
		err:        `k.conf:2: vrrp_mcast_group4: "10.1.1.1" is not an IPv4 multicast address`,
	},
	{
		name: "vrrp_mcast_group4 default", src: "global_defs {\n  vrrp_mcast_group4 224.0.0.18\n}\n" + exactInstance(""),
		state: StateBackup, group4: "224.0.0.18",
	},
	{
		name: "advert_int fraction with VRRPv2", src: exactInstance("  advert_int 1.5\n"),
		keepalived: "(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding",
		warning:    "k.conf:7: advert_int: 1.5s is not a valid VRRPv2 interval: 2s, as keepalived rounds it",
		state:      StateBackup, advert: 2 * time.Second,
	},
	{
		name: "advert_int below a second with VRRPv2", src: exactInstance("  advert_int 0.4\n"),
		keepalived: "(VI_1) VRRPv2 advertisement interval 0.400000s must be an integer. rounding",
		warning:    "k.conf:7: advert_int: 400ms is not a valid VRRPv2 interval: 1s, as keepalived rounds it",
		state:      StateBackup, advert: time.Second,
	},
	{
		name: "advert_int 50ms with VRRPv3", src: exactInstance("  version 3\n  advert_int 0.05\n"),
		state: StateBackup, version: 3, advert: 50 * time.Millisecond,
	},
	{
		name: "advert_int 15ms with VRRPv3", src: exactInstance("  version 3\n  advert_int 0.015\n"),
		keepalived: "(VI_1) VRRPv3 advertisement interval 0.015000s must be in units of 10ms - rounding",
		warning:    "k.conf:8: advert_int: 15ms is not a valid VRRPv3 interval: 20ms, as keepalived rounds it",
		state:      StateBackup, version: 3, advert: 20 * time.Millisecond,
	},
	{
		name: "advert_int 41s with VRRPv3", src: "global_defs {\n  vrrp_version 3\n}\n" + exactInstance("  advert_int 41\n"),
		keepalived: "(VI_1) VRRPv3 advertisement interval 41.00s is out of range. Must be less than 40.96s. Setting to 40.95s",
		warning:    "k.conf:10: advert_int: 41s is not a valid VRRPv3 interval: 40.95s, as keepalived rounds it",
		state:      StateBackup, version: 3, advert: 40950 * time.Millisecond,
	},
	{
		name: "IPv6 VIP in an IPv4 instance", src: exactInstance("  virtual_ipaddress {\n    fe80::1\n  }\n"),
		keepalived: "(k.conf: Line 8) (VI_1): address family must match VRRP instance [fe80::1] - ignoring",
		warning:    "k.conf:8: virtual_ipaddress: fe80::1/128 is not of the instance's family (IPv4): ignored, as keepalived does",
		state:      StateBackup,
	},
	{
		name: "native_ipv6 with IPv4 VIPs", src: exactInstance("  native_ipv6\n"),
		keepalived: "(k.conf: Line 7) (VI_1) Cannot specify native_ipv6 with IPv4 addresses",
		warning:    "k.conf:7: native_ipv6: cannot be set with IPv4 addresses: ignored, as keepalived does",
		state:      StateBackup,
	},
	{
		name: "IPv6 unicast peer in an IPv4 instance", src: exactInstance("  unicast_peer {\n    fe80::2\n  }\n"),
		keepalived: "(k.conf: Line 8) Configuration error: VRRP instance[VI_1] and unicast peer address[fe80::2] MUST be of the same family !!! Skipping...",
		warning:    "k.conf:8: unicast_peer: fe80::2 is not of the instance's family (IPv4): ignored, as keepalived does",
		state:      StateBackup,
	},
	{
		name: "IPv6 unicast_src_ip in an IPv4 instance", src: exactInstance("  unicast_src_ip fe80::1\n  unicast_peer {\n    10.0.0.9\n  }\n"),
		keepalived: "(k.conf: Line 7) Configuration error: VRRP instance[VI_1] and src address[fe80::1] MUST be of the same family !!! Skipping...",
		warning:    "k.conf:7: unicast_src_ip: fe80::1 is not of the instance's family (IPv4): ignored, as keepalived does",
		state:      StateBackup,
	},
	{
		name: "IPv6 instance", src: "vrrp_instance VI_6 {\n  interface eth1\n  virtual_router_id 7\n  advert_int 0.1\n  virtual_ipaddress {\n    fe80::1\n    2001:db8::1/64\n  }\n}\n",
		state: StateBackup, advert: 100 * time.Millisecond, vips: 2,
	},
	{
		name: "native_ipv6 then version 2", src: "vrrp_instance VI_6 {\n  interface eth1\n  virtual_router_id 7\n  native_ipv6\n  version 2\n  virtual_ipaddress {\n    fe80::1\n  }\n}\n",
		keepalived: "(k.conf: Line 5) (VI_6) vrrp_version 2 conflicts with configured or deduced version 3; ignoring.",
		warning:    "k.conf:5: version: 2 conflicts with version 3 set before: ignored, as keepalived does",
		state:      StateBackup, version: 3,
	},
	{
		name: "nopreempt with an argument", src: exactInstance("  nopreempt 0\n"),
		warning: `k.conf:7: nopreempt: "0" after it ignored: keepalived sets nopreempt whatever follows`,
		state:   StateBackup, nopreempt: true,
	},
	{
		name: "VIP listed twice", src: exactInstance("  virtual_ipaddress {\n    10.0.0.1 label eth1:1\n  }\n"),
		warning: "k.conf:8: virtual_ipaddress: 10.0.0.1 is listed twice: this line is ignored, as the address can be added once",
		state:   StateBackup,
	},
	{
		name: "notify_master_rx_lower_pri", src: exactInstance("  notify_master_rx_lower_pri /bin/true\n"),
		state: StateBackup,
	},
}

func TestParseKeepalivedExactValues(t *testing.T) {
	for _, tt := range exactCases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseKeepalived("k.conf", []byte(tt.src), mapFS{})
			if tt.err != "" {
				var es Errors
				if !errors.As(err, &es) || c != nil {
					t.Fatalf("got %v, %v; want the error %q", c != nil, err, tt.err)
				}
				if !strings.HasPrefix(es[0].Error(), tt.err) {
					t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var warnings []string
			for _, w := range c.Warnings {
				warnings = append(warnings, w.String())
			}
			var want []string
			if tt.warning != "" {
				want = []string{tt.warning}
			}
			if diff := cmp.Diff(want, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			in := c.VRRP[0]
			if in.State != tt.state || !cmp.Equal(in.NotifyMaster, tt.master) {
				t.Errorf("state %s, notify_master %q; want %s, %q", in.State, in.NotifyMaster, tt.state, tt.master)
			}
			if v := max(in.Version, c.Global.VRRPVersion); v != tt.version {
				t.Errorf("version %d, want %d", v, tt.version)
			}
			if g := c.Global.MulticastGroup4; (tt.group4 == "" && g.IsValid()) || (tt.group4 != "" && g.String() != tt.group4) {
				t.Errorf("vrrp_mcast_group4 %v, want %q", g, tt.group4)
			}
			wantAdvert := tt.advert
			if wantAdvert == 0 {
				wantAdvert = DefaultAdvertInt
			}
			if in.AdvertInt != wantAdvert {
				t.Errorf("advert_int %v, want %v", in.AdvertInt, wantAdvert)
			}
			if in.Nopreempt != tt.nopreempt {
				t.Errorf("nopreempt %v, want %v", in.Nopreempt, tt.nopreempt)
			}
			if want := max(tt.vips, 1); len(in.VirtualIPs) != want {
				t.Errorf("%d VIPs, want %d", len(in.VirtualIPs), want)
			}
		})
	}
}
