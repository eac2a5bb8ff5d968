//go:build linux

package ipvs_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/internal/testenv/vmtest"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
	"golang.org/x/sys/unix"
)

// vmModules are loaded before the TestVM tests (the kernel can autoload
// the others).
var vmModules = []string{"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_sh", "ip_vs_mh", "ip_vs_dh", "ip_vs_sed", "ip_vs_nq", "ip_vs_lblc", "ip_vs_lblcr", "ip_vs_fo", "ip_vs_ovf", "ip_vs_pe_sip"}

func TestMain(m *testing.M) { vmtest.Main(m, vmModules...) }

// ipvsNS returns a fresh network namespace (its own, empty IPVS table) with
// routes for the test address ranges, and a client bound to it.
func ipvsNS(t *testing.T) (*netnstest.NS, *ipvs.Client) {
	t.Helper()
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ipvsadm")
	ns := netnstest.New(t)
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "200.0.0.0/8"} {
		ns.Run(t, "ip", "route", "add", p, "dev", "lo")
	}
	ns.Run(t, "ip", "-6", "route", "add", "2001:db8::/32", "dev", "lo")
	c, err := ipvs.Dial(&ipvs.Config{NetNS: int(ns.Handle())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ns, c
}

// ipvsadm runs ipvsadm in ns and returns its standard output.
func ipvsadm(t *testing.T, ns *netnstest.NS, stdin string, args ...string) string {
	t.Helper()
	cmd := ns.Command("ipvsadm", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ipvsadm %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func listText(t *testing.T, c *ipvs.Client, f ipvs.ListFormat) string {
	t.Helper()
	info, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := c.Table()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ipvs.WriteList(&b, info, tab, f); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func saveText(t *testing.T, c *ipvs.Client) string {
	t.Helper()
	tab, err := c.Table()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ipvs.WriteRules(&b, tab); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func lines(s string) []string { return strings.Split(s, "\n") }

// compareWithIpvsadm checks every list variant and the save format against
// ipvsadm's own output for the same kernel state.
func compareWithIpvsadm(t *testing.T, ns *netnstest.NS, c *ipvs.Client) {
	t.Helper()
	variants := []struct {
		args []string
		f    ipvs.ListFormat
	}{
		{[]string{"-Ln"}, ipvs.ListFormat{}},
		{[]string{"-Ln", "--thresholds"}, ipvs.ListFormat{Thresholds: true}},
		{[]string{"-Ln", "--persistent-conn"}, ipvs.ListFormat{PersistentConn: true}},
		{[]string{"-Ln", "--tun-info"}, ipvs.ListFormat{TunInfo: true}},
		{[]string{"-Ln", "--stats"}, ipvs.ListFormat{Stats: true}},
		{[]string{"-Ln", "--stats", "--exact"}, ipvs.ListFormat{Stats: true, Exact: true}},
		{[]string{"-Ln", "--nosort"}, ipvs.ListFormat{NoSort: true}},
	}
	for _, v := range variants {
		want := ipvsadm(t, ns, "", v.args...)
		got := listText(t, c, v.f)
		if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
			t.Errorf("ipvsadm %s vs WriteList (-ipvsadm +lvskit):\n%s", strings.Join(v.args, " "), diff)
		}
	}
	want := ipvsadm(t, ns, "", "-Sn")
	if diff := cmp.Diff(lines(want), lines(saveText(t, c))); diff != "" {
		t.Errorf("ipvsadm -Sn vs WriteRules (-ipvsadm +lvskit):\n%s", diff)
	}
}

func TestVMEveryKindOfService(t *testing.T) {
	ns, c := ipvsNS(t)
	v4 := func(p ipvs.Protocol, ap string, sched string) ipvs.Service { return svc(p, ap, sched) }
	persist := v4(ipvs.TCP, "192.168.0.100:443", "wlc")
	persist.Flags, persist.Timeout, persist.Netmask = ipvs.FlagPersistent, 1800, 24
	onePacket := v4(ipvs.UDP, "192.168.0.100:53", "rr")
	onePacket.Flags = ipvs.FlagOnePacket
	sh := v4(ipvs.TCP, "192.168.0.100:8080", "sh")
	sh.Flags = ipvs.FlagSHFallback | ipvs.FlagSHPort
	mh := v4(ipvs.UDP, "200.0.0.1:4789", "mh")
	mh.Flags = ipvs.FlagMHPort
	sip := v4(ipvs.UDP, "192.168.0.100:5060", "rr")
	sip.Flags, sip.Timeout, sip.PersistenceEngine = ipvs.FlagPersistent, 60, "sip"
	fw4 := ipvs.Service{FWMark: 10, Scheduler: "lc"}
	fw6 := ipvs.Service{Family: ipvs.IPv6, FWMark: 11, Scheduler: "wrr", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 64}
	v6 := svc(ipvs.TCP, "[2001:db8::100]:80", "wlc")
	sctp := svc(ipvs.SCTP, "10.0.0.1:3868", "rr")

	gue := dst("10.1.0.3:80", ipvs.Tunnel, 2)
	gue.TunnelType, gue.TunnelPort, gue.TunnelFlags = ipvs.TunnelGUE, 6080, ipvs.TunnelRemoteChecksum
	gre := dst("10.1.0.4:80", ipvs.Tunnel, 2)
	gre.TunnelType, gre.TunnelFlags = ipvs.TunnelGRE, ipvs.TunnelChecksum
	mixed := dst("[2001:db8::7]:80", ipvs.Tunnel, 1) // an IPv6 server behind an IPv4 service
	thresh := dst("10.1.0.5:80", ipvs.Masquerade, 4)
	thresh.UpperThreshold, thresh.LowerThreshold = 100, 20

	web := v4(ipvs.TCP, "192.168.0.100:80", "wlc")
	desired := &ipvs.Table{Services: []ipvs.VirtualServer{
		{Service: web, Destinations: []ipvs.Destination{dst("10.1.0.1:80", ipvs.Route, 1), dst("10.1.0.2:8080", ipvs.Masquerade, 3), gue, gre, mixed, thresh, dst("10.1.0.6:80", ipvs.Tunnel, 0)}},
		{Service: persist, Destinations: []ipvs.Destination{dst("172.16.0.1:443", ipvs.Route, 1)}},
		{Service: onePacket, Destinations: []ipvs.Destination{dst("172.16.0.1:5353", ipvs.Masquerade, 1)}},
		{Service: sh, Destinations: []ipvs.Destination{dst("172.16.0.2:8080", ipvs.Route, 1)}},
		{Service: mh, Destinations: []ipvs.Destination{dst("10.200.0.1:4789", ipvs.Route, 1)}},
		{Service: sip, Destinations: []ipvs.Destination{dst("172.16.0.3:5060", ipvs.Masquerade, 1)}},
		{Service: fw4, Destinations: []ipvs.Destination{dst("172.16.0.4:0", ipvs.Route, 1)}},
		{Service: fw6, Destinations: []ipvs.Destination{dst("[2001:db8::1]:0", ipvs.Route, 1)}},
		{Service: v6, Destinations: []ipvs.Destination{dst("[2001:db8::2]:80", ipvs.Route, 5), dst("[2001:db8::3]:8080", ipvs.Masquerade, 1)}},
		{Service: sctp, Destinations: []ipvs.Destination{dst("10.1.0.9:3868", ipvs.Masquerade, 1)}},
	}}
	ops, err := c.Reconcile(desired, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 10+17 {
		t.Errorf("%d operations, want 27", len(ops))
	}
	compareWithIpvsadm(t, ns, c)

	// Reading back gives what was written.
	got, err := c.Service(persist)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scheduler != "wlc" || got.Timeout != 1800 || got.Netmask != 24 || got.Flags&ipvs.FlagPersistent == 0 {
		t.Errorf("Service(persist) = %+v", got)
	}
	ds, err := c.Destinations(web)
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[netip.Addr]ipvs.Destination{}
	for _, d := range ds {
		byAddr[d.Address] = d
	}
	if d := byAddr[gue.Address]; d.TunnelType != ipvs.TunnelGUE || d.TunnelPort != 6080 || d.TunnelFlags != ipvs.TunnelRemoteChecksum {
		t.Errorf("GUE destination read back as %+v", d)
	}
	if d := byAddr[thresh.Address]; d.UpperThreshold != 100 || d.LowerThreshold != 20 || d.Forward != ipvs.Masquerade || d.Weight != 4 {
		t.Errorf("threshold destination read back as %+v", d)
	}
	if d := byAddr[mixed.Address]; d.Family != ipvs.IPv6 {
		t.Errorf("mixed-family destination read back as %+v", d)
	}

	// Applying the same state again writes nothing; one weight is one write.
	ops, err = c.Reconcile(desired, nil)
	if err != nil || len(ops) != 0 {
		t.Errorf("second Reconcile: %v, %v; want no operations", ops, err)
	}
	desired.Services[0].Destinations[0].Weight = 9
	ops, err = c.Reconcile(desired, nil)
	if err != nil || len(ops) != 1 || ops[0].Kind != ipvs.UpdateDestination {
		t.Errorf("weight change: %v, %v; want one update-destination", ops, err)
	}
	if out := ipvsadm(t, ns, "", "-Sn"); !strings.Contains(out, "-a -t 192.168.0.100:80 -r 10.1.0.1:80 -g -w 9\n") {
		t.Errorf("ipvsadm -Sn after the weight change:\n%s", out)
	}

	// Updates, deletions, zero and flush as ipvsadm sees them.
	persist.Scheduler = "rr"
	if err := c.UpdateService(persist); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDestination(web, gre); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteService(sctp); err != nil {
		t.Fatal(err)
	}
	compareWithIpvsadm(t, ns, c)
	out := ipvsadm(t, ns, "", "-Sn")
	if !strings.Contains(out, "-A -t 192.168.0.100:443 -s rr -p 1800 -M 255.255.255.0\n") || strings.Contains(out, "10.1.0.4") || strings.Contains(out, "3868") {
		t.Errorf("ipvsadm -Sn after update and deletes:\n%s", out)
	}
	if err := c.ZeroService(web); err != nil {
		t.Error(err)
	}
	if err := c.ZeroAll(); err != nil {
		t.Error(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if out := ipvsadm(t, ns, "", "-Sn"); out != "" {
		t.Errorf("ipvsadm -Sn after Flush: %q", out)
	}
}

func TestVMSentinelErrors(t *testing.T) {
	_, c := ipvsNS(t)
	s := svc(ipvs.TCP, "10.0.0.1:80", "rr")
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	d := dst("10.1.0.1:80", ipvs.Route, 1)
	if err := c.CreateDestination(s, d); err != nil {
		t.Fatal(err)
	}
	missing := svc(ipvs.TCP, "10.0.0.2:80", "rr")
	other := dst("10.1.0.2:80", ipvs.Route, 1)
	_, getErr := c.Service(missing)
	tests := []struct {
		name  string
		err   error
		is    error
		errno unix.Errno
	}{
		{"service exists", c.CreateService(s), ipvs.ErrExists, unix.EEXIST},
		{"destination exists", c.CreateDestination(s, d), ipvs.ErrExists, unix.EEXIST},
		{"get missing service", getErr, ipvs.ErrServiceNotFound, unix.ESRCH},
		{"update missing service", c.UpdateService(missing), ipvs.ErrServiceNotFound, unix.ESRCH},
		{"delete missing service", c.DeleteService(missing), ipvs.ErrServiceNotFound, unix.ESRCH},
		{"destination in missing service", c.CreateDestination(missing, d), ipvs.ErrServiceNotFound, unix.ESRCH},
		{"update missing destination", c.UpdateDestination(s, other), ipvs.ErrDestinationNotFound, unix.ENOENT},
		{"delete missing destination", c.DeleteDestination(s, other), ipvs.ErrDestinationNotFound, unix.ENOENT},
		{"scheduler module missing", c.CreateService(svc(ipvs.TCP, "10.0.0.3:80", "nosuch")), ipvs.ErrSchedulerNotAvailable, unix.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.is) || !errors.Is(tt.err, tt.errno) {
				t.Errorf("error %v: want %v and %v", tt.err, tt.is, tt.errno)
			}
		})
	}
}

// TestIntegrationDialWithoutIPVS runs on a host whose kernel lacks IPVS.
func TestIntegrationDialWithoutIPVS(t *testing.T) {
	netnstest.RequirePrivileged(t)
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS")
	}
	ns := netnstest.New(t)
	c, err := ipvs.Dial(&ipvs.Config{NetNS: int(ns.Handle())})
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded on a kernel without IPVS")
	}
	if !errors.Is(err, ipvs.ErrNotAvailable) {
		t.Errorf("Dial: %v, want ErrNotAvailable", err)
	}
}

func TestVMTimeouts(t *testing.T) {
	ns, c := ipvsNS(t)
	if err := c.SetTimeouts(ipvs.Timeouts{TCP: 1000, TCPFin: 60, UDP: 45}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	tm, err := c.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	ipvs.WriteTimeouts(&b, tm)
	want := ipvsadm(t, ns, "", "-L", "--timeout")
	if want != "Timeout (tcp tcpfin udp): 1000 60 45\n" || b.String() != want {
		t.Errorf("ipvsadm -L --timeout = %q, lvskit %q", want, b.String())
	}
	ipvsadm(t, ns, "", "--set", "0", "0", "99")
	if tm, _ := c.Timeouts(); tm != (ipvs.Timeouts{TCP: 1000, TCPFin: 60, UDP: 99}) {
		t.Errorf("after ipvsadm --set 0 0 99: %+v", tm)
	}
}

func TestVMSyncDaemon(t *testing.T) {
	ns, c := ipvsNS(t)
	ns.Run(t, "ip", "link", "add", "sync0", "type", "veth", "peer", "name", "sync1")
	ns.Run(t, "ip", "link", "set", "sync0", "up")
	ns.Run(t, "ip", "link", "set", "sync1", "up")
	if err := c.StartDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "sync0", SyncID: 7, MaxLen: 1400, Group: netip.MustParseAddr("239.1.2.3"), Port: 8849, TTL: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.StartDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "sync1", SyncID: 7}); err != nil {
		t.Fatal(err)
	}
	if err := c.StartDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "sync1", SyncID: 8}); !errors.Is(err, ipvs.ErrExists) {
		t.Errorf("second backup daemon: %v, want ErrExists", err)
	}
	ds, err := c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	ipvs.WriteDaemons(&b, ds)
	want := ipvsadm(t, ns, "", "-L", "--daemon")
	if diff := cmp.Diff(lines(want), lines(b.String())); diff != "" {
		t.Errorf("ipvsadm -L --daemon vs WriteDaemons (-ipvsadm +lvskit):\n%s", diff)
	}
	if !strings.Contains(want, "master sync daemon (mcast=sync0, syncid=7, maxlen=1400, group=239.1.2.3, port=8849, ttl=3)") {
		t.Errorf("ipvsadm -L --daemon:\n%s", want)
	}
	if err := c.StopDaemon(ipvs.DaemonMaster); err != nil {
		t.Fatal(err)
	}
	if err := c.StopDaemon(ipvs.DaemonBackup); err != nil {
		t.Fatal(err)
	}
	if out := ipvsadm(t, ns, "", "-L", "--daemon"); out != "" {
		t.Errorf("after stopping: %q", out)
	}
	if err := c.StopDaemon(ipvs.DaemonMaster); !errors.Is(err, unix.ESRCH) {
		t.Errorf("stopping a stopped daemon: %v, want ESRCH", err)
	}
}

// TestVMStatsAfterTraffic sends real connections through a service (client
// and balancer in their own namespaces of the guest) and compares the stats
// with ipvsadm's.
func TestVMStatsAfterTraffic(t *testing.T) {
	vmtest.Require(t)
	netnstest.RequirePrivileged(t, "ipvsadm")
	tp := netnstest.NewTopology(t)
	tp.Bridge("br0")
	lb := tp.Host("lb")
	cl := tp.Host("cl")
	tp.Connect(lb, "eth0", "br0", "10.20.0.1/24")
	tp.Connect(cl, "eth0", "br0", "10.20.0.2/24")
	lb.Run(t, "ip", "addr", "add", "10.20.0.100/32", "dev", "lo")
	cl.Run(t, "ip", "route", "add", "10.20.0.100/32", "via", "10.20.0.1")
	c, err := ipvs.Dial(&ipvs.Config{NetNS: int(lb.Handle())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := svc(ipvs.TCP, "10.20.0.100:80", "rr")
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	// The destination is the balancer's own address: local delivery.
	if err := c.CreateDestination(s, dst("10.20.0.1:80", ipvs.Route, 1)); err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := lb.Do(func() (err error) { ln, err = net.Listen("tcp", "0.0.0.0:80"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(conn, io.LimitReader(conn, 1000))
			}()
		}
	}()
	const conns = 5
	for i := range conns {
		err := cl.Do(func() error {
			conn, err := net.DialTimeout("tcp", "10.20.0.100:80", 5*time.Second)
			if err != nil {
				return err
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			msg := bytes.Repeat([]byte{'x'}, 1000)
			if _, err := conn.Write(msg); err != nil {
				return err
			}
			_, err = io.ReadFull(conn, make([]byte, 1000))
			return err
		})
		if err != nil {
			t.Fatalf("connection %d through the service: %v", i, err)
		}
	}
	// The kernel sums its per-CPU counters for readers every two seconds
	// (with the rate estimator).
	var got ipvs.Service
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if got, err = c.Service(s); err != nil {
			t.Fatal(err)
		}
		if got.Stats.Conns == conns {
			break
		}
	}
	if got.Stats.Conns != conns || got.Stats.InPackets < conns*3 || got.Stats.InBytes < conns*1000 {
		t.Errorf("service stats after %d connections: %+v", conns, got.Stats)
	}
	want := ipvsadm(t, lb, "", "-Ln", "--stats", "--exact")
	if diff := cmp.Diff(lines(want), lines(listText(t, c, ipvs.ListFormat{Stats: true, Exact: true}))); diff != "" {
		t.Errorf("ipvsadm -Ln --stats --exact vs WriteList (-ipvsadm +lvskit):\n%s", diff)
	}
	// Rates move every two seconds: compare a few times.
	var diff string
	for range 3 {
		want := ipvsadm(t, lb, "", "-Ln", "--rate")
		if diff = cmp.Diff(lines(want), lines(listText(t, c, ipvs.ListFormat{Rate: true}))); diff == "" {
			break
		}
	}
	if diff != "" {
		t.Errorf("ipvsadm -Ln --rate vs WriteList (-ipvsadm +lvskit):\n%s", diff)
	}
	if err := c.ZeroAll(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if got, _ := c.Service(s); got.Stats.Conns != 0 {
		t.Errorf("conns after ZeroAll: %d", got.Stats.Conns)
	}
}

// TestVMRestoreRoundTrip: for the same rules, lvskit's restore and
// ipvsadm -R leave the same table (compared with ipvsadm -Sn and
// ipvsadm -Ln --thresholds, which also shows the thresholds).
func TestVMRestoreRoundTrip(t *testing.T) {
	rules := ipvstest.Rules(60, 4)
	if n := strings.Count(rules, "\n"); n < 200 {
		t.Fatalf("only %d rule lines", n)
	}
	nsA, _ := ipvsNS(t)
	ipvsadm(t, nsA, rules, "-R")
	nsB, c := ipvsNS(t)
	ops, err := ipvs.ParseRules(strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ops); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-Sn"}, {"-Ln", "--thresholds"}, {"-Ln", "--tun-info"}} {
		want := ipvsadm(t, nsA, "", args...)
		got := ipvsadm(t, nsB, "", args...)
		if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
			t.Errorf("ipvsadm %s after ipvsadm -R vs after lvskit (-ipvsadm +lvskit):\n%s", strings.Join(args, " "), diff)
		}
	}
	compareWithIpvsadm(t, nsB, c)
	// Restoring the saved text into a third namespace gives the same text.
	saved := saveText(t, c)
	nsC, c3 := ipvsNS(t)
	if err := c3.Restore(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines(saved), lines(ipvsadm(t, nsC, "", "-Sn"))); diff != "" {
		t.Errorf("save, restore, save (-first +second):\n%s", diff)
	}

	// Restoring the rules again fails on every line, each reported with
	// its line number, across several batches.
	err = c.Restore(strings.NewReader("# again\n" + rules))
	var re *ipvs.RestoreError
	if !errors.As(err, &re) || len(re.Errors) != len(ops) || re.Operations != len(ops) {
		t.Fatalf("Restore of the same rules: %v, want %d failed lines", err, len(ops))
	}
	for i, le := range re.Errors {
		if le.Line != i+2 || !errors.Is(le, ipvs.ErrExists) {
			t.Fatalf("failure %d: %v, want line %d and ErrExists", i, le, i+2)
		}
	}
}
