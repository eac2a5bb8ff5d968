package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// validConfig is a small valid configuration built in code.
func validConfig() *Config {
	in := NewVRRPInstance("VI_1")
	in.Interface = "eth1"
	in.VirtualRouterID = 1
	in.VirtualIPs = []VirtualIP{{Prefix: netip.MustParsePrefix("192.168.0.100/24"), Dev: "eth0"}}
	vs := NewVirtualServer()
	vs.Addr = netip.MustParseAddrPort("192.168.0.100:80")
	vs.Protocol = TCP
	rs := NewRealServer(netip.MustParseAddrPort("172.16.0.1:80"))
	rs.Checkers = []Checker{NewChecker(TCPCheck)}
	vs.RealServers = []RealServer{rs}
	return &Config{
		VRRP:           []VRRPInstance{in},
		VirtualServers: []VirtualServer{vs},
		NAT:            &NATSwitch{Interface: "eth1", VIPs: []netip.Addr{netip.MustParseAddr("192.168.0.100")}},
		Nginx: &Nginx{
			Sites: []NginxSite{{
				Name:      "web",
				Upstreams: []NginxUpstream{{Name: "w", Servers: []NginxUpstreamServer{{Address: netip.MustParseAddrPort("192.168.0.101:80")}}}},
				Servers:   []NginxServer{{Listen: []NginxListen{{Port: 80}}, Locations: []NginxLocation{{Path: "/", ProxyPass: "w"}}}},
			}},
		},
		Sysctls: DefaultSysctls(),
	}
}

func TestValidateValid(t *testing.T) {
	if err := Validate(validConfig()); err != nil {
		t.Fatalf("Validate(valid config) = %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"no name", func(c *Config) { c.VRRP[0].Name = "" }, "vrrp_instance #1: name: missing"},
		{"name with blank", func(c *Config) { c.VRRP[0].Name = "a b" }, `vrrp_instance a b: name: "a b" must not contain blanks, braces or quotes`},
		{"state", func(c *Config) { c.VRRP[0].State = "" }, `vrrp_instance VI_1: state: "" is not MASTER or BACKUP`},
		{"priority", func(c *Config) { c.VRRP[0].Priority = 0 }, "vrrp_instance VI_1: priority: 0 is not a number 1-255"},
		{"advert_int", func(c *Config) { c.VRRP[0].AdvertInt = 1500 * time.Millisecond }, "vrrp_instance VI_1: advert_int: 1.5s is not a whole number of seconds 1-255 (VRRPv2)"},
		{"advert_int v3", func(c *Config) { c.VRRP[0].Version = 3; c.VRRP[0].AdvertInt = 15 * time.Millisecond }, "vrrp_instance VI_1: advert_int: 15ms is not a whole number of centiseconds 0.01-40.95s (VRRPv3)"},

		{"auth type", func(c *Config) { c.VRRP[0].Auth = &Auth{Type: "MD5"} }, `vrrp_instance VI_1: authentication.auth_type: "MD5" is not PASS or AH`},
		{"auth pass empty", func(c *Config) { c.VRRP[0].Auth = &Auth{Type: AuthPass} }, "vrrp_instance VI_1: authentication.auth_pass: missing (auth_type PASS)"},
		{"auth pass long", func(c *Config) { c.VRRP[0].Auth = &Auth{Type: AuthPass, Pass: "123456789"} }, `vrrp_instance VI_1: authentication.auth_pass: "123456789" is longer than 8 characters`},
		{"preempt_delay", func(c *Config) { c.VRRP[0].PreemptDelay = -time.Second }, "vrrp_instance VI_1: preempt_delay: -1s is not a duration 0-1000s"},
		{"vip invalid", func(c *Config) { c.VRRP[0].VirtualIPs = []VirtualIP{{}} }, "vrrp_instance VI_1: virtual_ipaddress: invalid Prefix is not an address/prefix"},
		{"vip dev", func(c *Config) { c.VRRP[0].VirtualIPs[0].Dev = "a/b" }, `vrrp_instance VI_1: virtual_ipaddress: 192.168.0.100/24: dev "a/b" is not an interface name`},
		{"vip peer family", func(c *Config) {
			c.VRRP[0].VirtualIPs[0] = VirtualIP{Prefix: netip.MustParsePrefix("192.168.0.100/32"), AddrSettings: AddrSettings{Peer: netip.MustParsePrefix("2001:db8::2/128")}}
		}, "vrrp_instance VI_1: virtual_ipaddress: 192.168.0.100/32: peer 2001:db8::2/128 is not of the address's family"},
		{"vip peer and length", func(c *Config) { c.VRRP[0].VirtualIPs[0].Peer = netip.MustParsePrefix("192.168.0.1/32") }, "vrrp_instance VI_1: virtual_ipaddress: 192.168.0.100/24: peer 192.168.0.1/32: the address takes its prefix length from the peer"},
		{"vip flags", func(c *Config) { c.VRRP[0].VirtualIPs[0].Flags = 0x2 }, "vrrp_instance VI_1: virtual_ipaddress: 192.168.0.100/24: flags 0x2: only home, mngtmpaddr, noprefixroute and autojoin (0x710) may be set"},
		{"static peer and brd", func(c *Config) {
			c.StaticAddresses = []StaticAddress{{Prefix: netip.MustParsePrefix("10.9.0.1/32"), Dev: "eth2", Broadcast: netip.MustParseAddr("10.9.0.255"), AddrSettings: AddrSettings{Peer: netip.MustParsePrefix("10.9.0.2/32")}}}
		}, "static_ipaddress: 10.9.0.1/32: peer 10.9.0.2/32: a point-to-point address has no broadcast address"},
		{"vip families", func(c *Config) {
			c.VRRP[0].VirtualIPs = append(c.VRRP[0].VirtualIPs, VirtualIP{Prefix: netip.MustParsePrefix("2001:db8::1/64")})
		}, "vrrp_instance VI_1: virtual_ipaddress: mixes IPv4 and IPv6 addresses"},
		{"track name", func(c *Config) { c.VRRP[0].Track = []TrackInterface{{Name: ""}} }, `vrrp_instance VI_1: track_interface: "" is not an interface name`},
		{"unicast family", func(c *Config) {
			c.VRRP[0].UnicastSrcIP = netip.MustParseAddr("172.16.0.1")
			c.VRRP[0].UnicastPeers = []netip.Addr{netip.MustParseAddr("2001:db8::2")}
		}, "vrrp_instance VI_1: unicast_peer: 2001:db8::2 is not of the family of unicast_src_ip 172.16.0.1"},
		{"notify empty", func(c *Config) { c.VRRP[0].NotifyMaster = Command{} }, "vrrp_instance VI_1: notify_master: empty command"},
		{"garp repeat", func(c *Config) { c.VRRP[0].GARPMasterRepeat = 0 }, "vrrp_instance VI_1: garp_master_repeat: 0 is not a number 1-1000"},
		{"vs no address", func(c *Config) { c.VirtualServers[0].Addr = netip.AddrPort{} }, "virtual_server #1: address: missing (an address and port, or a fwmark)"},
		{"vs port 0", func(c *Config) { c.VirtualServers[0].Addr = netip.MustParseAddrPort("192.168.0.100:0") }, "virtual_server TCP 192.168.0.100:0: address: port 0 (all ports) needs persistence_timeout"},
		{"vs protocol", func(c *Config) { c.VirtualServers[0].Protocol = "" }, `virtual_server  192.168.0.100:80: protocol: "" is not TCP, UDP or SCTP`},
		{"vs lb_algo", func(c *Config) { c.VirtualServers[0].LBAlgo = "" }, `virtual_server TCP 192.168.0.100:80: lb_algo: "" is not an IPVS scheduler`},
		{"vs lb_kind", func(c *Config) { c.VirtualServers[0].LBKind = "X" }, `virtual_server TCP 192.168.0.100:80: lb_kind: "X" is not NAT, DR or TUN`},
		{"vs delay_loop", func(c *Config) { c.VirtualServers[0].DelayLoop = 0 }, "virtual_server TCP 192.168.0.100:80: delay_loop: 0s is not a duration above 0"},
		{"vs granularity", func(c *Config) { c.VirtualServers[0].PersistenceGranularity = 33 }, "virtual_server TCP 192.168.0.100:80: persistence_granularity: 33 is not a prefix length 1-32"},
		{"rs weight", func(c *Config) { c.VirtualServers[0].RealServers[0].Weight = -1 }, "virtual_server TCP 192.168.0.100:80: real_server 172.16.0.1:80: weight: -1 is not a number 0-65535"},
		{"rs no address", func(c *Config) { c.VirtualServers[0].RealServers[0].Addr = netip.AddrPort{} }, "virtual_server TCP 192.168.0.100:80: real_server invalid AddrPort: address: missing"},
		{"checker kind", func(c *Config) { c.VirtualServers[0].RealServers[0].Checkers[0].Kind = "PING" }, `virtual_server TCP 192.168.0.100:80: real_server 172.16.0.1:80: checker: "PING" is not a checker`},
		{"checker timeout", func(c *Config) { c.VirtualServers[0].RealServers[0].Checkers[0].ConnectTimeout = 0 }, "virtual_server TCP 192.168.0.100:80: real_server 172.16.0.1:80: TCP_CHECK: connect_timeout: 0s is not a duration above 0"},
		{"checker retry", func(c *Config) { c.VirtualServers[0].RealServers[0].Checkers[0].Retry = -1 }, "TCP_CHECK: retry: -1 is not a number 0-1000"},
		{"checker url on tcp", func(c *Config) { c.VirtualServers[0].RealServers[0].Checkers[0].URLs = []URL{{Path: "/"}} }, "TCP_CHECK: url: only HTTP_GET and SSL_GET take url and virtualhost"},
		{"http bad status", func(c *Config) {
			ck := NewChecker(HTTPGet)
			ck.URLs = []URL{{Path: "/", StatusCodes: []StatusRange{{500, 400}}}}
			c.VirtualServers[0].RealServers[0].Checkers[0] = ck
		}, "HTTP_GET: url.status_code: 500-400 is not a status code or range within 100-599"},
		{"http bad digest", func(c *Config) {
			ck := NewChecker(SSLGet)
			ck.URLs = []URL{{Path: "/", Digest: "zz"}}
			c.VirtualServers[0].RealServers[0].Checkers[0] = ck
		}, `SSL_GET: url.digest: "zz" is not an MD5 digest`},
		{"misc no timeout", func(c *Config) {
			ck := NewChecker(MiscCheck)
			ck.MiscPath = Command{"/bin/true"}
			c.VirtualServers[0].RealServers[0].Checkers[0] = ck
		}, "MISC_CHECK: misc_timeout: 0s is not a duration above 0"},
		{"misc no path", func(c *Config) {
			ck := NewChecker(MiscCheck)
			ck.MiscTimeout = time.Second
			c.VirtualServers[0].RealServers[0].Checkers[0] = ck
		}, "MISC_CHECK: misc_path: missing"},
		{"misc path on tcp", func(c *Config) { c.VirtualServers[0].RealServers[0].Checkers[0].MiscDynamic = true }, "TCP_CHECK: misc_path: only MISC_CHECK takes misc_path, misc_timeout and misc_dynamic"},
		{"dns type", func(c *Config) {
			ck := NewChecker(DNSCheck)
			ck.DNSType = "PTR"
			c.VirtualServers[0].RealServers[0].Checkers[0] = ck
		}, `DNS_CHECK: type: "PTR" is not a DNS type`},
		{"dns name on tcp", func(c *Config) { c.VirtualServers[0].RealServers[0].Checkers[0].DNSName = "x" }, "TCP_CHECK: name: only DNS_CHECK takes name and type"},
		{"nat instance ambiguous", func(c *Config) {
			in := c.VRRP[0]
			in.Name, in.VirtualRouterID = "VI_2", 2
			c.VRRP = append(c.VRRP, in)
		}, "nat: vrrp_instance: missing (required when there is not exactly one vrrp instance; there are 2)"},
		{"nat local v6", func(c *Config) { c.NAT.LocalAddress = netip.MustParseAddr("::1") }, "nat: local_address: ::1 is not an IPv4 address"},
		{"nat interface", func(c *Config) { c.NAT.Interface = "" }, "nat: interface: missing"},
		{"nginx duplicate site", func(c *Config) { c.Nginx.Sites = append(c.Nginx.Sites, NginxSite{Name: "web"}) }, `nginx: http web: name "web" is used twice`},
		{"nginx duplicate upstream", func(c *Config) {
			c.Nginx.Sites[0].Upstreams = append(c.Nginx.Sites[0].Upstreams, c.Nginx.Sites[0].Upstreams[0])
		}, "nginx: http upstream w: is defined twice"},
		{"nginx upstream empty", func(c *Config) { c.Nginx.Sites[0].Upstreams[0].Servers = nil }, "nginx: http upstream w: servers: none given"},
		{"nginx method", func(c *Config) { c.Nginx.Sites[0].Upstreams[0].Method = "fastest" }, `nginx: http upstream w: method: "fastest" is not least_conn, ip_hash or random`},
		{"nginx upstream port 0", func(c *Config) {
			c.Nginx.Sites[0].Upstreams[0].Servers[0].Address = netip.MustParseAddrPort("10.0.0.1:0")
		}, "nginx: http upstream w: servers: 10.0.0.1:0 is not an address:port"},
		{"nginx relative prefix", func(c *Config) { c.Nginx.Prefix = "run/nginx" }, `nginx: prefix: "run/nginx" is not an absolute path`},
		{"nginx no listen", func(c *Config) { c.Nginx.Sites[0].Servers[0].Listen = nil }, "nginx: http web: listen: none given"},
		{"nginx stream default_server", func(c *Config) {
			c.Nginx.Streams = []NginxStream{{Name: "s", Upstreams: []NginxUpstream{{Name: "u", Servers: []NginxUpstreamServer{{Address: netip.MustParseAddrPort("10.0.0.1:53")}}}},
				Servers: []NginxStreamServer{{Listen: []NginxListen{{Port: 53, UDP: true}, {Port: 54, DefaultServer: true}}, ProxyPass: "u"}}}}
		}, "nginx: stream s: listen: default_server is for http servers only"},
		{"nginx stream uses http upstream", func(c *Config) {
			c.Nginx.Streams = []NginxStream{{Name: "s", Servers: []NginxStreamServer{{Listen: []NginxListen{{Port: 53}}, ProxyPass: "w"}}}}
		}, `nginx: stream s: proxy_pass: "w" is not a stream upstream`},
		{"sysctl duplicate", func(c *Config) { c.Sysctls = append(c.Sysctls, c.Sysctls[0]) }, `sysctls: "net.ipv4.ip_nonlocal_bind" is set twice`},
		{"sysctl traversal", func(c *Config) { c.Sysctls = []Sysctl{{Key: "net/../../x", Value: "1"}} }, `sysctls: "net/../../x" is not a sysctl name`},
		{"sysctl value", func(c *Config) { c.Sysctls[0].Value = "" }, `sysctls: net.ipv4.ip_nonlocal_bind: "" is not a value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			err := Validate(c)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not a non-empty Errors", err)
			}
			if !strings.Contains(es[0].Error(), tt.want) {
				t.Errorf("first error:\n got %q\nwant containing %q\n(all: %v)", es[0].Error(), tt.want, err)
			}
		})
	}
}

func TestLoadFormats(t *testing.T) {
	for _, tt := range []struct {
		path string
		yaml bool
	}{
		{"a.yaml", true}, {"a.YML", true}, {"/etc/lbnode/lb1.yml", true},
		{"keepalived.conf", false}, {"a.yaml.bak", false}, {"yaml", false}, {"", false},
	} {
		if got := IsYAML(tt.path); got != tt.yaml {
			t.Errorf("IsYAML(%q) = %v, want %v", tt.path, got, tt.yaml)
		}
	}
	// The name, not the content, picks the reader.
	yamlSrc := []byte("vrrp_instances: [{name: a, interface: e, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1]}]\n")
	if _, err := Parse("x.yaml", yamlSrc); err != nil {
		t.Errorf("Parse(x.yaml): %v", err)
	}
	_, err := Parse("x.conf", yamlSrc)
	var es Errors
	if !errors.As(err, &es) || !strings.HasSuffix(es[0].Error(), "first ignored: x.conf:1: vrrp_instances:: ignored at the top level, as keepalived 2.2.7 ignores this unknown keyword") {
		t.Errorf("Parse(x.conf) with YAML content: got %v", err)
	}
}

func TestEmptyConfiguration(t *testing.T) {
	for _, name := range []string{"e.yaml", "e.conf"} {
		for _, src := range []string{"", "# nothing\n", "global_defs {\n}\n"} {
			if name == "e.yaml" && strings.Contains(src, "{") {
				src = "global: {}\n"
			}
			_, err := Parse(name, []byte(src))
			want := name + ": empty configuration: no vrrp instance, virtual server, nat switch or nginx"
			if err == nil || err.Error() != want {
				t.Errorf("Parse(%s, %q) = %v, want %q", name, src, err, want)
			}
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.conf")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an fs.ErrNotExist", err)
	}
}
