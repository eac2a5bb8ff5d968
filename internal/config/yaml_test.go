package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lb1Want is testdata/lb1.yaml: the article's first balancer.
func lb1Want() *Config {
	f := "testdata/lb1.yaml"
	at := func(line int) Pos { return Pos{File: f, Line: line} }
	tcp := func(line int) []Checker {
		return []Checker{{Pos: at(line), Kind: TCPCheck, ConnectTimeout: 2 * time.Second, Retry: 1, DelayBeforeRetry: time.Second}}
	}
	dns := func(line int) []Checker {
		return []Checker{{Pos: at(line), Kind: DNSCheck, DNSName: ".", DNSType: "A", ConnectTimeout: 2 * time.Second, Retry: 3, DelayBeforeRetry: time.Second}}
	}
	vip := netip.MustParseAddr("192.168.0.100")
	svc := netip.MustParseAddr("172.16.0.1")
	return &Config{
		Source: f,
		Format: FormatYAML,
		Global: func() Global { g := NewGlobal(); g.RouterID = "lb1"; return g }(),
		VRRP: []VRRPInstance{{
			Pos: at(16), Name: "192.168.0.100", Interface: "eth1", State: StateBackup,
			VirtualRouterID: 1, Priority: 102, AdvertInt: time.Second,
			Auth:                &Auth{Type: AuthPass, Pass: "secret"},
			Nopreempt:           true,
			VirtualIPs:          []VirtualIP{{Prefix: netip.MustParsePrefix("192.168.0.100/24"), Dev: "eth0"}},
			Track:               []TrackInterface{{Name: "eth0"}, {Name: "eth1"}},
			GARPMasterDelay:     5 * time.Second,
			GARPMasterRepeat:    5,
			GARPLowerPrioDelay:  5 * time.Second,
			GARPLowerPrioRepeat: 5,
		}},
		VirtualServers: []VirtualServer{
			{
				Pos: at(34), Addr: netip.MustParseAddrPort("192.168.0.100:80"), Protocol: TCP, LBAlgo: "wlc", LBKind: LBKindDR, DelayLoop: 6 * time.Second,
				RealServers: []RealServer{
					{Pos: at(40), Addr: netip.MustParseAddrPort("172.16.0.1:80"), Weight: 1, Checkers: tcp(43)},
					{Pos: at(45), Addr: netip.MustParseAddrPort("172.16.0.2:80"), Weight: 1, Checkers: tcp(48)},
				},
			},
			{
				Pos: at(51), Addr: netip.MustParseAddrPort("192.168.0.100:53"), Protocol: UDP, LBAlgo: "wlc", LBKind: LBKindDR, DelayLoop: 6 * time.Second,
				RealServers: []RealServer{
					{Pos: at(57), Addr: netip.MustParseAddrPort("172.16.0.1:53"), Weight: 1, Checkers: dns(60)},
					{Pos: at(64), Addr: netip.MustParseAddrPort("172.16.0.2:53"), Weight: 1, Checkers: dns(67)},
				},
			},
		},
		NAT: &NATSwitch{Pos: at(73), Instance: "192.168.0.100", Interface: "eth1", VIPs: []netip.Addr{vip}, LocalAddress: svc},
		Nginx: &Nginx{
			Pos: at(80),
			Sites: []NginxSite{{
				Name: "web_servers",
				Upstreams: []NginxUpstream{{Name: "web_servers", Servers: []NginxUpstreamServer{
					{Address: netip.MustParseAddrPort("192.168.0.101:80")},
					{Address: netip.MustParseAddrPort("192.168.0.102:80")},
					{Address: netip.MustParseAddrPort("192.168.0.103:80")},
				}}},
				Servers: []NginxServer{{
					Listen: []NginxListen{
						{Addr: svc, Port: 80, DefaultServer: true},
						{Addr: vip, Port: 80, DefaultServer: true},
					},
					Locations: []NginxLocation{{
						Path: "/", ProxyPass: "web_servers", ProxyRedirect: "default",
						Headers: []NginxHeader{
							{Name: "Host", Value: "$host"},
							{Name: "X-Real-IP", Value: "$remote_addr"},
							{Name: "X-Forwarded-For", Value: "$proxy_add_x_forwarded_for"},
						},
					}},
				}},
			}},
			Streams: []NginxStream{{
				Name: "dns_servers",
				Upstreams: []NginxUpstream{{Name: "dns_servers", Servers: []NginxUpstreamServer{
					{Address: netip.MustParseAddrPort("192.168.0.201:53")},
					{Address: netip.MustParseAddrPort("192.168.0.202:53")},
				}}},
				Servers: []NginxStreamServer{{
					Listen: []NginxListen{
						{Addr: svc, Port: 53, UDP: true, ReusePort: true},
						{Addr: vip, Port: 53, UDP: true, ReusePort: true},
					},
					ProxyPass:    "dns_servers",
					ProxyTimeout: 3 * time.Second,
				}},
			}},
		},
		Sysctls: []Sysctl{
			{Key: "net.ipv4.ip_nonlocal_bind", Value: "1"},
			{Key: "net.ipv4.vs.drop_entry", Value: "1"},
			{Key: "net.nf_conntrack_max", Value: "4194304"},
		},
	}
}

func TestLoadLB1(t *testing.T) {
	got, err := parseFile("testdata/lb1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lb1Want(), got, cmpOpts...); diff != "" {
		t.Errorf("lb1.yaml mismatch (-want +got):\n%s", diff)
	}
}

// lb2.yaml is lb1.yaml with lb2's name, priority and service address.
func TestLoadLB2(t *testing.T) {
	got, err := parseFile("testdata/lb2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := lb1Want()
	want.Source = "testdata/lb2.yaml"
	setFile := func(p *Pos) { p.File = want.Source }
	setFile(&want.VRRP[0].Pos)
	setFile(&want.NAT.Pos)
	setFile(&want.Nginx.Pos)
	for i := range want.VirtualServers {
		vs := &want.VirtualServers[i]
		setFile(&vs.Pos)
		for j := range vs.RealServers {
			setFile(&vs.RealServers[j].Pos)
			for k := range vs.RealServers[j].Checkers {
				setFile(&vs.RealServers[j].Checkers[k].Pos)
			}
		}
	}
	svc2 := netip.MustParseAddr("172.16.0.2")
	want.Global.RouterID = "lb2"
	want.VRRP[0].Priority = 101
	want.NAT.LocalAddress = svc2
	want.Nginx.Sites[0].Servers[0].Listen[0].Addr = svc2
	want.Nginx.Streams[0].Servers[0].Listen[0].Addr = svc2
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("lb2.yaml mismatch (-want +got):\n%s", diff)
	}
}

func TestParseYAMLEveryField(t *testing.T) {
	src := `
global:
  router_id: r
  enable_script_security: true
  script_user: keepalived_script
  script_group: nogroup
vrrp_instances:
  - name: VI_6
    interface: eth1
    state: backup
    virtual_router_id: 9
    priority: 200
    advert_int: 3s
    preempt_delay: 1.5
    virtual_ipaddress: 2001:db8::10/64 dev eth0 label x
    track_interface: ["eth0 weight 10"]
    unicast_src_ip: 2001:db8::1
    unicast_peer: [2001:db8::2]
    notify: [/usr/bin/notify, "a b"]
    notify_master: /usr/bin/m
    notify_backup: /usr/bin/b
    notify_fault: /usr/bin/f
    notify_stop: /usr/bin/s
    garp_master_delay: 0
    garp_master_repeat: 2
    garp_master_refresh: 30
virtual_servers:
  - address: "[2001:db8::10]:443"
    protocol: tcp
    lb_algo: mh
    lb_kind: dr
    delay_loop: 500ms
    persistence_timeout: 60
    persistence_granularity: 64
    real_servers:
      - address: "[2001:db8::21]:443"
        weight: 5
        inhibit_on_failure: true
        checkers:
          - type: SSL_GET
            url:
              - path: /ok
                status_code: 200,204
                digest: 9b3a0c85a887a256d6939da88aabd8cd
            virtualhost: example.com
            connect_ip: 2001:db8::99
            connect_port: 8443
            connect_timeout: 1
            retry: 0
            delay_before_retry: 0
          - type: MISC_CHECK
            misc_path: /bin/check --flag
            misc_timeout: 2
            misc_dynamic: true
          - type: MISC_CHECK
            misc_path: /bin/true
          - type: UDP_CHECK
  - fwmark: 3
    real_servers:
      - address: 10.0.0.5
nginx:
  stream:
    - name: s
      upstreams:
        - name: u
          method: least_conn
          servers: ["10.0.0.1:53 weight=2 max_fails=0 fail_timeout=5 backup", "10.0.0.2:53 down"]
      servers:
        - listen: "53 udp"
          proxy_pass: u
          proxy_connect_timeout: 1
          proxy_responses: 1
  http:
    - name: h
      upstreams:
        - name: w
          method: ip_hash
          servers: [10.0.0.3:80]
      servers:
        - listen: ["8080"]
          server_name: [a.example, b.example]
          locations:
            - match: "="
              path: /x
              proxy_pass: w
              https: true
              proxy_redirect: "off"
sysctls: {}
`
	got, err := ParseYAML("e.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) Pos { return Pos{File: "e.yaml", Line: line} }
	zero, one := 0, 1
	want := &Config{
		Source: "e.yaml", Format: FormatYAML,
		Warnings: []Warning{{Pos: Pos{File: "e.yaml", Line: 15}, Directive: "vrrp_instances[0].virtual_ipaddress[0]", Msg: `label ignored for the IPv6 address 2001:db8::10/64, as keepalived 2.2.7 ignores it ("Cannot specify label for IPv6 addresses (2001:db8::10/64) - ignoring label")`}},
		Global: func() Global {
			g := NewGlobal()
			g.RouterID, g.EnableScriptSecurity, g.ScriptUser, g.ScriptGroup, g.ScriptUserPos = "r", true, "keepalived_script", "nogroup", at(5)
			return g
		}(),
		VRRP: []VRRPInstance{{
			Pos: at(8), Name: "VI_6", Interface: "eth1", State: StateBackup, VirtualRouterID: 9, Priority: 200,
			AdvertInt: 3 * time.Second, PreemptDelay: 1500 * time.Millisecond,
			VirtualIPs:   []VirtualIP{{Prefix: netip.MustParsePrefix("2001:db8::10/64"), Dev: "eth0"}},
			Track:        []TrackInterface{{Name: "eth0", Weight: 10}},
			UnicastSrcIP: netip.MustParseAddr("2001:db8::1"), UnicastPeers: []netip.Addr{netip.MustParseAddr("2001:db8::2")},
			Notify: Command{"/usr/bin/notify", "a b"}, NotifyMaster: Command{"/usr/bin/m"}, NotifyBackup: Command{"/usr/bin/b"},
			NotifyFault: Command{"/usr/bin/f"}, NotifyStop: Command{"/usr/bin/s"},
			GARPMasterRepeat: 2, GARPMasterRefresh: 30 * time.Second,
			GARPLowerPrioDelay: 5 * time.Second, GARPLowerPrioRepeat: 5,
		}},
		VirtualServers: []VirtualServer{
			{
				Pos: at(28), Addr: netip.MustParseAddrPort("[2001:db8::10]:443"), Protocol: TCP, LBAlgo: "mh", LBKind: LBKindDR,
				DelayLoop: 500 * time.Millisecond, PersistenceTimeout: time.Minute, PersistenceGranularity: 64,
				RealServers: []RealServer{{
					Pos: at(36), Addr: netip.MustParseAddrPort("[2001:db8::21]:443"), Weight: 5, InhibitOnFailure: true,
					Checkers: []Checker{
						{
							Pos: at(40), Kind: SSLGet,
							URLs:        []URL{{Path: "/ok", StatusCodes: []StatusRange{{200, 200}, {204, 204}}, Digest: "9b3a0c85a887a256d6939da88aabd8cd"}},
							VirtualHost: "example.com", ConnectIP: netip.MustParseAddr("2001:db8::99"), ConnectPort: 8443,
							ConnectTimeout: time.Second,
						},
						{Pos: at(51), Kind: MiscCheck, MiscPath: Command{"/bin/check", "--flag"}, MiscTimeout: 2 * time.Second, MiscDynamic: true, DelayBeforeRetry: time.Second},
						{Pos: at(55), Kind: MiscCheck, MiscPath: Command{"/bin/true"}, MiscTimeout: 500 * time.Millisecond, DelayBeforeRetry: time.Second},
						{Pos: at(57), Kind: UDPCheck, ConnectTimeout: 5 * time.Second, Retry: 1, DelayBeforeRetry: time.Second, UDPMaxReply: DefaultUDPMaxReply},
					},
				}},
			},
			{
				Pos: at(58), FWMark: 3, Protocol: TCP, LBAlgo: "wlc", LBKind: LBKindNAT, DelayLoop: time.Minute,
				RealServers: []RealServer{{Pos: at(60), Addr: netip.MustParseAddrPort("10.0.0.5:0"), Weight: 1}},
			},
		},
		Nginx: &Nginx{
			Pos: at(63),
			Streams: []NginxStream{{
				Name: "s",
				Upstreams: []NginxUpstream{{Name: "u", Method: "least_conn", Servers: []NginxUpstreamServer{
					{Address: netip.MustParseAddrPort("10.0.0.1:53"), Weight: 2, MaxFails: &zero, FailTimeout: 5 * time.Second, Backup: true},
					{Address: netip.MustParseAddrPort("10.0.0.2:53"), Down: true},
				}}},
				Servers: []NginxStreamServer{{Listen: []NginxListen{{Port: 53, UDP: true}}, ProxyPass: "u", ProxyConnectTimeout: time.Second, ProxyResponses: &one}},
			}},
			Sites: []NginxSite{{
				Name:      "h",
				Upstreams: []NginxUpstream{{Name: "w", Method: "ip_hash", Servers: []NginxUpstreamServer{{Address: netip.MustParseAddrPort("10.0.0.3:80")}}}},
				Servers: []NginxServer{{
					Listen:      []NginxListen{{Port: 8080}},
					ServerNames: []string{"a.example", "b.example"},
					Locations:   []NginxLocation{{Match: "=", Path: "/x", ProxyPass: "w", HTTPS: true, ProxyRedirect: "off"}},
				}},
			}},
		},
		Sysctls: []Sysctl{},
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseYAMLDontReleaseIPVS(t *testing.T) {
	for src, want := range map[string]bool{
		"global:\n  router_id: r\n":             false,
		"global:\n  dont_release_ipvs: true\n":  true,
		"global:\n  dont_release_ipvs: false\n": false,
	} {
		src += "vrrp_instances:\n  - name: VI_1\n    interface: eth1\n    virtual_router_id: 1\n    virtual_ipaddress: [10.0.0.1]\n"
		c, err := ParseYAML("y.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if c.Global.DontReleaseIPVS != want {
			t.Errorf("%q: DontReleaseIPVS = %v, want %v", src, c.Global.DontReleaseIPVS, want)
		}
		if got := strings.Contains(c.Summary(), "dont_release_ipvs"); got != want {
			t.Errorf("%q: summary mentions dont_release_ipvs: %v, want %v:\n%s", src, got, want, c.Summary())
		}
	}
}

func TestParseYAMLErrors(t *testing.T) {
	base := `vrrp_instances:
  - name: VI_1
    interface: eth1
    virtual_router_id: 1
    virtual_ipaddress: [10.0.0.1]
`
	vs := base + `virtual_servers:
  - address: 10.0.0.1:80
    protocol: TCP
    real_servers:
      - address: 10.0.1.1:80
`
	ck := vs + "        checkers:\n          - "
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unknown top key", "vrrp_instance: []\n", "y.yaml:1: vrrp_instance: unknown field"},
		{"unknown nested key", base + "    prioriti: 5\n", "y.yaml:6: prioriti: unknown field"},
		{"unknown checker key", ck + "type: TCP_CHECK\n            timeout: 3\n", "y.yaml:13: timeout: unknown field"},
		{"list for mapping", "global: [a]\n", `y.yaml:1: a list is not allowed here`},
		{"dont_release_ipvs", "global:\n  dont_release_ipvs: sometimes\n", `y.yaml:2: global.dont_release_ipvs: "sometimes" is not true or false`},
		{"scalar for list", "vrrp_instances: 5\n", `y.yaml:1: a number "5" is not allowed here`},
		{"duplicate key", "global:\n  router_id: a\n  router_id: b\n", `y.yaml:3: mapping key "router_id" already defined at line 2`},
		{"syntax", "global:\n  router_id: [a\n", "y.yaml:"},
		{"two documents", base + "---\nglobal: {}\n", "y.yaml:6: more than one YAML document"},
		{"missing name", "vrrp_instances:\n  - interface: eth1\n    virtual_router_id: 1\n    virtual_ipaddress: [10.0.0.1]\n", "y.yaml:2: vrrp_instances[0].name: missing"},
		{"missing interface", "vrrp_instances:\n  - name: a\n    virtual_router_id: 1\n    virtual_ipaddress: [10.0.0.1]\n", "y.yaml:2: vrrp_instances[0].interface: missing"},
		{"missing vrid", "vrrp_instances:\n  - name: a\n    interface: eth1\n    virtual_ipaddress: [10.0.0.1]\n", "y.yaml:2: vrrp_instances[0].virtual_router_id: missing"},
		{"vrid", base + "    priority: 1\n  - name: b\n    interface: eth1\n    virtual_router_id: abc\n", `y.yaml:9: vrrp_instances[1].virtual_router_id: "abc" is not a number 1-255`},
		{"priority", base + "    priority: high\n", `y.yaml:6: vrrp_instances[0].priority: "high" is not a number 1-255`},
		{"priority list", base + "    priority: [1]\n", `y.yaml:6: vrrp_instances[0].priority: want a single value`},
		{"priority null", base + "    priority:\n", `y.yaml:6: vrrp_instances[0].priority: want a single value`},
		{"state", base + "    state: leader\n", `y.yaml:6: vrrp_instances[0].state: "leader" is not MASTER or BACKUP`},
		{"advert_int", base + "    advert_int: 0.5\n", `y.yaml:6: vrrp_instances[0].advert_int: 500ms is not a whole number of seconds 1-255, as VRRPv2 needs`},
		{"advert_int v3", base + "    version: 3\n    advert_int: 15ms\n", `y.yaml:7: vrrp_instances[0].advert_int: 15ms is not a whole number of centiseconds 0.01-40.95s, as VRRPv3 needs`},
		{"advert_int too small", base + "    advert_int: 1ms\n", `y.yaml:6: vrrp_instances[0].advert_int: "1ms" is not a duration`},
		{"version", base + "    version: 4\n", `y.yaml:6: vrrp_instances[0].version: "4" is not a number 2-3`},
		{"version 2 with IPv6", base + "    native_ipv6: true\n    version: 2\n", `y.yaml:2: vrrp_instance VI_1: version: 2 with IPv6: VRRPv2 is IPv4 only`},
		{"nopreempt", base + "    nopreempt: yes please\n", `y.yaml:6: vrrp_instances[0].nopreempt: "yes please" is not true or false`},
		{"nopreempt number", base + "    nopreempt: 1\n", `y.yaml:6: vrrp_instances[0].nopreempt: "1" is not true or false`},
		{"preempt_delay", base + "    preempt_delay: 1h\n", `y.yaml:6: vrrp_instances[0].preempt_delay: "1h" is not a duration 0s-1000s`},
		{"auth_type", base + "    authentication: {auth_type: MD5}\n", `y.yaml:6: vrrp_instances[0].authentication.auth_type: "MD5" is not PASS or AH`},
		{"auth_type missing", base + "    authentication: {auth_pass: x}\n", `y.yaml:2: vrrp_instances[0].authentication.auth_type: missing (PASS or AH)`},
		{"auth_pass long", base + "    authentication: {auth_type: PASS, auth_pass: 123456789}\n", `y.yaml:6: vrrp_instances[0].authentication.auth_pass: "123456789" is longer than 8 characters`},
		{"vip", "vrrp_instances:\n  - name: a\n    interface: eth1\n    virtual_router_id: 1\n    virtual_ipaddress: [10.0.0.1/33]\n", `y.yaml:5: vrrp_instances[0].virtual_ipaddress[0]: "10.0.0.1/33": "33" is not a prefix length 0-32`},
		{"vip mapping", "vrrp_instances:\n  - name: a\n    interface: eth1\n    virtual_router_id: 1\n    virtual_ipaddress: {a: b}\n", `y.yaml:5: vrrp_instances[0].virtual_ipaddress: want a list`},
		{"track", base + "    track_interface: [eth0 weight 999]\n", `y.yaml:6: vrrp_instances[0].track_interface[0]: weight "999" is not a number -253-253`},
		{"unicast_peer", base + "    unicast_peer: [peer]\n", `y.yaml:6: vrrp_instances[0].unicast_peer[0]: "peer" is not an IP address`},
		{"unicast_src_ip without peers", base + "    unicast_src_ip: 10.0.0.5\n", `y.yaml:6: vrrp_instances[0].unicast_src_ip: 10.0.0.5 is set without unicast_peer`},
		{"notify empty", base + "    notify: \"\"\n", `y.yaml:6: vrrp_instances[0].notify: empty command`},
		{"notify empty list", base + "    notify: []\n", `y.yaml:6: vrrp_instances[0].notify: empty command`},
		{"garp_master_repeat", base + "    garp_master_repeat: 0\n", `y.yaml:6: vrrp_instances[0].garp_master_repeat: "0" is not a number 1-1000`},
		{"vs no address", base + "virtual_servers:\n  - protocol: TCP\n", `y.yaml:7: virtual_servers[0].address: missing (address: IP:PORT, or fwmark: N)`},
		{"vs address", base + "virtual_servers:\n  - address: 10.0.0.1\n    protocol: TCP\n", `y.yaml:7: virtual_servers[0].address: "10.0.0.1" is not an address:port`},
		{"vs protocol missing", base + "virtual_servers:\n  - address: 10.0.0.1:80\n", `y.yaml:7: virtual_servers[0].protocol: missing (TCP, UDP or SCTP)`},
		{"vs protocol", base + "virtual_servers:\n  - address: 10.0.0.1:80\n    protocol: QUIC\n", `y.yaml:8: virtual_servers[0].protocol: "QUIC" is not TCP, UDP or SCTP`},
		{"vs fwmark", base + "virtual_servers:\n  - fwmark: -3\n", `y.yaml:7: virtual_servers[0].fwmark: "-3" is not a number 1-2147483647`},
		{"vs fwmark and address", base + "virtual_servers:\n  - fwmark: 3\n    address: 10.0.0.1:80\n    real_servers: [{address: 10.0.1.1}]\n", `y.yaml:7: virtual_server FWM 3: fwmark: 3 is set together with an address 10.0.0.1:80`},
		{"lb_algo", vs + "    lb_algo: best\n", `y.yaml:11: virtual_servers[0].lb_algo: "best" is not an IPVS scheduler`},
		{"lb_kind", vs + "    lb_kind: FNAT\n", `y.yaml:11: virtual_servers[0].lb_kind: "FNAT" is not NAT, DR or TUN`},
		{"delay_loop", vs + "    delay_loop: -1\n", `y.yaml:11: virtual_servers[0].delay_loop: "-1" is not a duration 1ms-86400s`},
		{"persistence_timeout", vs + "    persistence_timeout: x\n", `y.yaml:11: virtual_servers[0].persistence_timeout: "x" is not a duration 0s-86400s`},
		{"persistence_granularity", vs + "    persistence_granularity: 0\n", `y.yaml:11: virtual_servers[0].persistence_granularity: "0" is not a prefix length 1-128`},
		{"vs no real servers", base + "virtual_servers:\n  - address: 10.0.0.1:80\n    protocol: TCP\n", `y.yaml:7: virtual_server TCP 10.0.0.1:80: real_server: none given`},
		{"rs address", vs + "        weight: 1\n      - address: web1:80\n", `y.yaml:12: virtual_servers[0].real_servers[1].address: "web1:80" is not an address:port`},
		{"rs missing address", vs + "      - weight: 2\n", `y.yaml:11: virtual_servers[0].real_servers[1].address: missing`},
		{"rs weight", vs + "        weight: 70000\n", `y.yaml:11: virtual_servers[0].real_servers[0].weight: "70000" is not a number 0-65535`},
		{"rs inhibit", vs + "        inhibit_on_failure: maybe\n", `y.yaml:11: virtual_servers[0].real_servers[0].inhibit_on_failure: "maybe" is not true or false`},
		{"checker type missing", ck + "connect_timeout: 1\n", `y.yaml:12: virtual_servers[0].real_servers[0].checkers[0].type: missing`},
		{"checker type", ck + "type: PING\n", `y.yaml:12: virtual_servers[0].real_servers[0].checkers[0].type: "PING" is not a checker`},
		{"checker connect_timeout", ck + "type: TCP_CHECK\n            connect_timeout: 0\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].connect_timeout: "0" is not a duration 1ms-86400s`},
		{"checker connect_port", ck + "type: TCP_CHECK\n            connect_port: 65536\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].connect_port: "65536" is not a port 0-65535`},
		{"checker connect_ip", ck + "type: TCP_CHECK\n            connect_ip: a\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].connect_ip: "a" is not an IP address`},
		{"checker retry", ck + "type: TCP_CHECK\n            retry: -1\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].retry: "-1" is not a number 0-1000`},
		{"checker delay_before_retry", ck + "type: TCP_CHECK\n            delay_before_retry: z\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].delay_before_retry: "z" is not a duration 0s-86400s`},
		{"misc connect_timeout", ck + "type: MISC_CHECK\n            misc_path: /bin/true\n            connect_timeout: 2\n", `y.yaml:14: virtual_servers[0].real_servers[0].checkers[0].connect_timeout: not valid in MISC_CHECK`},
		{"misc path missing", ck + "type: MISC_CHECK\n", `y.yaml:12: virtual_servers[0].real_servers[0].checkers[0].misc_path: missing`},
		{"misc path in tcp", ck + "type: TCP_CHECK\n            misc_path: /bin/true\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].misc_path: not valid in TCP_CHECK`},
		{"misc timeout", ck + "type: MISC_CHECK\n            misc_path: /bin/true\n            misc_timeout: 0\n", `y.yaml:14: virtual_servers[0].real_servers[0].checkers[0].misc_timeout: "0" is not a duration 1ms-86400s`},
		{"misc quote", ck + "type: MISC_CHECK\n            misc_path: \"/bin/x 'y\"\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].misc_path: "/bin/x 'y": unterminated quote`},
		{"http no url", ck + "type: HTTP_GET\n", `y.yaml:12: virtual_server TCP 10.0.0.1:80: real_server 10.0.1.1:80: HTTP_GET: url: none given`},
		{"url in tcp", ck + "type: TCP_CHECK\n            url: [{path: /}]\n", `y.yaml:12: virtual_servers[0].real_servers[0].checkers[0].url: not valid in TCP_CHECK`},
		{"url path missing", ck + "type: HTTP_GET\n            url:\n              - status_code: 200\n", `y.yaml:14: virtual_servers[0].real_servers[0].checkers[0].url[0].path: missing`},
		{"url status", ck + "type: HTTP_GET\n            url:\n              - path: /\n                status_code: 600\n", `y.yaml:15: virtual_servers[0].real_servers[0].checkers[0].url[0].status_code: "600" is not a status code or range within 100-599`},
		{"url digest", ck + "type: HTTP_GET\n            url:\n              - path: /\n                digest: xyz\n", `y.yaml:15: virtual_servers[0].real_servers[0].checkers[0].url[0].digest: "xyz" is not an MD5 digest (32 hex digits)`},
		{"url relative path", ck + "type: HTTP_GET\n            url:\n              - path: x\n", `y.yaml:12: virtual_server TCP 10.0.0.1:80: real_server 10.0.1.1:80: HTTP_GET: url.path: "x" does not start with /`},
		{"virtualhost in tcp", ck + "type: TCP_CHECK\n            virtualhost: x\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].virtualhost: not valid in TCP_CHECK`},
		{"dns type", ck + "type: DNS_CHECK\n            query_type: PTR\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].query_type: "PTR" is not a DNS type`},
		{"dns name in tcp", ck + "type: TCP_CHECK\n            name: x\n", `y.yaml:13: virtual_servers[0].real_servers[0].checkers[0].name: not valid in TCP_CHECK`},
		{"nat interface missing", base + "nat:\n  vips: [10.0.0.1]\n", `y.yaml:7: nat.interface: missing`},
		{"nat vip", base + "nat:\n  interface: eth1\n  vips: [10.0.0]\n", `y.yaml:8: nat.vips[0]: "10.0.0" is not an IP address`},
		{"nat no vip", base + "nat:\n  interface: eth1\n", `y.yaml:7: nat: vips: no address`},
		{"nat v6", base + "nat:\n  interface: eth1\n  vips: ['::1']\n", `y.yaml:7: nat: vips: ::1 is not an IPv4 address`},
		{"nat instance", base + "nat:\n  vrrp_instance: VI_9\n  interface: eth1\n  vips: [10.0.0.1]\n", `y.yaml:7: nat: vrrp_instance: "VI_9" is not a vrrp instance`},
		{"nat local", base + "nat:\n  interface: eth1\n  vips: [10.0.0.1]\n  local_address: x\n", `y.yaml:9: nat.local_address: "x" is not an IP address`},
		{"nginx listen", "nginx:\n  http:\n    - name: h\n      servers:\n        - listen: [\"80 ssl\"]\n", `y.yaml:5: nginx.http[0].servers[0].listen[0]: "ssl" is not default_server, udp or reuseport`},
		{"nginx listen port", "nginx:\n  stream:\n    - name: s\n      servers:\n        - listen: [\"70000 udp\"]\n", `y.yaml:5: nginx.stream[0].servers[0].listen[0]: "70000" is not a port 1-65535`},
		{"nginx upstream server", "nginx:\n  http:\n    - name: h\n      upstreams:\n        - name: u\n          servers: [\"10.0.0.1:80 slow\"]\n", `y.yaml:6: nginx.http[0].upstreams[0].servers[0]: "slow" is not weight=N, max_fails=N, fail_timeout=T, backup or down`},
		{"nginx upstream weight", "nginx:\n  http:\n    - name: h\n      upstreams:\n        - name: u\n          servers: [\"10.0.0.1:80 weight=0\"]\n", `y.yaml:6: nginx.http[0].upstreams[0].servers[0]: weight: "0" is not a number 1-1000`},
		{"nginx proxy_pass", "nginx:\n  http:\n    - name: h\n      servers:\n        - listen: [80]\n          locations:\n            - path: /\n              proxy_pass: nowhere\n", `y.yaml:3: nginx: http h: location /: proxy_pass: "nowhere" is not an http upstream`},
		{"nginx stream proxy_pass", "nginx:\n  stream:\n    - name: s\n      servers:\n        - listen: [53 udp]\n          proxy_pass: nowhere\n", `y.yaml:3: nginx: stream s: proxy_pass: "nowhere" is not a stream upstream`},
		{"nginx match", "nginx:\n  http:\n    - name: h\n      servers:\n        - locations:\n            - path: /\n              match: \"!\"\n", `y.yaml:7: nginx.http[0].servers[0].locations[0].match: "!" is not =, ^~, ~ or ~*`},
		{"nginx redirect", "nginx:\n  http:\n    - name: h\n      servers:\n        - locations:\n            - path: /\n              proxy_redirect: on\n", `y.yaml:7: nginx.http[0].servers[0].locations[0].proxy_redirect: "on" is not default or off`},
		{"nginx location path missing", "nginx:\n  http:\n    - name: h\n      servers:\n        - locations:\n            - proxy_pass: u\n", `y.yaml:6: nginx.http[0].servers[0].locations[0].path: missing`},
		{"nginx headers list", "nginx:\n  http:\n    - name: h\n      servers:\n        - locations:\n            - path: /\n              proxy_set_header: [Host]\n", `y.yaml:7: nginx.http[0].servers[0].locations[0].proxy_set_header: want a mapping`},
		{"nginx name", "nginx:\n  http:\n    - name: ../h\n", `y.yaml:3: nginx: http ../h: name "../h" must be letters, digits, '.', '_' or '-', not starting with '.'`},
		{"nginx site name missing", "nginx:\n  http:\n    - upstreams: []\n", `y.yaml: nginx.http[0].name: missing`},
		{"nginx udp in http", "nginx:\n  http:\n    - name: h\n      servers:\n        - listen: [80 udp]\n", `y.yaml:3: nginx: http h: listen: udp is for stream servers only`},
		{"nginx ip_hash in stream", "nginx:\n  stream:\n    - name: s\n      upstreams:\n        - name: u\n          method: ip_hash\n          servers: [10.0.0.1:53]\n", `y.yaml:3: nginx: stream upstream u: method: ip_hash exists in http upstreams only`},
		{"nginx proxy_responses", "nginx:\n  stream:\n    - name: s\n      servers:\n        - proxy_responses: many\n", `y.yaml:5: nginx.stream[0].servers[0].proxy_responses: "many" is not a number 0-1000`},
		{"sysctl name", "sysctls:\n  \"../../etc/passwd\": 1\n", `y.yaml:2: sysctls: "../../etc/passwd" is not a sysctl name`},
		{"sysctl list", "sysctls: [a]\n", `y.yaml:1: sysctls: want a mapping`},
		{"sysctl value", "sysctls:\n  net.ipv4.ip_forward: [1]\n", `y.yaml:2: sysctls.net.ipv4.ip_forward: want a single value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseYAML("y.yaml", []byte(tt.src))
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

func FuzzParseYAML(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input, which is slow for
	// the kilobyte-sized testdata files.
	f.Add([]byte("vrrp_instances: [{name: a, interface: e, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1]}]\n"))
	f.Add([]byte("virtual_servers: [{address: 1.2.3.4:80, protocol: TCP, real_servers: [{address: 1.2.3.5:80, checkers: [{type: HTTP_GET, url: [{path: /}]}]}]}]\n"))
	f.Add([]byte("nat: {interface: e, vips: [1.2.3.4]}\nsysctls: {a.b: 1}\n"))
	f.Add([]byte("vrrp_instances: [{name: a}]\n"))
	f.Add([]byte("nginx: {http: [{name: h, servers: [{listen: 80}]}]}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := ParseYAML("f.yaml", src)
		if err != nil {
			if c != nil {
				t.Fatalf("config and error %v", err)
			}
			return
		}
		if err := Validate(c); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		_ = c.Summary()
	})
}

// notify_master_rx_lower_pri is read as the other notify programs are.
func TestParseYAMLNotifyMasterRxLowerPri(t *testing.T) {
	src := "vrrp_instances:\n  - name: VI_1\n    interface: eth1\n    virtual_router_id: 1\n    virtual_ipaddress: [10.0.0.1]\n    notify_master_rx_lower_pri: [/usr/bin/rx, now]\n"
	c, err := ParseYAML("y.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.VRRP[0].NotifyMasterRxLowerPri, (Command{"/usr/bin/rx", "now"}); !cmp.Equal(got, want) {
		t.Errorf("notify_master_rx_lower_pri %q, want %q", got, want)
	}
}
