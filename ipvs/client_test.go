package ipvs_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
	"golang.org/x/sys/unix"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func newFake(t *testing.T, cfg *ipvs.Config) (*ipvs.Client, *ipvstest.Kernel) {
	t.Helper()
	k := ipvstest.New()
	c, err := ipvs.New(k.Conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, k
}

func svc(proto ipvs.Protocol, addrPort, sched string) ipvs.Service {
	ap := netip.MustParseAddrPort(addrPort)
	return ipvs.Service{Protocol: proto, Address: ap.Addr(), Port: ap.Port(), Scheduler: sched}
}

func dst(addrPort string, fwd ipvs.ForwardMethod, weight uint32) ipvs.Destination {
	ap := netip.MustParseAddrPort(addrPort)
	return ipvs.Destination{Address: ap.Addr(), Port: ap.Port(), Forward: fwd, Weight: weight}
}

func TestNewWithoutIPVS(t *testing.T) {
	k := ipvstest.New().WithoutIPVS()
	c, err := ipvs.New(k.Conn(), nil)
	if err == nil {
		c.Close()
		t.Fatal("New succeeded without IPVS")
	}
	if !errors.Is(err, ipvs.ErrNotAvailable) || !errors.Is(err, unix.ENOENT) {
		t.Errorf("error %v: want ErrNotAvailable unwrapping to ENOENT", err)
	}
	var oe *ipvs.OpError
	if !errors.As(err, &oe) || oe.Op != "resolve-family" {
		t.Errorf("error %#v: want *OpError with Op resolve-family", err)
	}
}

func TestCloseAlwaysWorks(t *testing.T) {
	var nilClient *ipvs.Client
	if err := nilClient.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
	c, _ := newFake(t, nil)
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Services(); err == nil {
		t.Error("Services after Close succeeded")
	}
}

func TestServiceLifecycle(t *testing.T) {
	c, _ := newFake(t, nil)
	s := svc(ipvs.TCP, "192.168.0.100:80", "wlc")
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	got, err := c.Service(s)
	if err != nil {
		t.Fatal(err)
	}
	want := s
	want.Family = ipvs.IPv4
	want.Flags = ipvs.FlagHashed
	want.Netmask = 32
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("Service (-want +got):\n%s", diff)
	}

	s.Scheduler = "rr"
	s.Flags = ipvs.FlagPersistent
	s.Timeout = 600
	s.Netmask = 24
	if err := c.UpdateService(s); err != nil {
		t.Fatal(err)
	}
	list, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Scheduler != "rr" || list[0].Timeout != 600 || list[0].Netmask != 24 || list[0].Flags&ipvs.FlagPersistent == 0 {
		t.Errorf("after update: %+v", list)
	}
	if err := c.DeleteService(s); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.Services(); len(list) != 0 {
		t.Errorf("after delete: %+v", list)
	}
}

func TestSentinelErrors(t *testing.T) {
	c, k := newFake(t, nil)
	k.RemoveScheduler("lblcr")
	s := svc(ipvs.UDP, "10.0.0.1:53", "rr")
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	d := dst("10.1.0.1:53", ipvs.Masquerade, 1)
	if err := c.CreateDestination(s, d); err != nil {
		t.Fatal(err)
	}
	missing := svc(ipvs.UDP, "10.0.0.2:53", "rr")
	tests := []struct {
		name  string
		err   error
		is    error
		errno unix.Errno
		op    string
	}{
		{"add existing service", c.CreateService(s), ipvs.ErrExists, unix.EEXIST, "add-service"},
		{"update missing service", c.UpdateService(missing), ipvs.ErrServiceNotFound, unix.ESRCH, "update-service"},
		{"delete missing service", c.DeleteService(missing), ipvs.ErrServiceNotFound, unix.ESRCH, "delete-service"},
		{"get missing service", func() error { _, err := c.Service(missing); return err }(), ipvs.ErrServiceNotFound, unix.ESRCH, "get-service"},
		{"scheduler module missing", c.CreateService(svc(ipvs.TCP, "10.0.0.3:80", "lblcr")), ipvs.ErrSchedulerNotAvailable, unix.ENOENT, "add-service"},
		{"add existing destination", c.CreateDestination(s, d), ipvs.ErrExists, unix.EEXIST, "add-destination"},
		{"add destination to missing service", c.CreateDestination(missing, d), ipvs.ErrServiceNotFound, unix.ESRCH, "add-destination"},
		{"update missing destination", c.UpdateDestination(s, dst("10.1.0.9:53", ipvs.Masquerade, 1)), ipvs.ErrDestinationNotFound, unix.ENOENT, "update-destination"},
		{"delete missing destination", c.DeleteDestination(s, dst("10.1.0.9:53", ipvs.Masquerade, 1)), ipvs.ErrDestinationNotFound, unix.ENOENT, "delete-destination"},
	}
	all := []error{ipvs.ErrNotAvailable, ipvs.ErrExists, ipvs.ErrServiceNotFound, ipvs.ErrDestinationNotFound, ipvs.ErrSchedulerNotAvailable}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			for _, s := range all {
				if got, want := errors.Is(tt.err, s), s == tt.is; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, s, got, want)
				}
			}
			if !errors.Is(tt.err, tt.errno) {
				t.Errorf("error %v does not unwrap to %v", tt.err, tt.errno)
			}
			var oe *ipvs.OpError
			if !errors.As(tt.err, &oe) || oe.Op != tt.op {
				t.Errorf("error %#v: want *OpError with Op %q", tt.err, tt.op)
			}
		})
	}
}

func TestValidationNamesField(t *testing.T) {
	c, k := newFake(t, nil)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no address", c.CreateService(ipvs.Service{Protocol: ipvs.TCP, Port: 80}), "no address"},
		{"bad protocol", c.CreateService(ipvs.Service{Protocol: 99, Address: netip.MustParseAddr("10.0.0.1"), Port: 80}), "invalid protocol 99"},
		{"long scheduler", c.CreateService(ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "abcdefghijklmnop"}), `"abcdefghijklmnop"`},
		{"netmask", c.CreateService(ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Netmask: 33}), "netmask /33"},
		{"mixed family without tunnel", c.CreateDestination(svc(ipvs.TCP, "10.0.0.1:80", "rr"), dst("[2001:db8::1]:80", ipvs.Route, 1)), "needs tunnel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", tt.err, tt.want)
			}
		})
	}
	if n := k.Writes(); n != 0 {
		t.Errorf("%d writes reached the kernel, want 0", n)
	}
}

func TestDestinations(t *testing.T) {
	c, _ := newFake(t, nil)
	s := svc(ipvs.TCP, "192.168.0.100:443", "wrr")
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	want := []ipvs.Destination{
		{Family: ipvs.IPv4, Address: netip.MustParseAddr("172.16.0.1"), Port: 443, Forward: ipvs.Route, Weight: 1},
		{Family: ipvs.IPv4, Address: netip.MustParseAddr("172.16.0.2"), Port: 8443, Forward: ipvs.Masquerade, Weight: 3, UpperThreshold: 50, LowerThreshold: 5},
		{Family: ipvs.IPv6, Address: netip.MustParseAddr("2001:db8::2"), Port: 443, Forward: ipvs.Tunnel, Weight: 2, TunnelType: ipvs.TunnelGUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelRemoteChecksum},
	}
	for _, d := range want {
		if err := c.CreateDestination(s, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Destinations(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("Destinations (-want +got):\n%s", diff)
	}
	want[1].Weight = 0
	if err := c.UpdateDestination(s, want[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDestination(s, want[0]); err != nil {
		t.Fatal(err)
	}
	got, _ = c.Destinations(s)
	if diff := cmp.Diff(want[1:], got, addrCmp); diff != "" {
		t.Errorf("after update and delete (-want +got):\n%s", diff)
	}
	none, err := c.Destinations(svc(ipvs.TCP, "192.168.0.100:444", "rr"))
	if err != nil || len(none) != 0 {
		t.Errorf("destinations of a missing service: %v, %v; want none", none, err)
	}
}

func TestTimeoutsDaemonsFlushZero(t *testing.T) {
	c, _ := newFake(t, nil)
	if err := c.SetTimeouts(ipvs.Timeouts{TCP: 1000, UDP: 30}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Timeouts()
	if err != nil {
		t.Fatal(err)
	}
	if want := (ipvs.Timeouts{TCP: 1000, TCPFin: 120, UDP: 30}); got != want {
		t.Errorf("Timeouts = %+v, want %+v (zero leaves a value unchanged)", got, want)
	}
	d := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth1", SyncID: 5, MaxLen: 1400, Group: netip.MustParseAddr("239.1.1.1"), Port: 8849, TTL: 2}
	if err := c.StartDaemon(d); err != nil {
		t.Fatal(err)
	}
	if err := c.StartDaemon(d); !errors.Is(err, ipvs.ErrExists) {
		t.Errorf("second StartDaemon: %v, want ErrExists", err)
	}
	ds, err := c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ipvs.Daemon{d}, ds, addrCmp); diff != "" {
		t.Errorf("Daemons (-want +got):\n%s", diff)
	}
	if err := c.StopDaemon(ipvs.DaemonMaster); err != nil {
		t.Fatal(err)
	}
	if err := c.StopDaemon(ipvs.DaemonMaster); !errors.Is(err, unix.ESRCH) || errors.Is(err, ipvs.ErrServiceNotFound) {
		t.Errorf("second StopDaemon: %v, want ESRCH and not ErrServiceNotFound", err)
	}
	if err := c.StartDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "this-name-is-too-long"}); err == nil || !strings.Contains(err.Error(), "this-name-is-too-long") {
		t.Errorf("long interface: %v", err)
	}

	s := svc(ipvs.TCP, "10.0.0.1:80", "rr")
	if err := c.CreateService(s); err != nil {
		t.Fatal(err)
	}
	if err := c.ZeroService(s); err != nil {
		t.Errorf("ZeroService: %v", err)
	}
	if err := c.ZeroService(svc(ipvs.TCP, "10.0.0.1:81", "rr")); !errors.Is(err, ipvs.ErrServiceNotFound) {
		t.Errorf("ZeroService missing: %v", err)
	}
	if err := c.ZeroAll(); err != nil {
		t.Errorf("ZeroAll: %v", err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.Services(); len(l) != 0 {
		t.Errorf("after Flush: %v", l)
	}
	in, err := c.Info()
	if err != nil || in.VersionString() != "1.2.1" || in.ConnTableSize != 4096 {
		t.Errorf("Info = %+v (%s), %v", in, in.VersionString(), err)
	}
}

// TestApplyReportsEveryFailure: failures in several batches are each
// reported against the right operation, and the others still happen.
func TestApplyReportsEveryFailure(t *testing.T) {
	c, k := newFake(t, &ipvs.Config{BatchSize: 3})
	a := svc(ipvs.TCP, "10.0.0.1:80", "rr")
	b := svc(ipvs.TCP, "10.0.0.2:80", "rr")
	ops := []ipvs.Op{
		{Kind: ipvs.AddService, Service: a},
		{Kind: ipvs.AddService, Service: a}, // exists
		{Kind: ipvs.AddDestination, Service: a, Destination: dst("10.1.0.1:80", ipvs.Route, 1)},
		{Kind: ipvs.AddDestination, Service: b, Destination: dst("10.1.0.1:80", ipvs.Route, 1)}, // no service
		{Kind: ipvs.AddService, Service: b},
		{Kind: ipvs.AddDestination, Service: b, Destination: dst("10.1.0.1:80", ipvs.Route, 1)},
		{Kind: ipvs.DeleteDestination, Service: b, Destination: dst("10.1.0.7:80", ipvs.Route, 1)}, // last op fails
	}
	err := c.Apply(ops)
	var ae *ipvs.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("Apply: %v, want *ApplyError", err)
	}
	var got []string
	for _, e := range ae.Errors {
		got = append(got, e.Op+" "+e.Target+" "+e.Err.Error())
	}
	want := []string{
		"add-service TCP 10.0.0.1:80 file exists",
		"add-destination TCP 10.0.0.2:80 -> 10.1.0.1:80 no such process",
		"delete-destination TCP 10.0.0.2:80 -> 10.1.0.7:80 no such file or directory",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ipvs.ErrExists) || !errors.Is(err, ipvs.ErrDestinationNotFound) {
		t.Errorf("ApplyError %v should match its failures' sentinels", err)
	}
	if got, want := k.Sends(), 1+3; got != want { // family lookup + ceil(7/3) batches
		t.Errorf("%d send calls, want %d", got, want)
	}
	tab, _ := c.Table()
	if len(tab.Services) != 2 || len(tab.Services[0].Destinations) != 1 || len(tab.Services[1].Destinations) != 1 {
		t.Errorf("table after partial apply: %+v", tab)
	}
}

func TestApplyValidatesFirst(t *testing.T) {
	c, k := newFake(t, nil)
	ops := []ipvs.Op{
		{Kind: ipvs.AddService, Service: svc(ipvs.TCP, "10.0.0.1:80", "rr")},
		{Kind: ipvs.AddDestination, Service: svc(ipvs.TCP, "10.0.0.1:80", "rr"), Destination: ipvs.Destination{Forward: 9, Address: netip.MustParseAddr("10.1.0.1")}},
	}
	err := c.Apply(ops)
	if err == nil || !strings.Contains(err.Error(), "operation 2") || !strings.Contains(err.Error(), "forwarding method 9") {
		t.Errorf("Apply: %v, want an error naming operation 2 and the forwarding method", err)
	}
	if k.Writes() != 0 {
		t.Errorf("%d writes, want 0: nothing is applied on a validation error", k.Writes())
	}
}

func TestReconcile(t *testing.T) {
	c, k := newFake(t, nil)
	s1 := svc(ipvs.TCP, "192.168.0.100:80", "wlc")
	s2 := svc(ipvs.UDP, "192.168.0.100:53", "rr")
	desired := &ipvs.Table{Services: []ipvs.VirtualServer{
		{Service: s1, Destinations: []ipvs.Destination{dst("172.16.0.1:80", ipvs.Route, 1), dst("172.16.0.2:80", ipvs.Route, 1)}},
		{Service: s2, Destinations: []ipvs.Destination{dst("172.16.0.1:53", ipvs.Masquerade, 2)}},
	}}
	ops, err := c.Reconcile(desired, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 5 || k.Writes() != 5 {
		t.Errorf("first reconcile: %d ops, %d writes; want 5 and 5", len(ops), k.Writes())
	}
	ops, err = c.Reconcile(desired, nil)
	if err != nil || len(ops) != 0 || k.Writes() != 5 {
		t.Errorf("second reconcile: ops %v, err %v, writes %d; want no ops and no new write", ops, err, k.Writes())
	}
	desired.Services[0].Destinations[1].Weight = 5
	ops, err = c.Reconcile(desired, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Kind != ipvs.UpdateDestination || k.Writes() != 6 {
		t.Errorf("weight change: ops %v, writes %d; want one update-destination", ops, k.Writes())
	}
	tab, _ := c.Table()
	if w := tab.Services[0].Destinations[1].Weight; w != 5 {
		t.Errorf("weight in kernel = %d, want 5", w)
	}
	// An extra service is left alone without Prune, removed with it.
	extra := svc(ipvs.TCP, "192.168.0.100:22", "rr")
	if err := c.CreateService(extra); err != nil {
		t.Fatal(err)
	}
	if ops, _ := c.Reconcile(desired, nil); len(ops) != 0 {
		t.Errorf("without prune: %v", ops)
	}
	ops, err = c.Reconcile(desired, &ipvs.PlanOptions{Prune: true})
	if err != nil || len(ops) != 1 || ops[0].Kind != ipvs.DeleteService {
		t.Errorf("with prune: %v %v", ops, err)
	}
}

func TestPlan(t *testing.T) {
	s := svc(ipvs.TCP, "10.0.0.1:80", "rr")
	d1 := dst("10.1.0.1:80", ipvs.Route, 1)
	d2 := dst("10.1.0.2:80", ipvs.Route, 1)
	heavy := d2
	heavy.Weight = 9
	masq := d2
	masq.Forward = ipvs.Masquerade
	persistent := s
	persistent.Flags = ipvs.FlagPersistent
	persistent.Timeout = 300
	other := svc(ipvs.TCP, "10.0.0.2:80", "rr")
	portless := ipvs.Destination{Address: netip.MustParseAddr("10.1.0.1"), Forward: ipvs.Route, Weight: 1}
	vs := func(s ipvs.Service, ds ...ipvs.Destination) ipvs.VirtualServer {
		return ipvs.VirtualServer{Service: s, Destinations: ds}
	}
	tab := func(v ...ipvs.VirtualServer) *ipvs.Table { return &ipvs.Table{Services: v} }
	tests := []struct {
		name    string
		current *ipvs.Table
		desired *ipvs.Table
		prune   bool
		want    []string
	}{
		{"empty to one", nil, tab(vs(s, d1)), false, []string{"-A -t 10.0.0.1:80 -s rr", "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1"}},
		{"same is nothing", tab(vs(s, d1, d2)), tab(vs(s, d2, d1)), false, nil},
		{"weight change is one update", tab(vs(s, d1, d2)), tab(vs(s, d1, heavy)), false, []string{"-e -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w 9"}},
		{"forwarding change is one update", tab(vs(s, d1, d2)), tab(vs(s, d1, masq)), false, []string{"-e -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1"}},
		{"destination removed", tab(vs(s, d1, d2)), tab(vs(s, d1)), false, []string{"-d -t 10.0.0.1:80 -r 10.1.0.2:80"}},
		{"service settings change", tab(vs(s, d1)), tab(vs(persistent, d1)), false, []string{"-E -t 10.0.0.1:80 -s rr -p 300"}},
		{"zero port means the service port", tab(vs(s, d1)), tab(vs(s, portless)), false, nil},
		{"other service kept", tab(vs(other), vs(s, d1)), tab(vs(s, d1)), false, nil},
		{"other service pruned", tab(vs(other), vs(s, d1)), tab(vs(s, d1)), true, []string{"-D -t 10.0.0.2:80"}},
		{"empty scheduler equals wlc", tab(vs(svc(ipvs.TCP, "10.0.0.1:80", "wlc"))), tab(vs(svc(ipvs.TCP, "10.0.0.1:80", ""))), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := ipvs.Plan(tt.current, tt.desired, &ipvs.PlanOptions{Prune: tt.prune})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range ops {
				got = append(got, o.String())
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanRejectsDuplicates(t *testing.T) {
	s := svc(ipvs.TCP, "10.0.0.1:80", "rr")
	d := dst("10.1.0.1:80", ipvs.Route, 1)
	for name, desired := range map[string]*ipvs.Table{
		"service twice":     {Services: []ipvs.VirtualServer{{Service: s}, {Service: s}}},
		"destination twice": {Services: []ipvs.VirtualServer{{Service: s, Destinations: []ipvs.Destination{d, d}}}},
	} {
		if _, err := ipvs.Plan(nil, desired, nil); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s: %v, want an error", name, err)
		}
	}
}

// TestStopDaemonUnanswered: the kernel sends no answer at all when the sync
// thread DEL_DAEMON stops had not run yet; StopDaemon and EnsureDaemon
// still return, and count the daemon as stopped, which it is.
func TestStopDaemonUnanswered(t *testing.T) {
	c, k := newFake(t, nil)
	d := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth1", SyncID: 3}
	if err := c.StartDaemon(d); err != nil {
		t.Fatal(err)
	}
	k.StopUnanswered()
	if err := c.StopDaemon(ipvs.DaemonMaster); err != nil {
		t.Fatalf("StopDaemon left unanswered: %v", err)
	}
	if _, ok, err := c.Daemon(ipvs.DaemonMaster); err != nil || ok {
		t.Errorf("Daemon(master) after the stop = %v, %v; want none", ok, err)
	}

	if err := c.StartDaemon(d); err != nil {
		t.Fatal(err)
	}
	k.StopUnanswered()
	d.SyncID = 9
	if changed, err := c.EnsureDaemon(d); err != nil || !changed {
		t.Fatalf("EnsureDaemon replacing a daemon whose stop goes unanswered = %v, %v; want true, nil", changed, err)
	}
	if got, ok, err := c.Daemon(ipvs.DaemonMaster); err != nil || !ok || got.SyncID != 9 {
		t.Errorf("Daemon(master) = %+v, %v, %v; want sync ID 9", got, ok, err)
	}
	// The stop of a daemon that does not run is answered, and reported.
	if err := c.StopDaemon(ipvs.DaemonBackup); !errors.Is(err, ipvs.ErrDaemonNotRunning) {
		t.Errorf("StopDaemon(backup) with none running: %v, want ErrDaemonNotRunning", err)
	}
}
