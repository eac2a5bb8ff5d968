//go:build linux

package ipvs_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
	"github.com/lvskit/lvskit/ipvs"
)

// TestVMSyncDaemonEnsure drives the sync daemons of a namespace with
// EnsureDaemon and EnsureNoDaemon and checks each step with ipvsadm -L
// --daemon: the kernel's defaults, a daemon left alone when it matches,
// replaced when it does not, an IPv6 group, and one started by ipvsadm.
func TestVMSyncDaemonEnsure(t *testing.T) {
	ns, c := ipvsNS(t)
	// No duplicate address detection: an IPv6 sync daemon needs sync0's
	// link-local address usable at once, not tentative.
	ns.Run(t, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0")
	ns.Run(t, "ip", "link", "add", "sync0", "type", "veth", "peer", "name", "sync1")
	ns.Run(t, "ip", "link", "set", "sync0", "up")
	ns.Run(t, "ip", "link", "set", "sync1", "up")
	netnstest.WaitFor(t, "sync0's IPv6 link-local address", 10*time.Second, func() bool {
		out := ns.Run(t, "ip", "-6", "addr", "show", "dev", "sync0")
		return strings.Contains(out, "fe80::") && !strings.Contains(out, "tentative")
	})
	daemons := func() string {
		t.Helper()
		out := ipvsadm(t, ns, "", "-L", "--daemon")
		ds, err := c.Daemons()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		ipvs.WriteDaemons(&b, ds)
		if diff := cmp.Diff(out, b.String()); diff != "" {
			t.Errorf("WriteDaemons vs ipvsadm -L --daemon (-ipvsadm +lvskit):\n%s", diff)
		}
		return out
	}
	ensure := func(d ipvs.Daemon, wantChanged bool) {
		t.Helper()
		changed, err := c.EnsureDaemon(d)
		if err != nil {
			t.Fatalf("EnsureDaemon(%+v): %v", d, err)
		}
		if changed != wantChanged {
			t.Errorf("EnsureDaemon(%+v) changed = %v, want %v", d, changed, wantChanged)
		}
	}

	backup := ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "sync1", SyncID: 3}
	ensure(backup, true)
	if out := daemons(); !strings.Contains(out, "backup sync daemon (mcast=sync1, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)") {
		t.Errorf("after starting a backup with the kernel's defaults:\n%s", out)
	}
	got, ok, err := c.Daemon(ipvs.DaemonBackup)
	if err != nil || !ok {
		t.Fatalf("Daemon(backup) = %v, %v", ok, err)
	}
	if want := (ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "sync1", SyncID: 3, MaxLen: 1472,
		Group: netip.AddrFrom4(ipvs.DefaultSyncGroup), Port: ipvs.DefaultSyncPort, TTL: ipvs.DefaultSyncTTL}); !cmp.Equal(want, got, addrCmp) {
		t.Errorf("Daemon(backup) = %+v, want %+v", got, want)
	}
	ensure(backup, false)

	master := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "sync0", SyncID: 3, Group: netip.MustParseAddr("ff02::8"), Port: 8850, TTL: 4}
	ensure(master, true)
	ensure(master, false)
	master.SyncID = 9
	ensure(master, true)
	out := daemons()
	if !strings.Contains(out, "master sync daemon (mcast=sync0, syncid=9, ") || !strings.Contains(out, "group=ff02::8, port=8850, ttl=4)") {
		t.Errorf("after replacing the master:\n%s", out)
	}
	if !strings.Contains(out, "backup sync daemon (mcast=sync1, syncid=3,") {
		t.Errorf("replacing the master touched the backup:\n%s", out)
	}

	for _, st := range []ipvs.DaemonState{ipvs.DaemonMaster, ipvs.DaemonBackup} {
		if stopped, err := c.EnsureNoDaemon(st); err != nil || !stopped {
			t.Errorf("EnsureNoDaemon(%v) = %v, %v; want true, nil", st, stopped, err)
		}
		if stopped, err := c.EnsureNoDaemon(st); err != nil || stopped {
			t.Errorf("second EnsureNoDaemon(%v) = %v, %v; want false, nil", st, stopped, err)
		}
	}
	if out := daemons(); out != "" {
		t.Errorf("after stopping both: %q", out)
	}

	// A daemon ipvsadm started is seen, matched and replaced.
	ipvsadm(t, ns, "", "--start-daemon", "backup", "--mcast-interface", "sync1", "--syncid", "5")
	ensure(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "sync1", SyncID: 5}, false)
	ensure(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "sync0", SyncID: 5}, true)
	if out := daemons(); !strings.Contains(out, "backup sync daemon (mcast=sync0, syncid=5,") {
		t.Errorf("after moving ipvsadm's backup to sync0:\n%s", out)
	}
	if _, err := c.EnsureNoDaemon(ipvs.DaemonBackup); err != nil {
		t.Fatal(err)
	}
}

// TestVMSyncDaemonStopAtOnce starts sync daemons and stops each at once,
// as EnsureDaemon does when it replaces one. The kernel leaves a stop
// unanswered when the daemon's thread has not run yet, which a slow or
// busy machine makes likely: every stop must still return, and leave no
// daemon behind.
func TestVMSyncDaemonStopAtOnce(t *testing.T) {
	ns, c := ipvsNS(t)
	ns.Run(t, "ip", "link", "add", "sync0", "type", "veth", "peer", "name", "sync1")
	ns.Run(t, "ip", "link", "set", "sync0", "up")
	ns.Run(t, "ip", "link", "set", "sync1", "up")
	// A master sends from sync0's address.
	ns.Run(t, "ip", "addr", "add", "192.168.77.1/24", "dev", "sync0")
	for i := range 30 {
		d := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "sync0", SyncID: uint32(i)}
		if i%2 == 1 {
			d.State = ipvs.DaemonBackup
		}
		if err := c.StartDaemon(d); err != nil {
			t.Fatalf("round %d: StartDaemon(%+v): %v", i, d, err)
		}
		done := make(chan error, 1)
		go func() { done <- c.StopDaemon(d.State) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: StopDaemon(%v): %v", i, d.State, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("round %d: StopDaemon(%v) has not returned after a minute", i, d.State)
		}
		if ds, err := c.Daemons(); err != nil || len(ds) != 0 {
			t.Fatalf("round %d: Daemons after the stop = %+v, %v; want none", i, ds, err)
		}
	}
}
