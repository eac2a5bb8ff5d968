package config

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lvsConf uses every virtual-server keyword of issue 20's list and the
// obsolete or misplaced ones keepalived 2.2.7 accepts with a warning.
const lvsConf = `virtual_server_group WEB {
  10.0.0.1-3 80
  10.0.1.0/31 80
  fwmark 7
}
virtual_server group WEB {
  protocol TCP
  lb_algo rr
  lb_kind DR
  delay_loop 10
  quorum 2
  hysteresis 1
  quorum_up "/bin/echo up"
  quorum_down /bin/echo down
  alpha
  omega
  ha_suspend
  virtualhost www.example.com
  retry 4
  sorry_server 10.0.9.9 80
  sorry_server_inhibit
  nat_mask 255.255.255.0
  persistence_timeout 0
  real_server 10.0.2.1 80 {
    weight 2
    notify_up "/bin/echo rs up"
    notify_down /bin/echo
    delay_before_retry 7
    HTTP_GET {
      url {
        path /
      }
    }
  }
  real_server 10.0.2.2 8080 {
    TCP_CHECK {
      nb_get_retry 3
      warmup 5
    }
  }
}
virtual_server 10.0.0.5 0 {
  real_server 10.0.2.1 {
  }
}
`

func TestParseKeepalivedLVS(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(lvsConf), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	vs := c.VirtualServers[0]
	var addrs []string
	for _, a := range vs.GroupAddrs {
		addrs = append(addrs, a.String())
	}
	if diff := cmp.Diff([]string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.1.0:80", "10.0.1.1:80"}, addrs); diff != "" {
		t.Errorf("group addresses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint32{7}, vs.GroupFWMarks); diff != "" {
		t.Errorf("group fwmarks (-want +got):\n%s", diff)
	}
	if vs.Key() != "group WEB" || vs.Quorum != 2 || vs.Hysteresis != 1 || !vs.Alpha || !vs.Omega || vs.HASuspend || vs.PersistenceTimeout != 0 {
		t.Errorf("virtual server: %+v", vs)
	}
	if diff := cmp.Diff(Command{"/bin/echo", "up"}, vs.QuorumUp); diff != "" {
		t.Errorf("quorum_up (-want +got):\n%s", diff)
	}
	if want := (SorryServer{Pos: Pos{File: "k.conf", Line: 20}, Addr: netip.MustParseAddrPort("10.0.9.9:80"), Inhibit: true}); vs.SorryServer == nil || *vs.SorryServer != want {
		t.Errorf("sorry server %+v, want %+v", vs.SorryServer, want)
	}
	rs1, rs2 := vs.RealServers[0], vs.RealServers[1]
	if !rs1.Alpha || rs1.Weight != 2 || !cmp.Equal(rs1.NotifyUp, Command{"/bin/echo", "rs", "up"}) || !cmp.Equal(rs1.NotifyDown, Command{"/bin/echo"}) {
		t.Errorf("real server 1: %+v", rs1)
	}
	http := rs1.Checkers[0]
	// Inherited: retry from the virtual server, delay_before_retry from
	// the real server, virtualhost from the virtual server.
	if http.Retry != 4 || http.DelayBeforeRetry != 7*time.Second || http.VirtualHost != "www.example.com" {
		t.Errorf("HTTP_GET: %+v", http)
	}
	// nb_get_retry is not TCP_CHECK's: the virtual server's retry stays.
	if tcp := rs2.Checkers[0]; tcp.Retry != 4 || tcp.DelayBeforeRetry != time.Second {
		t.Errorf("TCP_CHECK: %+v", tcp)
	}
	// DR: a port other than the virtual server's is reset.
	if rs2.Addr.Port() != 8080 {
		t.Errorf("group real server port: %v (groups keep real servers' ports)", rs2.Addr)
	}
	// Port 0 makes the service persistent; the real server takes port 0.
	if vs2 := c.VirtualServers[1]; vs2.PersistenceTimeout != DefaultPersistence || vs2.Protocol != UDP {
		t.Errorf("port-0 virtual server: %+v", vs2)
	}
	var got []string
	for _, w := range c.Warnings {
		got = append(got, strconv.Itoa(w.Pos.Line)+": "+w.Directive+": "+w.Msg)
	}
	want := []string{
		"22: nat_mask: ignored in virtual_server, as keepalived 2.2.7 ignores this unknown keyword",
		"23: persistence_timeout: 0 is out of range 1-2678400: ignored, as keepalived ignores it (the service is not persistent)",
		"37: nb_get_retry: ignored in TCP_CHECK, as keepalived 2.2.7 ignores this unknown keyword there (use retry)",
		"38: warmup: accepted; lbnode starts the checks of one delay loop together where keepalived spreads them over the warmup",
		"42: virtual_server: no protocol set: UDP, as keepalived defaults to",
		"42: virtual_server: port 0 is valid only for persistent services: persistence_timeout 360s set, as keepalived sets it",
		// The group has a fwmark entry.
		"20: sorry_server: port 80 with a fwmark in group WEB and DR: ignored by IPVS, as keepalived warns",
		"24: real_server: port 80 with a fwmark in group WEB and DR: ignored by IPVS, as keepalived warns",
		"35: real_server: port 8080 with a fwmark in group WEB and DR: ignored by IPVS, as keepalived warns",
		"35: real_server: port 8080 does not match 10.0.0.1:80 of group WEB with DR, as keepalived warns",
		"17: ha_suspend: cannot be used with fwmarks: cleared, as keepalived clears it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestGroupRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  bool
	}{
		{"10.0.0.1", 1, false},
		{"10.0.0.1-10", 10, false},
		{"10.0.0.250-10.0.1.2", 9, false},
		{"10.0.0.0/30", 4, false},
		{"2001:db8::1-a", 10, false},
		{"10.0.0.5-1", 0, true},
		{"10.0.0.0/8", 0, true},
		{"10.0.0.1/30", 0, true},
		{"10.0.0.1-x", 0, true},
	} {
		got, err := groupRange(tc.in)
		if (err != nil) != tc.err || len(got) != tc.want {
			t.Errorf("groupRange(%q) = %d addresses, %v; want %d, error %v", tc.in, len(got), err, tc.want, tc.err)
		}
	}
}

// lbnode -check shows the group's services, the quorum, the sorry server,
// the modes and the notify programs.
func TestSummaryLVS(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(lvsConf), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	sum := c.Summary()
	for _, want := range []string{
		"    group services: TCP 10.0.0.1:80, TCP 10.0.0.2:80, TCP 10.0.0.3:80, TCP 10.0.1.0:80, TCP 10.0.1.1:80, FWM 7\n",
		"    quorum 2, hysteresis 1, quorum_up /bin/echo up, quorum_down /bin/echo down\n",
		"    sorry server 10.0.9.9:80 weight 1 while the quorum is lost, weight 0 otherwise\n",
		"    alpha (real servers start down), omega (down programs run on stop)\n",
		"      notify_up /bin/echo rs up\n",
		"k.conf:22: nat_mask: ignored in virtual_server, as keepalived 2.2.7 ignores this unknown keyword\n",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

// keepalived's SMTP_CHECK sample: the deprecated host blocks are one
// checker each, beside the block's own target when it sets a connection
// setting (here connect_timeout); bindto is kept.
func TestSMTPCheckHosts(t *testing.T) {
	c, err := Load("testdata/corpus/ka-samples-SMTP_CHECK.conf")
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		kind, addr, bind string
		timeout          time.Duration
	}
	var got []target
	for _, rs := range c.VirtualServers[len(c.VirtualServers)-1].RealServers {
		for _, ck := range rs.Checkers {
			a := rs.Addr
			if ck.ConnectIP.IsValid() {
				a = netip.AddrPortFrom(ck.ConnectIP, a.Port())
			}
			if ck.ConnectPort != 0 {
				a = netip.AddrPortFrom(a.Addr(), ck.ConnectPort)
			}
			b := ""
			if ck.BindTo.IsValid() {
				b = ck.BindTo.String()
			}
			got = append(got, target{string(ck.Kind) + " " + ck.HeloName, a.String(), b, ck.ConnectTimeout})
		}
	}
	s := "SMTP_CHECK foo.bar.com"
	want := []target{
		{s, "172.16.1.10:25", "", 30 * time.Second},
		{s, "172.16.1.11:25", "", 10 * time.Second},
		{s, "172.16.1.11:25", "", 5 * time.Second},
		{s, "192.168.155.10:25", "", 5 * time.Second},
		{s, "64.233.167.99:25", "", 5 * time.Second},
		{s, "172.16.1.12:25", "", 10 * time.Second},
		{s, "172.16.1.12:25", "172.16.1.2", 5 * time.Second},
		{s, "192.168.155.11:25", "192.168.155.2", 5 * time.Second},
		{s, "64.233.167.100:587", "", 5 * time.Second},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(target{})); diff != "" {
		t.Errorf("SMTP checkers of the last virtual server (-want +got):\n%s", diff)
	}
}
