package ipvs_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
)

var info = ipvs.Info{Version: 0x010201, ConnTableSize: 4096}

func sampleTable() *ipvs.Table {
	web := svc(ipvs.TCP, "192.168.0.100:80", "wlc")
	web.Family = ipvs.IPv4
	dns := svc(ipvs.UDP, "192.168.0.100:53", "sh")
	dns.Flags = ipvs.FlagPersistent | ipvs.FlagOnePacket | ipvs.FlagSHFallback | ipvs.FlagSHPort
	dns.Timeout = 600
	dns.Netmask = 24
	fw := ipvs.Service{Family: ipvs.IPv6, FWMark: 3, Scheduler: "rr", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 64, PersistenceEngine: "sip"}
	v6 := svc(ipvs.SCTP, "[2001:db8::100]:3868", "mh")
	v6.Flags = ipvs.FlagMHPort
	gre := dst("172.16.0.9:80", ipvs.Tunnel, 2)
	gre.TunnelType = ipvs.TunnelGRE
	gre.TunnelFlags = ipvs.TunnelChecksum
	return &ipvs.Table{Services: []ipvs.VirtualServer{
		{Service: web, Destinations: []ipvs.Destination{
			{Address: netip.MustParseAddr("172.16.0.2"), Port: 80, Forward: ipvs.Route, Weight: 1, ActiveConns: 12, InactiveConns: 3},
			{Address: netip.MustParseAddr("172.16.0.1"), Port: 80, Forward: ipvs.Route, Weight: 1},
			gre,
		}},
		{Service: dns, Destinations: []ipvs.Destination{dst("172.16.0.1:5353", ipvs.Masquerade, 5)}},
		{Service: fw, Destinations: []ipvs.Destination{dst("[2001:db8::1]:0", ipvs.Route, 1)}},
		{Service: v6, Destinations: []ipvs.Destination{{Family: ipvs.IPv4, Address: netip.MustParseAddr("10.9.0.1"), Port: 3868, Forward: ipvs.Tunnel, Weight: 7, TunnelType: ipvs.TunnelGUE, TunnelPort: 6080}}},
	}}
}

func TestWriteList(t *testing.T) {
	var b bytes.Buffer
	if err := ipvs.WriteList(&b, info, sampleTable(), ipvs.ListFormat{}); err != nil {
		t.Fatal(err)
	}
	// Column widths as ipvsadm's printf formats give them, trailing blanks included.
	want := "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"TCP  192.168.0.100:80 wlc\n" +
		"  -> 172.16.0.1:80                Route   1      0          0         \n" +
		"  -> 172.16.0.2:80                Route   1      12         3         \n" +
		"  -> 172.16.0.9:80                Tunnel  2      0          0         \n" +
		"UDP  192.168.0.100:53 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0 ops\n" +
		"  -> 172.16.0.1:5353              Masq    5      0          0         \n" +
		"SCTP [2001:db8::100]:3868 mh (mh-port)\n" +
		"  -> 10.9.0.1:3868                Tunnel  7      0          0         \n" +
		"FWM  3 IPv6 rr persistent 300 mask 64 pe sip\n" +
		"  -> [2001:db8::1]:0              Route   1      0          0         \n"
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(b.String(), "\n")); diff != "" {
		t.Errorf("ipvsadm -Ln text (-want +got):\n%s", diff)
	}
}

func TestWriteRules(t *testing.T) {
	var b bytes.Buffer
	if err := ipvs.WriteRules(&b, sampleTable()); err != nil {
		t.Fatal(err)
	}
	want := "-A -t 192.168.0.100:80 -s wlc\n" +
		"-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n" +
		"-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 1\n" +
		"-a -t 192.168.0.100:80 -r 172.16.0.9:80 -i -w 2 --tun-type gre --tun-csum\n" +
		"-A -u 192.168.0.100:53 -s sh -p 600 -M 255.255.255.0 -o -b sh-fallback,sh-port\n" +
		"-a -u 192.168.0.100:53 -r 172.16.0.1:5353 -m -w 5\n" +
		"-A --sctp-service [2001:db8::100]:3868 -s mh -b mh-port\n" +
		"-a --sctp-service [2001:db8::100]:3868 -r 10.9.0.1:3868 -i -w 7 --tun-type gue --tun-port 6080 --tun-nocsum\n" +
		"-A -f 3 -6 -s rr -p 300 -M 64 --pe sip\n" +
		"-a -f 3 -6 -r [2001:db8::1]:0 -g -w 1\n"
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(b.String(), "\n")); diff != "" {
		t.Errorf("ipvsadm -Sn text (-want +got):\n%s", diff)
	}
}

func TestWriteListVariants(t *testing.T) {
	s := svc(ipvs.TCP, "10.0.0.1:80", "rr")
	s.Stats = ipvs.Stats{Conns: 5, InPackets: 123456789, OutPackets: 2, InBytes: 1234567890123, OutBytes: 99999999, CPS: 1, InPPS: 2, OutPPS: 3, InBPS: 400, OutBPS: 5000}
	d := dst("10.1.0.1:80", ipvs.Route, 1)
	d.Stats = s.Stats
	d.UpperThreshold, d.LowerThreshold, d.PersistentConns = 10, 2, 4
	tab := &ipvs.Table{Services: []ipvs.VirtualServer{{Service: s, Destinations: []ipvs.Destination{d}}}}
	tests := []struct {
		name string
		f    ipvs.ListFormat
		want string
	}{
		{"stats", ipvs.ListFormat{Stats: true},
			"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
				"  -> RemoteAddress:Port\n" +
				"TCP  10.0.0.1:80                         5  123456K        2    1234G 99999999\n" +
				"  -> 10.1.0.1:80                         5  123456K        2    1234G 99999999\n"},
		{"stats exact", ipvs.ListFormat{Stats: true, Exact: true},
			"Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
				"  -> RemoteAddress:Port\n" +
				"TCP  10.0.0.1:80                         5 123456789        2 1234567890123 99999999\n" +
				"  -> 10.1.0.1:80                         5 123456789        2 1234567890123 99999999\n"},
		{"rate", ipvs.ListFormat{Rate: true},
			"Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n" +
				"  -> RemoteAddress:Port\n" +
				"TCP  10.0.0.1:80                         1        2        3      400     5000\n" +
				"  -> 10.1.0.1:80                         1        2        3      400     5000\n"},
		{"thresholds", ipvs.ListFormat{Thresholds: true},
			"Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n" +
				"  -> RemoteAddress:Port\n" +
				"TCP  10.0.0.1:80 rr\n" +
				"  -> 10.1.0.1:80                  10         2          0          0         \n"},
		{"persistent-conn", ipvs.ListFormat{PersistentConn: true},
			"Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n" +
				"  -> RemoteAddress:Port\n" +
				"TCP  10.0.0.1:80 rr\n" +
				"  -> 10.1.0.1:80                  1         4           0          0         \n"},
		{"tun-info", ipvs.ListFormat{TunInfo: true},
			"Prot LocalAddress:Port Scheduler Flags\n" +
				"  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n" +
				"TCP  10.0.0.1:80 rr\n" +
				"  -> 10.1.0.1:80                  Route   n/a           1      0          0         \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ipvs.WriteList(&b, info, tab, tt.f); err != nil {
				t.Fatal(err)
			}
			want := "IP Virtual Server version 1.2.1 (size=4096)\n" + tt.want
			if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(b.String(), "\n")); diff != "" {
				t.Errorf("text (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSortLikeIpvsadm: ipvsadm compares addresses by an unsigned
// subtraction truncated to int, so 200.0.0.1 sorts before 10.0.0.1.
func TestSortLikeIpvsadm(t *testing.T) {
	tab := &ipvs.Table{Services: []ipvs.VirtualServer{
		{Service: svc(ipvs.TCP, "10.0.0.1:80", "rr")},
		{Service: svc(ipvs.TCP, "200.0.0.1:80", "rr")},
		{Service: svc(ipvs.TCP, "10.0.0.1:22", "rr")},
		{Service: svc(ipvs.UDP, "1.0.0.1:22", "rr")},
		{Service: ipvs.Service{FWMark: 1, Scheduler: "rr"}},
	}}
	var b bytes.Buffer
	if err := ipvs.WriteRules(&b, tab); err != nil {
		t.Fatal(err)
	}
	want := "-A -t 200.0.0.1:80 -s rr\n-A -t 10.0.0.1:22 -s rr\n-A -t 10.0.0.1:80 -s rr\n-A -u 1.0.0.1:22 -s rr\n-A -f 1 -s rr\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestWriteTimeoutsAndDaemons(t *testing.T) {
	var b bytes.Buffer
	ipvs.WriteTimeouts(&b, ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300})
	ipvs.WriteDaemons(&b, []ipvs.Daemon{
		{State: ipvs.DaemonBackup, Interface: "eth1", SyncID: 0, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1},
		{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 7},
	})
	want := "Timeout (tcp tcpfin udp): 900 120 300\n" +
		"master sync daemon (mcast=eth0, syncid=7)\n" +
		"backup sync daemon (mcast=eth1, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		line string
		want string // the parsed operation rendered back
	}{
		{"-A -t 192.168.0.100:80 -s wlc", "-A -t 192.168.0.100:80 -s wlc"},
		{"ipvsadm -A -t 192.168.0.100:80", "-A -t 192.168.0.100:80 -s wlc"},
		{"--add-service --tcp-service=10.0.0.1:443 --scheduler rr --persistent", "-A -t 10.0.0.1:443 -s rr -p 300"},
		{"-A -u 10.0.0.1:53 -s sh -p 60 -M 255.255.0.0 -o -b sh-port,sh-fallback", "-A -u 10.0.0.1:53 -s sh -p 60 -M 255.255.0.0 -o -b sh-fallback,sh-port"},
		{"-A -f 5 -6 -s rr -p 10 -M 48 --pe sip", "-A -f 5 -6 -s rr -p 10 -M 48 --pe sip"},
		{"-A --sctp-service [2001:db8::1]:9 -s mh", "-A --sctp-service [2001:db8::1]:9 -s mh"},
		{"-E -t 10.0.0.1:80 -s wrr", "-E -t 10.0.0.1:80 -s wrr"},
		{"-D -t 10.0.0.1:80", "-D -t 10.0.0.1:80"},
		{"-a -t 10.0.0.1:80 -r 10.1.0.1 -w 3", "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 3"},
		{"-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -g", "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1"},
		{"-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 0 -x 100 -y 50", "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 0 -x 100 -y 50"},
		{"-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i --tun-type gue --tun-port 6080 --tun-remcsum", "-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum"},
		{"-e -f 1 -r 10.1.0.1:0 -w2", "-e -f 1 -r 10.1.0.1:0 -g -w 2"},
		{"-d -t 10.0.0.1:80 -r 10.1.0.1:80", "-d -t 10.0.0.1:80 -r 10.1.0.1:80"},
		{"-C", "-C"},
		{"-Z", "-Z"},
		{"-Z -t 10.0.0.1:80", "-Z -t 10.0.0.1:80"},
		{"--set 100 10 20", "--set 100 10 20"},
		{"--start-daemon backup --mcast-interface eth1 --syncid 3 --mcast-group 239.0.0.1 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1400", "--start-daemon backup --mcast-interface eth1 --syncid 3 --sync-maxlen 1400 --mcast-group 239.0.0.1 --mcast-port 9000 --mcast-ttl 3"},
		{"--start-daemon master", "--start-daemon master --mcast-interface eth0 --syncid 0"},
		{"--stop-daemon master", "--stop-daemon master"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			ops, err := ipvs.ParseRules(strings.NewReader(tt.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			if got := ops[0].String(); got != tt.want {
				t.Errorf("parsed as %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		line  int
		token string
		msg   string
	}{
		{"unknown option", "-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80 --frobnicate\n", 2, "--frobnicate", "unknown option"},
		{"bad weight", "\n# comment\n-a -t 10.0.0.1:80 -r 10.1.0.1 -w 70000\n", 3, "70000", "0..65535"},
		{"hostname", "-A -t www.example.com:80\n", 1, "www.example.com:80", "numeric"},
		{"bad port", "-A -t 10.0.0.1:http\n", 1, "10.0.0.1:http", "port"},
		{"no service", "-A -s rr\n", 1, "", "needs a service"},
		{"option not allowed", "-D -t 10.0.0.1:80 -s rr\n", 1, "-s", "not allowed"},
		{"two commands", "-A -a -t 10.0.0.1:80\n", 1, "-a", "multiple commands"},
		{"zero port", "-A -t 10.0.0.1:0\n", 1, "", "zero port"},
		{"ops on tcp", "-A -t 10.0.0.1:80 -o\n", 1, "-o", "UDP"},
		{"sched flag mismatch", "-A -t 10.0.0.1:80 -s rr -b sh-port\n", 1, "sh-port", "incompatible"},
		{"mixed family needs tunnel", "-a -t 10.0.0.1:80 -r [2001:db8::1]:80 -g\n", 1, "2001:db8::1", "tunneling"},
		{"gue needs port", "-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue\n", 1, "", "--tun-port"},
		{"tunnel option without tunnel", "-a -t 10.0.0.1:80 -r 10.1.0.1 -g --tun-type gre\n", 1, "", "conflict"},
		{"set needs three", "--set 1 2\n", 1, "", "3 timeout values"},
		{"daemon state", "--start-daemon primary\n", 1, "primary", "master or backup"},
		{"missing value", "-A -t\n", 1, "-t", "missing value"},
		{"-6 before -f", "-A -6 -f 1\n", 1, "-6", "before -f"},
		{"netmask not contiguous", "-A -t 10.0.0.1:80 -p -M 255.0.255.0\n", 1, "255.0.255.0", "contiguous"},
		{"list is no rule", "-L -n\n", 1, "-L", "unknown option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := ipvs.ParseRules(strings.NewReader(tt.input))
			var pe *ipvs.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseRules = %v, %v; want a *ParseError", ops, err)
			}
			if ops != nil {
				t.Errorf("operations returned with an error: %v", ops)
			}
			if pe.Line != tt.line || pe.Token != tt.token || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error line %d token %q msg %q; want line %d token %q msg containing %q", pe.Line, pe.Token, pe.Msg, tt.line, tt.token, tt.msg)
			}
		})
	}
}

// TestRulesRoundTrip: save, parse the lines, apply them to an empty table,
// save again: the same text.
func TestRulesRoundTrip(t *testing.T) {
	var saved bytes.Buffer
	if err := ipvs.WriteRules(&saved, sampleTable()); err != nil {
		t.Fatal(err)
	}
	ops, err := ipvs.ParseRules(bytes.NewReader(saved.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newFake(t, nil)
	if err := c.Apply(ops); err != nil {
		t.Fatal(err)
	}
	tab, err := c.Table()
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := ipvs.WriteRules(&again, tab); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(saved.String(), again.String()); diff != "" {
		t.Errorf("round trip (-saved +again):\n%s", diff)
	}
}

// FuzzParseRules: parsing never panics, and every operation parsed renders
// (Op.String) to a line that parses back to the same operation.
func FuzzParseRules(f *testing.F) {
	f.Add("-A -t 192.168.0.100:80 -s wlc\n-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n")
	f.Add("-A -u 10.0.0.1:53 -s sh -p 60 -M 255.255.0.0 -o -b sh-port,sh-fallback\n")
	f.Add("-A -f 5 -6 -s rr -p 10 -M 48 --pe sip\n-a -f 5 -6 -r [2001:db8::1]:0 -i --tun-type gue --tun-port 1 --tun-csum -x 5 -y 1\n")
	f.Add("--start-daemon master --mcast-interface eth1 --syncid 3 --mcast-group 239.0.0.1\n--set 1 2 3\n-Z\n-C\n")
	f.Add(ipvstest.Rules(14, 3))
	f.Fuzz(func(t *testing.T, text string) {
		ops, err := ipvs.ParseRules(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, o := range ops {
			again, err := ipvs.ParseRules(strings.NewReader(o.String()))
			if err != nil {
				t.Fatalf("%q parsed from %q does not parse: %v", o.String(), text, err)
			}
			if len(again) != 1 {
				t.Fatalf("%q: %d operations", o.String(), len(again))
			}
			if diff := cmp.Diff(o, again[0], addrCmp); diff != "" {
				t.Errorf("%q: (-first +again):\n%s", o.String(), diff)
			}
		}
	})
}
