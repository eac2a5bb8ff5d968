package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpOpts compare netip values by value.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}

const articleConf = "testdata/article-keepalived.conf"

// articleWant is what the article's keepalived.conf means.
func articleWant() *Config {
	f := articleConf
	at := func(line int) Pos { return Pos{File: f, Line: line} }
	tcpCheck := func(line int) Checker {
		return Checker{Pos: at(line), Kind: TCPCheck, ConnectTimeout: 2 * time.Second, Retry: 1, DelayBeforeRetry: time.Second}
	}
	miscCheck := func(line int, ip string) Checker {
		return Checker{
			Pos: at(line), Kind: MiscCheck, Retry: 0, DelayBeforeRetry: time.Second,
			MiscPath:    Command{"/bin/nc", "-zn", "-u", ip, "53"},
			MiscTimeout: 6 * time.Second, // the delay_loop, as keepalived
		}
	}
	return &Config{
		Source: f,
		Format: FormatKeepalived,
		Global: NewGlobal(),
		VRRP: []VRRPInstance{{
			Pos:             at(6),
			Name:            "192.168.0.100",
			Interface:       "eth1",
			State:           StateBackup,
			VirtualRouterID: 1,
			Priority:        102,
			AdvertInt:       time.Second,
			Auth:            &Auth{Type: AuthPass, Pass: "secret"},
			Nopreempt:       true,
			VirtualIPs: []VirtualIP{
				{Prefix: netip.MustParsePrefix("192.168.0.100/24"), Dev: "eth0"},
			},
			Track:               []TrackInterface{{Name: "eth0"}, {Name: "eth1"}},
			Notify:              Command{"/usr/local/bin/nat-switch"},
			GARPMasterDelay:     5 * time.Second,
			GARPMasterRepeat:    5,
			GARPLowerPrioDelay:  5 * time.Second,
			GARPLowerPrioRepeat: 5,
		}},
		VirtualServers: []VirtualServer{
			{
				Pos:       at(27),
				Addr:      netip.MustParseAddrPort("192.168.0.100:80"),
				Protocol:  TCP,
				LBAlgo:    "wlc",
				LBKind:    LBKindDR,
				DelayLoop: 6 * time.Second,
				RealServers: []RealServer{
					{Pos: at(35), Addr: netip.MustParseAddrPort("172.16.0.1:80"), Weight: 1, Checkers: []Checker{tcpCheck(37)}},
					{Pos: at(41), Addr: netip.MustParseAddrPort("172.16.0.2:80"), Weight: 1, Checkers: []Checker{tcpCheck(43)}},
				},
			},
			{
				Pos:       at(50),
				Addr:      netip.MustParseAddrPort("192.168.0.100:53"),
				Protocol:  UDP,
				LBAlgo:    "wlc",
				LBKind:    LBKindDR,
				DelayLoop: 6 * time.Second,
				RealServers: []RealServer{
					{Pos: at(56), Addr: netip.MustParseAddrPort("172.16.0.1:53"), Weight: 1, Checkers: []Checker{miscCheck(58, "172.16.0.1")}},
					{Pos: at(63), Addr: netip.MustParseAddrPort("172.16.0.2:53"), Weight: 1, Checkers: []Checker{miscCheck(65, "172.16.0.2")}},
				},
			},
		},
		Warnings: []Warning{
			{Pos: at(59), Directive: "connect_timeout", Msg: "ignored in MISC_CHECK, as keepalived ignores it (use misc_timeout)"},
			{Pos: at(66), Directive: "connect_timeout", Msg: "ignored in MISC_CHECK, as keepalived ignores it (use misc_timeout)"},
		},
	}
}

func TestLoadArticleKeepalived(t *testing.T) {
	got, err := parseFile(articleConf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(articleWant(), got, cmpOpts...); diff != "" {
		t.Errorf("parse %s: mismatch (-want +got):\n%s", articleConf, diff)
	}
}

// mapFS is an in-memory file system for include tests.
type mapFS map[string]string

func (m mapFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[name]
	if !ok {
		return nil, errors.New("open " + name + ": no such file")
	}
	return []byte(s), nil
}

func (m mapFS) Glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for k := range m {
		if ok, _ := path.Match(pattern, k); ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out, nil
}

// minimal wraps directives into a configuration that is valid on its own.
const minimalVRRP = `vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 7
  virtual_ipaddress {
    10.0.0.1
  }
}
`

// everyDirectiveConf uses every directive the reader knows; keepalived
// accepts it too (see the integration test).
const everyDirectiveConf = `global_defs {
  router_id lb1
  enable_script_security
  script_user root root
  notification_email { admin@example.com }   ! no smtp_server: no mail
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth1
  virtual_router_id 51
  priority 150
  advert_int 2
  authentication {
    auth_type PASS
    auth_pass 123456789     # truncated to 8 characters, as keepalived
  }
  preempt_delay 30
  virtual_ipaddress {
    192.168.0.100/24 dev eth0 label eth0:vip
    192.168.0.101
  }
  track_interface {
    eth0
    eth2 weight -20
  }
  unicast_src_ip 172.16.0.1
  unicast_peer {
    172.16.0.2
    172.16.0.3
  }
  notify "/usr/local/bin/notify 'all states'"
  notify_master /usr/local/bin/to-master --fast
  notify_backup /usr/local/bin/to-backup
  notify_fault /usr/local/bin/to-fault
  notify_stop /usr/local/bin/to-stop
  garp_master_delay 0
  garp_master_repeat 3
  garp_master_refresh 60
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind TUN
  delay_loop 2.5
  persistence_timeout
  persistence_granularity 255.255.255.0
  real_server 10.1.0.1 {
    weight 0
    inhibit_on_failure
    HTTP_GET {
      url {
        path /health
        status_code 200 301-302
        digest 9B3A0C85A887A256D6939DA88AABD8CD
      }
      url {
        path /
      }
      virtualhost www.example.com
      connect_ip 10.1.0.10
      connect_port 8080
      connect_timeout 3
      nb_get_retry 4
      delay_before_retry 2
    }
    SSL_GET {
      url { path /tls }
      retry 2
    }
  }
  real_server 10.1.0.2 {
    DNS_CHECK { type AAAA
      name example.com }
    UDP_CHECK {
      connect_port 5353
    }
    MISC_CHECK {
      misc_path "/usr/bin/check --x 'a b'"
      misc_timeout 4
      misc_dynamic
      retry 1
    }
    TCP_CHECK
    {
      connect_port 22
    }
  }
}
virtual_server 192.168.0.100 443 {
  lvs_sched sh
  lvs_method NAT
  protocol SCTP
  persistence_timeout 600
  real_server 10.1.0.3 443 {
  }
}
`

func TestParseKeepalivedEveryDirective(t *testing.T) {
	src := everyDirectiveConf
	got, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) Pos { return Pos{File: "k.conf", Line: line} }
	want := &Config{
		Source: "k.conf",
		Format: FormatKeepalived,
		Global: func() Global {
			g := NewGlobal()
			g.RouterID, g.EnableScriptSecurity, g.ScriptUser, g.ScriptGroup, g.ScriptUserPos = "lb1", true, "root", "root", at(4)
			return g
		}(),
		VRRP: []VRRPInstance{{
			Pos: at(7), Name: "VI_1", Interface: "eth1", State: StateBackup, VirtualRouterID: 51,
			Priority: 150, AdvertInt: 2 * time.Second, Auth: &Auth{Type: AuthPass, Pass: "12345678"},
			PreemptDelay: 30 * time.Second,
			VirtualIPs: []VirtualIP{
				{Prefix: netip.MustParsePrefix("192.168.0.100/24"), Dev: "eth0", Label: "eth0:vip"},
				{Prefix: netip.MustParsePrefix("192.168.0.101/32")},
			},
			Track:            []TrackInterface{{Name: "eth0"}, {Name: "eth2", Weight: -20}},
			UnicastSrcIP:     netip.MustParseAddr("172.16.0.1"),
			UnicastPeers:     []netip.Addr{netip.MustParseAddr("172.16.0.2"), netip.MustParseAddr("172.16.0.3")},
			Notify:           Command{"/usr/local/bin/notify", "all states"},
			NotifyMaster:     Command{"/usr/local/bin/to-master", "--fast"},
			NotifyBackup:     Command{"/usr/local/bin/to-backup"},
			NotifyFault:      Command{"/usr/local/bin/to-fault"},
			NotifyStop:       Command{"/usr/local/bin/to-stop"},
			GARPMasterDelay:  0,
			GARPMasterRepeat: 3, GARPMasterRefresh: time.Minute,
			GARPLowerPrioDelay: 5 * time.Second, GARPLowerPrioRepeat: 5,
		}},
		VirtualServers: []VirtualServer{
			{
				Pos: at(40), FWMark: 7, Protocol: TCP, LBAlgo: "rr", LBKind: LBKindTUN,
				DelayLoop: 2500 * time.Millisecond, PersistenceTimeout: 360 * time.Second, PersistenceGranularity: 24,
				RealServers: []RealServer{
					{Pos: at(46), Addr: netip.MustParseAddrPort("10.1.0.1:0"), Weight: 0, InhibitOnFailure: true, Checkers: []Checker{
						{
							Pos: at(49), Kind: HTTPGet,
							URLs: []URL{
								{Path: "/health", StatusCodes: []StatusRange{{200, 200}, {301, 302}}, Digest: "9b3a0c85a887a256d6939da88aabd8cd"},
								{Path: "/"},
							},
							VirtualHost: "www.example.com", SNIHost: "www.example.com", ConnectIP: netip.MustParseAddr("10.1.0.10"), ConnectPort: 8080,
							ConnectTimeout: 3 * time.Second, Retry: 4, DelayBeforeRetry: 2 * time.Second,
						},
						{Pos: at(65), Kind: SSLGet, URLs: []URL{{Path: "/tls"}}, ConnectTimeout: 5 * time.Second, Retry: 2, DelayBeforeRetry: 3 * time.Second}, // keepalived's HTTP default
					}},
					{Pos: at(70), Addr: netip.MustParseAddrPort("10.1.0.2:0"), Weight: 1, Checkers: []Checker{
						{Pos: at(71), Kind: DNSCheck, DNSType: "AAAA", DNSName: "example.com", ConnectTimeout: 5 * time.Second, Retry: 3, DelayBeforeRetry: 2500 * time.Millisecond}, // the delay loop
						{Pos: at(73), Kind: UDPCheck, ConnectPort: 5353, ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, UDPMaxReply: DefaultUDPMaxReply},
						{Pos: at(76), Kind: MiscCheck, MiscPath: Command{"/usr/bin/check", "--x", "a b"}, MiscTimeout: 4 * time.Second, MiscDynamic: true, Retry: 1, DelayBeforeRetry: time.Second},
						{Pos: at(82), Kind: TCPCheck, ConnectPort: 22, ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second},
					}},
				},
			},
			{
				Pos: at(88), Addr: netip.MustParseAddrPort("192.168.0.100:443"), Protocol: SCTP, LBAlgo: "sh", LBKind: LBKindNAT,
				DelayLoop: 60 * time.Second, PersistenceTimeout: 600 * time.Second,
				RealServers: []RealServer{{Pos: at(93), Addr: netip.MustParseAddrPort("10.1.0.3:443"), Weight: 1}},
			},
		},
		Warnings: []Warning{
			{Pos: at(15), Directive: "auth_pass", Msg: `"123456789" is longer than 8 characters; only "12345678" is used, as keepalived does`},
			{Pos: at(62), Directive: "nb_get_retry", Msg: "deprecated: read as retry, as keepalived reads it"},
		},
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// keepalived gives an instance starting as MASTER priority 255 unless
// told otherwise, and clears nopreempt and preempt_delay on it, with a
// warning; so does the reader.
func TestParseKeepalivedMasterState(t *testing.T) {
	tests := []struct {
		name         string
		extra        string
		wantPriority int
		wantWarnings []string
	}{
		{"master", "  state MASTER\n", 255, nil},
		{"master nopreempt", "  state MASTER\n  nopreempt\n  preempt_delay 10\n", 255, []string{
			"nopreempt has no effect with priority 255: cleared, as keepalived does",
			"preempt_delay has no effect with state MASTER: cleared, as keepalived does",
		}},
		{"master priority 150", "  state MASTER\n  priority 150\n  nopreempt\n", 150, []string{
			"nopreempt has no effect with state MASTER: cleared, as keepalived does",
		}},
		{"backup priority 255", "  priority 255\n  nopreempt\n  preempt_delay 10\n", 255, []string{
			"nopreempt has no effect with priority 255: cleared, as keepalived does",
		}},
		{"backup", "  nopreempt\n  preempt_delay 10\n", 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimalVRRP, "  interface eth1\n", "  interface eth1\n"+tt.extra, 1)
			c, err := parseKeepalived("m.conf", []byte(src), mapFS{})
			if err != nil {
				t.Fatal(err)
			}
			in := c.VRRP[0]
			if in.Priority != tt.wantPriority {
				t.Errorf("priority %d, want %d", in.Priority, tt.wantPriority)
			}
			if in.State == StateMaster && (in.Nopreempt || in.PreemptDelay != 0) {
				t.Errorf("MASTER kept nopreempt %v preempt_delay %v", in.Nopreempt, in.PreemptDelay)
			}
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.Msg)
			}
			if diff := cmp.Diff(tt.wantWarnings, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			// The YAML reader does the same.
			y := "vrrp_instances:\n  - {name: a, interface: eth1, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1]"
			for _, l := range strings.Split(strings.TrimSpace(tt.extra), "\n") {
				k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
				if v == "" {
					v = "true"
				}
				y += ", " + k + ": " + v
			}
			yc, err := ParseYAML("m.yaml", []byte(y+"}\n"))
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, w := range yc.Warnings {
				got = append(got, w.Msg)
			}
			if yc.VRRP[0].Priority != tt.wantPriority || !cmp.Equal(tt.wantWarnings, got) {
				t.Errorf("YAML: priority %d, warnings %q; want %d, %q", yc.VRRP[0].Priority, got, tt.wantPriority, tt.wantWarnings)
			}
		})
	}
}

func TestParseKeepalivedDefaults(t *testing.T) {
	src := minimalVRRP + `virtual_server 10.0.0.1 80 {
  real_server 10.0.1.1 80 {
    TCP_CHECK {
    }
  }
}
`
	got, err := parseKeepalived("d.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	in := got.VRRP[0]
	if in.Priority != 100 || in.AdvertInt != time.Second || in.State != StateBackup ||
		in.GARPMasterDelay != 5*time.Second || in.GARPMasterRepeat != 5 || in.GARPMasterRefresh != 0 ||
		in.Auth != nil || in.Nopreempt {
		t.Errorf("vrrp defaults: got %+v", in)
	}
	vs := got.VirtualServers[0]
	if vs.LBAlgo != "wlc" || vs.LBKind != LBKindNAT || vs.DelayLoop != 60*time.Second || vs.Protocol != UDP {
		t.Errorf("virtual_server defaults: got %+v", vs)
	}
	rs := vs.RealServers[0]
	ck := rs.Checkers[0]
	if rs.Weight != 1 || ck.ConnectTimeout != 5*time.Second || ck.Retry != 1 || ck.DelayBeforeRetry != time.Second {
		t.Errorf("real_server/checker defaults: got %+v %+v", rs, ck)
	}
	wantWarn := []Warning{{Pos: Pos{File: "d.conf", Line: 8}, Directive: "virtual_server", Msg: "no protocol set: UDP, as keepalived defaults to"}}
	if diff := cmp.Diff(wantWarn, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestParseKeepalivedAdvertSource reads mcast_src_ip and unicast_src_ip as
// keepalived 2.2.7 does (vrrp_parser.c, vrrp_srcip_handler): either sets
// the adverts' source; without unicast peers the adverts are multicast
// from it, and unicast_src_ip then gets keepalived's deprecation warning
// (vrrp.c, vrrp_complete_instance).
func TestParseKeepalivedAdvertSource(t *testing.T) {
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" + body + "}\n"
	}
	for _, tt := range []struct {
		name  string
		body  string
		src   string
		peers int
		warn  string
	}{
		{"mcast_src_ip", "  mcast_src_ip 10.0.0.5\n", "10.0.0.5", 0, ""},
		{"unicast_src_ip without peers", "  unicast_src_ip 10.0.0.5\n", "10.0.0.5", 0, "(VI_1) a unicast keyword without any unicast peers"},
		{"unicast_src_ip with a peer", "  unicast_src_ip 10.0.0.5\n  unicast_peer {\n    10.0.0.6\n  }\n", "10.0.0.5", 1, ""},
		{"mcast_src_ip of the other family", "  mcast_src_ip fe80::1\n", "invalid IP", 0, "is not of the instance's family (IPv4): ignored, as keepalived does"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKeepalived("k.conf", []byte(inst(tt.body)), mapFS{})
			if err != nil {
				t.Fatal(err)
			}
			in := got.VRRP[0]
			if in.UnicastSrcIP.String() != tt.src || len(in.UnicastPeers) != tt.peers {
				t.Errorf("source %v, %d peers; want %s, %d", in.UnicastSrcIP, len(in.UnicastPeers), tt.src, tt.peers)
			}
			var ws []string
			for _, w := range got.Warnings {
				ws = append(ws, w.Msg)
			}
			if tt.warn == "" && len(ws) > 0 || tt.warn != "" && (len(ws) != 1 || !strings.Contains(ws[0], tt.warn)) {
				t.Errorf("warnings %q, want one containing %q", ws, tt.warn)
			}
		})
	}
}

// TestParseKeepalivedUnknownKeywords: a keyword keepalived 2.2.7 does not
// know is ignored with a warning, as keepalived ignores it ("Unknown
// keyword"), a block with everything in it; one it knows and lbnode has
// no counterpart for either way is accepted with a warning that says so.
func TestParseKeepalivedUnknownKeywords(t *testing.T) {
	src := "vrrp_instanse VI_0 {\n  priority 200\n}\n" + minimalVRRP[:len(minimalVRRP)-2] + "  virtual_router 7\n  kernel_rx_buf_size 4096\n}\n"
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range c.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		"k.conf:1: vrrp_instanse: ignored at the top level, as keepalived 2.2.7 ignores this unknown keyword",
		"k.conf:10: virtual_router: ignored in vrrp_instance, as keepalived 2.2.7 ignores this unknown keyword",
		"k.conf:11: kernel_rx_buf_size: accepted and ignored in vrrp_instance: no meaning for lbnode: it sizes its sockets' buffers itself",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(c.VRRP) != 1 || c.VRRP[0].Name != "VI_1" {
		t.Errorf("instances %+v, want VI_1 only", c.VRRP)
	}
}

func TestParseKeepalivedErrors(t *testing.T) {
	vs := func(body string) string {
		return minimalVRRP + "virtual_server 10.0.0.1 80 {\n  protocol TCP\n" + body + "}\n"
	}
	rs := func(body string) string {
		return vs("  real_server 10.0.1.1 80 {\n" + body + "  }\n")
	}
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" + body + "}\n"
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		// Syntax.
		{"unterminated quote", "global_defs {\n  router_id \"lb1\n}\n", `k.conf:2: unterminated quoted string "lb1`},
		{"unexpected close", "}\n", "k.conf:1: unexpected '}'"},
		{"open without directive", "{\n}\n", "k.conf:1: '{' without a directive before it"},
		{"missing close", "vrrp_instance VI_1 {\n  interface eth1\n", "k.conf:1: vrrp_instance: block has no closing '}'"},
		{"control character", "global_defs {\x01}\n", `k.conf:1: control character '\x01'`},
		{"conditional line", "global_defs {\n@^lb1 router_id x\n}\n", "k.conf:2: @^lb1: conditional configuration (@ID and @^ID lines, chosen by keepalived's -i/--config-id) is not supported"},
		{"deep nesting", strings.Repeat("a {\n", 40), "k.conf:17: a: blocks nested deeper than 16"},
		// Top level.
		{"unknown top", "vrrp_instanse VI_1 {\n}\n", "k.conf: empty configuration: no vrrp instance, virtual server, nat switch or nginx; first ignored: k.conf:1: vrrp_instanse: ignored at the top level, as keepalived 2.2.7 ignores this unknown keyword"},
		{"keepalived keyword not read", "net_namespace blue\n", "k.conf:1: net_namespace: not supported at the top level: run lbnode inside the namespace instead (ip netns exec NAME lbnode ...)"},
		{"unsupported top", "vrrp_track_process p {\n}\n", "k.conf:1: vrrp_track_process: not supported at the top level: process tracking"},
		{"global not block", "global_defs\n", "k.conf:1: global_defs: must be a block: global_defs { ... }"},
		{"global flag with arg", "global_defs {\n enable_script_security yes\n}\n", `k.conf:2: enable_script_security: takes no argument, got "yes"`},
		{"script_user three words", "global_defs {\n script_user a b c\n}\n", `k.conf:2: script_user: want USER [GROUP], got "a b c"`},
		{"router_id missing", "global_defs {\n router_id\n}\n", "k.conf:2: router_id: missing value"},
		// vrrp_instance.
		{"instance no name", "vrrp_instance {\n}\n", "k.conf:1: vrrp_instance: want one name, got 0 words"},
		{"instance not block", "vrrp_instance VI_1\n", "k.conf:1: vrrp_instance: must be a block: vrrp_instance NAME { ... }"},
		{"vrid not a number", inst("  virtual_router_id abc\n"), `k.conf:7: virtual_router_id: "abc" is not a number 1-255`},
		{"vrid zero", inst("  virtual_router_id 0\n"), `k.conf:7: virtual_router_id: "0" is not a number 1-255`},
		{"vrid 256", inst("  virtual_router_id 256\n"), `k.conf:7: virtual_router_id: "256" is not a number 1-255`},
		{"priority", inst("  priority 300\n"), `k.conf:7: priority: "300" is not a number 1-255`},
		{"priority extra", inst("  priority 100 200\n"), `k.conf:7: priority: unexpected argument "200" after "100"`},
		{"priority block", inst("  priority {\n  }\n"), "k.conf:7: priority: takes no block"},
		{"state", inst("  state PRIMARY\n"), `k.conf:7: state: "PRIMARY" is not MASTER or BACKUP`},
		{"interface", inst("  interface eth0/1\n"), `k.conf:7: interface: "eth0/1" is not an interface name`},
		{"advert_int too small", inst("  advert_int 0.001\n"), `k.conf:7: advert_int: "0.001" is not a number of seconds 0.01-255`},
		{"advert_int word", inst("  advert_int fast\n"), `k.conf:7: advert_int: "fast" is not a number of seconds 0.01-255`},
		{"advert_int unit", inst("  advert_int 100ms\n"), `k.conf:7: advert_int: "100ms" is not a number of seconds 0.01-255`},
		{"advert_int too large", inst("  advert_int 256\n"), `k.conf:7: advert_int: "256" is not a number of seconds 0.01-255`},
		{"auth_type", inst("  authentication {\n    auth_type MD5\n  }\n"), `k.conf:8: auth_type: "MD5" is not PASS or AH`},
		{"auth no type", inst("  authentication {\n    auth_pass x\n  }\n"), "k.conf:7: authentication: auth_type missing (PASS or AH)"},
		{"auth unknown", inst("  authentication {\n    auth_key x\n  }\n"), "k.conf:7: authentication: auth_type missing (PASS or AH)"},
		{"auth not block", inst("  authentication PASS\n"), "k.conf:7: authentication: must be a block: authentication { ... }"},
		{"preempt_delay", inst("  preempt_delay 2000\n"), `k.conf:7: preempt_delay: "2000" is not a duration 0s-1000s`},
		{"vip bad brd", inst("  virtual_ipaddress {\n    10.0.0.2/24 brd 1.2.3\n  }\n"), `k.conf:8: virtual_ipaddress: brd "1.2.3" is not an IPv4 address (keepalived 2.2.7 drops the address`},
		{"vip use_vmac", inst("  virtual_ipaddress {\n    10.0.0.2/24 use_vmac\n  }\n"), `k.conf:8: virtual_ipaddress: 10.0.0.2/24 "use_vmac" is not supported`},
		{"vip dev missing", inst("  virtual_ipaddress {\n    10.0.0.2/24 dev\n  }\n"), `k.conf:8: virtual_ipaddress: dev: missing value (keepalived 2.2.7: "No dev parameter specified for 10.0.0.2/24")`},
		{"vip label too long", inst("  virtual_ipaddress {\n    10.0.0.2/24 label abcdefghijklmnop\n  }\n"), `k.conf:8: virtual_ipaddress: label "abcdefghijklmnop" is longer than 15 characters`},
		{"track bad weight", inst("  track_interface {\n    eth0 weight x\n  }\n"), `k.conf:8: track_interface: weight "x" is not a number -253-253`},
		{"track junk", inst("  track_interface {\n    eth0 eth1\n  }\n"), `k.conf:8: track_interface: "eth0 eth1": want IFNAME [weight N [reverse]]`},
		{"unicast_src_ip", inst("  unicast_src_ip 1.2.3\n"), `k.conf:7: unicast_src_ip: "1.2.3" is not an IP address`},
		{"unicast_peer bad", inst("  unicast_peer {\n    1.2.3.4.5\n  }\n"), `k.conf:8: unicast_peer: "1.2.3.4.5" is not an IP address`},
		{"unicast_peer two on a line", inst("  unicast_peer {\n    1.2.3.4 1.2.3.5\n  }\n"), "k.conf:8: 1.2.3.4: want one address per line"},
		{"mcast_src_ip", inst("  mcast_src_ip 1.2.3\n"), `k.conf:7: mcast_src_ip: "1.2.3" is not an IP address`},
		{"notify missing", inst("  notify\n"), "k.conf:7: notify: missing value"},
		{"notify quote", inst("  notify_master \"/bin/x 'y\"\n"), `k.conf:7: notify_master: "/bin/x 'y": unterminated quote`},
		{"garp repeat", inst("  garp_master_repeat 0\n"), `k.conf:7: garp_master_repeat: "0" is not a number 1-1000`},
		{"garp delay", inst("  garp_master_delay -1\n"), `k.conf:7: garp_master_delay: "-1" is not a duration 0s-86400s`},
		{"keepalived keyword elsewhere", inst("  lb_algo rr\n"), "k.conf:7: lb_algo: not supported in vrrp_instance: keepalived 2.2.7 knows this keyword, and lbnode does not read it here"},
		{"keepalived keyword refused", inst("  use_ipvlan\n"), "k.conf:7: use_ipvlan: not supported in vrrp_instance: ipvlan interfaces: not implemented (use_vmac is)"},
		{"unsupported in instance", inst("  vrrp_track_process\n"), "k.conf:7: vrrp_track_process: not supported in vrrp_instance: process tracking"},
		{"use_vmac block", inst("  use_vmac {\n  }\n"), "k.conf:7: use_vmac: takes no block"},
		{"track_process in instance", inst("  track_process {\n    p\n  }\n"), "k.conf:7: track_process: not supported in vrrp_instance: process tracking"},
		{"track_bfd in instance", inst("  track_bfd {\n    b\n  }\n"), "k.conf:7: track_bfd: not supported in vrrp_instance: BFD tracking"},
		{"instance missing vips", "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n}\n", "k.conf:1: vrrp_instance VI_1: virtual_ipaddress: no address"},
		{"instance missing interface", "vrrp_instance VI_1 {\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n", "k.conf:1: vrrp_instance VI_1: interface: missing"},
		{"instance missing vrid", "vrrp_instance VI_1 {\n  interface eth1\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n", "k.conf:1: vrrp_instance VI_1: virtual_router_id: 0 is not a number 1-255"},
		{"duplicate instance", minimalVRRP + minimalVRRP, "k.conf:8: vrrp_instance VI_1: name: \"VI_1\" is defined twice"},
		{"duplicate vrid", minimalVRRP + strings.Replace(minimalVRRP, "VI_1", "VI_2", 1), "k.conf:8: vrrp_instance VI_2: virtual_router_id: 7 on eth1 is also used by vrrp_instance VI_1"},
		// virtual_server.
		{"vs bad address", minimalVRRP + "virtual_server 10.0.0.x 80 {\n}\n", `k.conf:8: virtual_server: "10.0.0.x" is not an IP address`},
		{"vs bad port", minimalVRRP + "virtual_server 10.0.0.1 http {\n}\n", `k.conf:8: virtual_server: "http" is not a port 0-65535`},
		{"vs three words", minimalVRRP + "virtual_server 10.0.0.1 80 90 {\n}\n", `k.conf:8: virtual_server: want IP PORT, fwmark N or group NAME, got "10.0.0.1 80 90"`},
		{"vs fwmark", minimalVRRP + "virtual_server fwmark 0 {\n}\n", `k.conf:8: virtual_server: fwmark "0" is not a number 1-2147483647`},
		{"vs group", minimalVRRP + "virtual_server group G {\n  real_server 10.0.1.1 80 {\n  }\n}\n", "k.conf:8: virtual_server group: G: no virtual_server_group of that name"},
		{"vs group range", minimalVRRP + "virtual_server_group G {\n  10.0.0.9-3 80\n}\n", `k.conf:9: virtual_server_group G: "10.0.0.9-3": the range ends before it starts`},
		{"vs group mask", minimalVRRP + "virtual_server_group G {\n  10.0.0.1/30 80\n}\n", `k.conf:9: virtual_server_group G: "10.0.0.1/30": address mask bits not empty`},
		{"vs not block", minimalVRRP + "virtual_server 10.0.0.1 80\n", "k.conf:8: virtual_server: must be a block"},
		{"lb_kind", vs("  lb_kind FULLNAT\n"), `k.conf:10: lb_kind: "FULLNAT" is not NAT, DR or TUN`},
		{"delay_loop", vs("  delay_loop 0\n"), `k.conf:10: delay_loop: "0" is not a duration 1ms-86400s`},
		{"persistence_timeout", vs("  persistence_timeout forever\n"), `k.conf:10: persistence_timeout: "forever" is not a duration 1s-86400s`},
		{"persistence_timeout two", vs("  persistence_timeout 1 2\n"), `k.conf:10: persistence_timeout: unexpected argument "2" after "1"`},
		{"persistence_granularity", vs("  persistence_granularity 255.0.255.0\n"), `k.conf:10: persistence_granularity: "255.0.255.0" is not a contiguous netmask`},
		{"sorry method without sorry server", vs("  sorry_server_lvs_method DR\n"), "k.conf:10: sorry_server_lvs_method: sorry_server forwarding used without sorry_server"},
		{"ip_family against the address", vs("  ip_family inet6\n"), "k.conf:10: ip_family: virtual server specified family inet6 conflicts with server family"},
		{"unknown ip_family", vs("  ip_family ipx\n"), "k.conf:10: ip_family: unknown address family ipx"},
		{"tunnel option", vs("  lvs_method TUN type gue port 6080 fast\n"), "k.conf:10: lvs_method: invalid tunnel option fast for virtual server"},
		{"sorry server address", vs("  sorry_server 10.0.0.x 80\n"), `k.conf:10: sorry_server: "10.0.0.x" is not an IP address`},
		{"quorum zero", vs("  quorum 0\n"), `k.conf:10: quorum: "0" is not a number 1-2147483647`},
		{"vs without real servers", vs(""), "k.conf:8: virtual_server TCP 10.0.0.1:80: real_server: none given"},
		{"duplicate vs", vs("  real_server 10.0.1.1 80 {\n  }\n") + "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n  }\n}\n", "k.conf:13: virtual_server TCP 10.0.0.1:80: address: TCP 10.0.0.1:80 is defined twice"},
		// real_server.
		{"rs not block", vs("  real_server 10.0.1.1 80\n"), "k.conf:10: real_server: must be a block"},
		{"rs bad address", vs("  real_server 10.0.1 80 {\n  }\n"), `k.conf:10: real_server: "10.0.1" is not an IP address`},
		{"rs bad port", vs("  real_server 10.0.1.1 99999 {\n  }\n"), `k.conf:10: real_server: "99999" is not a port 0-65535`},
		{"rs too many words", vs("  real_server 10.0.1.1 80 x {\n  }\n"), `k.conf:10: real_server: want IP [PORT], got "10.0.1.1 80 x"`},
		{"rs twice", vs("  real_server 10.0.1.1 80 {\n  }\n  real_server 10.0.1.1 80 {\n  }\n"), "k.conf:12: virtual_server TCP 10.0.0.1:80: real_server 10.0.1.1:80: address: 10.0.1.1:80 is listed twice"},
		{"rs family", vs("  real_server 2001:db8::1 80 {\n  }\n"), "k.conf:10: virtual_server TCP 10.0.0.1:80: real_server [2001:db8::1]:80: address: 2001:db8::1 is not of the family of 10.0.0.1"},
		{"weight", rs("    weight -1\n"), `k.conf:11: weight: "-1" is not a number 0-65535`},
		{"weight word", rs("    weight heavy\n"), `k.conf:11: weight: "heavy" is not a number 0-65535`},
		{"inhibit arg", rs("    inhibit_on_failure 1\n"), `k.conf:11: inhibit_on_failure: "1" is not one of true, on, yes, false, off, no`},
		{"gue without port", rs("    lvs_method TUN type gue\n"), "k.conf:11: lvs_method: gue tunnels require port"},
		{"ipip with csum", rs("    lvs_method TUN csum\n"), "k.conf:11: lvs_method: ipip tunnels do not support checksum option"},
		{"rs method case", rs("    lvs_method dr\n"), `k.conf:11: lvs_method: "dr" is not`},
		{"bad uthreshold", rs("    uthreshold -1\n"), `k.conf:11: uthreshold: invalid real_server uthreshold "-1"`},
		{"notify_up missing", rs("    notify_up\n"), "k.conf:11: notify_up: missing value"},
		{"retry in rs", rs("    retry 0\n"), `k.conf:11: retry: "0" is not a number 1-1000`},
		{"delay_loop in checkers", rs("    TCP_CHECK {\n      delay_loop 3\n    }\n    TCP_CHECK {\n      delay_loop 4\n    }\n"), "k.conf:14: TCP_CHECK: delay_loop 4s differs from 3s of another checker of real_server 10.0.1.1:80"},
		{"unsupported checker", rs("    BFD_CHECK {\n    }\n"), "k.conf:11: BFD_CHECK: not supported in real_server: BFD checks"},
		{"checker not block", rs("    TCP_CHECK\n"), "k.conf:11: TCP_CHECK: must be a block: TCP_CHECK { ... }"},
		// Checkers.
		{"connect_timeout", rs("    TCP_CHECK {\n      connect_timeout never\n    }\n"), `k.conf:12: connect_timeout: "never" is not a duration 1ms-86400s`},
		{"connect_port", rs("    TCP_CHECK {\n      connect_port 70000\n    }\n"), `k.conf:12: connect_port: "70000" is not a port 0-65535`},
		{"connect_ip", rs("    TCP_CHECK {\n      connect_ip localhost\n    }\n"), `k.conf:12: connect_ip: "localhost" is not an IP address`},
		{"retry", rs("    TCP_CHECK {\n      retry many\n    }\n"), `k.conf:12: retry: "many" is not a number 0-1000`},
		{"delay_before_retry", rs("    TCP_CHECK {\n      delay_before_retry soon\n    }\n"), `k.conf:12: delay_before_retry: "soon" is not a duration 0s-86400s`},
		{"http no url", rs("    HTTP_GET {\n    }\n"), "k.conf:11: HTTP_GET: no url block"},
		{"url no path", rs("    HTTP_GET {\n      url {\n        status_code 200\n      }\n    }\n"), "k.conf:12: url: path missing"},
		{"url path relative", rs("    HTTP_GET {\n      url {\n        path health\n      }\n    }\n"), `k.conf:13: path: "health" does not start with /`},
		{"url status", rs("    HTTP_GET {\n      url {\n        path /\n        status_code 99\n      }\n    }\n"), `k.conf:14: status_code: "99" is not a status code or range within 100-599`},
		{"url status range", rs("    HTTP_GET {\n      url {\n        path /\n        status_code 300-200\n      }\n    }\n"), `k.conf:14: status_code: "300-200" is not a status code or range within 100-599`},
		{"url digest", rs("    SSL_GET {\n      url {\n        path /\n        digest abc\n      }\n    }\n"), `k.conf:14: digest: "abc" is not an MD5 digest (32 hex digits)`},
		{"url regex backreference", rs("    HTTP_GET {\n      url {\n        path /\n        regex \"(a)\\\\1\"\n      }\n    }\n"), "k.conf:14: regex: regex \"(a)\\\\1\" cannot be run by Go's regexp as PCRE2 runs it: invalid escape sequence: `\\1`"},
		{"misc no path", rs("    MISC_CHECK {\n      misc_timeout 3\n    }\n"), "k.conf:11: MISC_CHECK: misc_path missing"},
		{"misc timeout", rs("    MISC_CHECK {\n      misc_path /bin/true\n      misc_timeout 0\n    }\n"), `k.conf:13: misc_timeout: "0" is not a duration 1ms-86400s`},
		{"misc dynamic arg", rs("    MISC_CHECK {\n      misc_path /bin/true\n      misc_dynamic yes\n    }\n"), `k.conf:13: misc_dynamic: takes no argument, got "yes"`},
		{"misc connect_timeout bad", rs("    MISC_CHECK {\n      misc_path /bin/true\n      connect_timeout\n    }\n"), "k.conf:13: connect_timeout: missing value"},
		{"dns type", rs("    DNS_CHECK {\n      type ANY\n    }\n"), `k.conf:12: type: "ANY" is not a DNS type (A, NS, CNAME, SOA, MX, TXT, AAAA)`},
		{"dns name missing", rs("    DNS_CHECK {\n      name\n    }\n"), "k.conf:12: name: missing value"},
		{"unsupported in checker", rs("    BFD_CHECK {\n      name b\n    }\n"), "k.conf:11: BFD_CHECK: not supported in real_server: BFD checks"},
		// include.
		{"include two words", "include a b\n", "k.conf:1: include: want one file name or glob pattern"},
		{"include bad glob", "include [\n", `k.conf:1: include: "[": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseKeepalived("k.conf", []byte(tt.src), mapFS{})
			if err == nil {
				t.Fatalf("no error, want %q; got config:\n%s", tt.want, c.Summary())
			}
			if c != nil {
				t.Errorf("got a config with the error %v", err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			if !strings.HasPrefix(es[0].Error(), tt.want) {
				t.Errorf("first error:\n got %q\nwant %q...\n(all: %v)", es[0].Error(), tt.want, err)
			}
		})
	}
}

func TestParseKeepalivedManyErrors(t *testing.T) {
	src := "vrrp_instance VI_1 {\n  priority x\n  advert_int y\n  lb_algo\n}\n"
	_, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v, want Errors", err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	want := []string{
		`k.conf:2: priority: "x" is not a number 1-255`,
		`k.conf:3: advert_int: "y" is not a number of seconds 0.01-255`,
		`k.conf:4: lb_algo: not supported in vrrp_instance: keepalived 2.2.7 knows this keyword, and lbnode does not read it here`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	var one *Error
	if !errors.As(err, &one) || one.Pos.Line != 2 || one.Directive != "priority" {
		t.Errorf("errors.As(*Error) = %+v, want the first error", one)
	}
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line string
		want []token
	}{
		{"", nil},
		{"   # only a comment", nil},
		{"! a bang comment", nil},
		{"a b\tc", []token{{text: "a"}, {text: "b"}, {text: "c"}}},
		{"a{b}c", []token{{text: "a"}, {text: "{"}, {text: "b"}, {text: "}"}, {text: "c"}}},
		{`path "/a b#c!d{}"`, []token{{text: "path"}, {text: "/a b#c!d{}", quoted: true}}},
		{`x"y z"w`, []token{{text: "xy zw", quoted: true}}},
		{`""`, []token{{text: "", quoted: true}}},
		{"a#b", []token{{text: "a"}}},
		{"a !b", []token{{text: "a"}}},
		{`"{"`, []token{{text: "{", quoted: true}}},
	}
	for _, tt := range tests {
		got, err := splitLine(tt.line, Pos{})
		if err != nil {
			t.Errorf("splitLine(%q): %v", tt.line, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(token{})); diff != "" {
			t.Errorf("splitLine(%q) (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestParseTokensBlocks(t *testing.T) {
	src := "a 1 {\n  b 2 }\nc\n{\n d { e } }\nf \"{\"\n"
	lx := &lexer{fs: mapFS{}}
	if err := lx.lexFile("t", []byte(src), 0); err != nil {
		t.Fatal(err)
	}
	nodes, err := parseTokens(lx.toks)
	if err != nil {
		t.Fatal(err)
	}
	// Render the tree back as nested names and args.
	var render func(ns []*node) string
	render = func(ns []*node) string {
		var parts []string
		for _, n := range ns {
			s := fmt.Sprintf("%s@%d%v", n.name, n.pos.Line, n.argStrings())
			if n.block {
				s += "{" + render(n.children) + "}"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	want := `a@1[1]{b@2[2]} c@3[]{d@5[]{e@5[]}} f@6[{]`
	if got := render(nodes); got != want {
		t.Errorf("tree:\n got %s\nwant %s", got, want)
	}
}

func TestKeepalivedInclude(t *testing.T) {
	fs := mapFS{
		"/etc/keepalived/keepalived.conf":     "global_defs {\n  router_id lb1\n}\ninclude conf.d/*.conf\ninclude missing/*.conf\n",
		"/etc/keepalived/conf.d/10-vrrp.conf": minimalVRRP,
		"/etc/keepalived/conf.d/20-vs.conf":   "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  include /etc/keepalived/rs/*.inc\n}\n",
		"/etc/keepalived/rs/a.inc":            "real_server 10.0.1.1 80 {\n  weight 3\n}\n",
		"/etc/keepalived/rs/b.inc":            "real_server 10.0.1.2 80 {\n  weight x\n}\n",
	}
	_, err := parseKeepalived("/etc/keepalived/keepalived.conf", []byte(fs["/etc/keepalived/keepalived.conf"]), fs)
	if err == nil || err.Error() != `/etc/keepalived/rs/b.inc:2: weight: "x" is not a number 0-65535` {
		t.Fatalf("error in an included file: got %v", err)
	}
	fs["/etc/keepalived/rs/b.inc"] = "real_server 10.0.1.2 80 {\n}\n"
	c, err := parseKeepalived("/etc/keepalived/keepalived.conf", []byte(fs["/etc/keepalived/keepalived.conf"]), fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Global.RouterID != "lb1" || len(c.VRRP) != 1 || c.VRRP[0].Pos != (Pos{File: "/etc/keepalived/conf.d/10-vrrp.conf", Line: 1}) {
		t.Errorf("included vrrp_instance: %+v", c.VRRP)
	}
	vs := c.VirtualServers[0]
	gotRS := []Pos{vs.RealServers[0].Pos, vs.RealServers[1].Pos}
	wantRS := []Pos{{File: "/etc/keepalived/rs/a.inc", Line: 1}, {File: "/etc/keepalived/rs/b.inc", Line: 1}}
	if diff := cmp.Diff(wantRS, gotRS); diff != "" || vs.RealServers[0].Weight != 3 {
		t.Errorf("included real servers (-want +got):\n%s", diff)
	}
	wantWarn := []Warning{{Pos: Pos{File: "/etc/keepalived/keepalived.conf", Line: 5}, Directive: "include", Msg: `"missing/*.conf" matches no file`}}
	if diff := cmp.Diff(wantWarn, c.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestKeepalivedIncludeLoop(t *testing.T) {
	fs := mapFS{"/k/a.conf": "include b.conf\n", "/k/b.conf": "include a.conf\n"}
	_, err := parseKeepalived("/k/a.conf", []byte(fs["/k/a.conf"]), fs)
	if err == nil || !strings.Contains(err.Error(), "includes nested deeper than 8 (a loop?)") {
		t.Errorf("include loop: got %v", err)
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want Command
		err  string
	}{
		{"/bin/nc -zn -u 172.16.0.1 53", Command{"/bin/nc", "-zn", "-u", "172.16.0.1", "53"}, ""},
		{`/bin/sh -c 'echo "a b"'`, Command{"/bin/sh", "-c", `echo "a b"`}, ""},
		{`  /x  ''  `, Command{"/x", ""}, ""},
		{"nc -z", Command{"nc", "-z"}, ""},
		{"", nil, "empty command"},
		{"/x 'y", nil, `"/x 'y": unterminated quote`},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("splitCommand(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("splitCommand(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitCommand(%q) (-want +got):\n%s", tt.in, diff)
		}
		// String quotes so that splitting again gives the same words.
		again, err := splitCommand(got.String())
		if err != nil || !slices.Equal(again, got) {
			t.Errorf("splitCommand(%q).String() = %q does not split back: %q, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestArticleKeepalivedMatchesArticleYAML(t *testing.T) {
	ka, err := parseFile(articleConf)
	if err != nil {
		t.Fatal(err)
	}
	y, err := parseFile("testdata/article.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]cmp.Option{
		cmpopts.IgnoreTypes(Pos{}),
		cmpopts.IgnoreFields(Config{}, "Source", "Format", "Warnings"),
	}, cmpOpts...)
	if diff := cmp.Diff(ka, y, opts...); diff != "" {
		t.Errorf("article.yaml differs from the article's keepalived.conf (-keepalived +yaml):\n%s", diff)
	}
}

func FuzzParseKeepalived(f *testing.F) {
	for _, s := range []string{
		minimalVRRP,
		"global_defs {\n router_id x\n}\n",
		"virtual_server fwmark 1 {\n real_server 1.2.3.4 {\n HTTP_GET { url { path / } }\n }\n}\n",
		"a {\n b \"c\n",
		"include *.conf\n",
		"}{",
		strings.Repeat("x {", 30),
	} {
		f.Add([]byte(s))
	}
	if src, err := readTestdata(articleConf); err == nil {
		f.Add(src)
	}
	fs := mapFS{"/f/inc.conf": minimalVRRP, "/f/self.conf": "include self.conf\n"}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := parseKeepalived("/f/k.conf", src, fs)
		if err != nil {
			if c != nil {
				t.Fatalf("config and error %v", err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not a non-empty Errors: %v", err, err)
			}
			return
		}
		if err := Validate(c); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		c2, err := parseKeepalived("/f/k.conf", src, fs)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if s1, s2 := c.Summary(), c2.Summary(); s1 != s2 {
			t.Fatalf("summary is not deterministic:\n%s\n%s", s1, s2)
		}
	})
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile(name) }

// notify_master_rx_lower_pri is read as the other notify programs are:
// the first line kept.
func TestParseKeepalivedNotifyMasterRxLowerPri(t *testing.T) {
	src := "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" +
		"  notify_master_rx_lower_pri \"/usr/bin/rx now\"\n  notify_master_rx_lower_pri /usr/bin/other\n}\n"
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.VRRP[0].NotifyMasterRxLowerPri, (Command{"/usr/bin/rx", "now"}); !cmp.Equal(got, want) {
		t.Errorf("notify_master_rx_lower_pri %q, want %q", got, want)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].String(), "script already specified") {
		t.Errorf("warnings %v, want the second line's", c.Warnings)
	}
}

// TestParseKeepalivedInstanceGroup reads mcast_dst_ip, down_timer_adverts
// and unicast_fault_no_peer as keepalived 2.2.7 does, or refuses what
// lbnode cannot run.
func TestParseKeepalivedInstanceGroup(t *testing.T) {
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n" + body + "  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n"
	}
	for _, tt := range []struct {
		name, body, group, warn, err string
	}{
		{name: "mcast_dst_ip", body: "  mcast_dst_ip 224.0.0.19\n", group: "224.0.0.19"},
		{name: "not multicast", body: "  mcast_dst_ip 10.1.1.1\n", group: "224.0.0.18", warn: "k.conf:4: mcast_dst_ip: 10.1.1.1 is not a multicast address: ignored, as keepalived does"},
		{name: "IPv6 group, IPv4 VIPs", body: "  virtual_ipaddress {\n    10.0.0.2\n  }\n  mcast_dst_ip ff02::12\n", group: "224.0.0.18", warn: "k.conf:7: mcast_dst_ip: ff02::12 is not of the instance's family (IPv4): ignored, as keepalived does"},
		{name: "down_timer_adverts 3", body: "  down_timer_adverts 3\n", group: "224.0.0.18"},
		{name: "down_timer_adverts 5", body: "  down_timer_adverts 5\n", err: `k.conf:4: down_timer_adverts: "5": not supported: lbnode's Master_Down_Interval is 3 adverts`},
		{name: "unicast_fault_no_peer with a peer", body: "  unicast_fault_no_peer\n  unicast_peer {\n    10.0.0.9\n  }\n", group: "224.0.0.18"},
		{name: "unicast_fault_no_peer alone", body: "  unicast_fault_no_peer\n", err: "k.conf:4: unicast_fault_no_peer: no unicast_peer: keepalived 2.2.7 would hold the instance in FAULT for ever; lbnode refuses it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseKeepalived("k.conf", []byte(inst(tt.body)), mapFS{})
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := c.Global.multicastGroup(&c.VRRP[0]).String(); g != tt.group {
				t.Errorf("group %s, want %s", g, tt.group)
			}
			var ws []string
			for _, w := range c.Warnings {
				ws = append(ws, w.String())
			}
			if tt.warn == "" && len(ws) > 0 || tt.warn != "" && (len(ws) != 1 || ws[0] != tt.warn) {
				t.Errorf("warnings %q, want %q", ws, tt.warn)
			}
		})
	}
}

// TestParseKeepalivedAdvertChecks reads skip_check_adv_addr and
// garp_master_refresh_repeat, and their global forms, as keepalived 2.2.7
// does: an instance takes the globals read before it (alloc_vrrp); a
// false skip_check_adv_addr, which keepalived turns on anyway, is refused.
func TestParseKeepalivedAdvertChecks(t *testing.T) {
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n" + body + "  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n"
	}
	globals := "global_defs {\n  vrrp_skip_check_adv_addr\n  vrrp_garp_master_refresh_repeat 3\n}\n"
	for _, tt := range []struct {
		name, src string
		skip      bool
		repeat    int
		warn, err string
	}{
		{name: "defaults", src: inst("")},
		{name: "globals", src: globals + inst(""), skip: true, repeat: 3},
		{name: "globals after the instance", src: inst("") + globals},
		{name: "instance", src: inst("  skip_check_adv_addr\n  garp_master_refresh_repeat 2\n"), skip: true, repeat: 2},
		{name: "skip true", src: inst("  skip_check_adv_addr on\n"), skip: true},
		{name: "repeat 0", src: inst("  garp_master_refresh_repeat 0\n"), repeat: 1, warn: "k.conf:4: garp_master_refresh_repeat: must be greater than 0: 1, as keepalived sets it"},
		{name: "skip invalid", src: inst("  skip_check_adv_addr maybe\n"), warn: `k.conf:4: skip_check_adv_addr: invalid value "maybe": ignored, as keepalived does`},
		{name: "skip false", src: inst("  skip_check_adv_addr off\n"), err: `k.conf:4: skip_check_adv_addr: "off": keepalived 2.2.7 turns skip_check_adv_addr on for it too`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseKeepalived("k.conf", []byte(tt.src), mapFS{})
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := c.VRRP[0]
			if in.SkipCheckAdvAddr != tt.skip || in.GARPMasterRefreshRepeat != tt.repeat {
				t.Errorf("skip %v, repeat %d; want %v, %d", in.SkipCheckAdvAddr, in.GARPMasterRefreshRepeat, tt.skip, tt.repeat)
			}
			var ws []string
			for _, w := range c.Warnings {
				ws = append(ws, w.String())
			}
			if tt.warn == "" && len(ws) > 0 || tt.warn != "" && (len(ws) != 1 || ws[0] != tt.warn) {
				t.Errorf("warnings %q, want %q", ws, tt.warn)
			}
		})
	}
}

// TestParseKeepalivedMinGARPAndStartupDelay: vrrp_min_garp sends one
// gratuitous ARP at MASTER and no second burst where those settings are at
// keepalived's defaults, and leaves set ones alone; vrrp_startup_delay
// reads seconds with keepalived's millisecond resolution.
func TestParseKeepalivedMinGARPAndStartupDelay(t *testing.T) {
	for _, tt := range []struct {
		globals       string
		repeat, lower int
		delay         time.Duration
		startup       time.Duration
	}{
		{"", 5, 5, 5 * time.Second, 0},
		{"  vrrp_min_garp\n", 1, 1, 0, 0},
		{"  vrrp_min_garp false\n", 5, 5, 5 * time.Second, 0},
		{"  vrrp_garp_master_repeat 3\n  vrrp_min_garp on\n", 3, 3, 0, 0},
		{"  vrrp_startup_delay 5.5\n", 5, 5, 5 * time.Second, 5500 * time.Millisecond},
	} {
		c, err := parseKeepalived("k.conf", []byte("global_defs {\n"+tt.globals+"}\n"+minimalVRRP), mapFS{})
		if err != nil {
			t.Fatalf("%q: %v", tt.globals, err)
		}
		in := c.VRRP[0]
		if in.GARPMasterRepeat != tt.repeat || in.GARPLowerPrioRepeat != tt.lower || in.GARPMasterDelay != tt.delay || c.Global.StartupDelay != tt.startup {
			t.Errorf("%q: repeat %d, lower %d, delay %v, startup %v; want %d, %d, %v, %v", tt.globals,
				in.GARPMasterRepeat, in.GARPLowerPrioRepeat, in.GARPMasterDelay, c.Global.StartupDelay, tt.repeat, tt.lower, tt.delay, tt.startup)
		}
	}
}

// TestParseKeepalivedGARPIntervals reads vrrp_garp_interval and
// vrrp_gna_interval (seconds, microsecond resolution) and
// vrrp_down_timer_adverts, which lbnode runs at 3 only.
func TestParseKeepalivedGARPIntervals(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte("global_defs {\n  vrrp_garp_interval 0.001\n  vrrp_gna_interval 0.5\n  vrrp_down_timer_adverts 3\n}\n"+minimalVRRP), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Global.GARPInterval != time.Millisecond || c.Global.GNAInterval != 500*time.Millisecond || len(c.Warnings) != 0 {
		t.Errorf("intervals %v, %v, warnings %v; want 1ms, 500ms, none", c.Global.GARPInterval, c.Global.GNAInterval, c.Warnings)
	}
	// keepalived: "vrrp_garp_interval '0' is invalid", and goes on.
	c, err = parseKeepalived("k.conf", []byte("global_defs {\n  vrrp_garp_interval 0\n}\n"+minimalVRRP), mapFS{})
	if err != nil || c.Global.GARPInterval != 0 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Msg, "ignored, as keepalived does") {
		t.Errorf("vrrp_garp_interval 0: %v, %v, %v; want ignored with a warning", err, c.Global.GARPInterval, c.Warnings)
	}
	_, err = parseKeepalived("k.conf", []byte("global_defs {\n  vrrp_down_timer_adverts 4\n}\n"+minimalVRRP), mapFS{})
	if want := `k.conf:2: vrrp_down_timer_adverts: "4": not supported`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q...", err, want)
	}
}
