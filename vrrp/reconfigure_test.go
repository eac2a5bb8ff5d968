package vrrp_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

func configWith(edit func(*vrrp.Config)) vrrp.Config {
	c := baseConfig()
	edit(&c)
	return c
}

// masterAndBackup starts a MASTER of priority 150 and, 5 s later, a BACKUP
// of priority 100, and lets them settle for 10 s.
func masterAndBackup(t *testing.T, b *vrrptest.Bus) (master, backup *node) {
	t.Helper()
	master = start(t, b, "172.16.0.1", withPrio(150))
	time.Sleep(5 * time.Second)
	backup = start(t, b, "172.16.0.2", withPrio(100))
	time.Sleep(10 * time.Second)
	synctest.Wait()
	return master, backup
}

// A MASTER given a lower priority than its BACKUP's advertises it at once
// and, with preemption, the BACKUP takes over Master_Down_Interval later.
func TestReconfigurePriorityOfMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a, bk := masterAndBackup(t, b)
		checkOneMaster(t, a, a, bk)

		at := time.Now()
		if err := a.r.Reconfigure(context.Background(), []vrrp.Config{configWith(func(c *vrrp.Config) { c.Priority = 90 })}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		sent := b.Sent(a.addr)
		if last := sent[len(sent)-1]; last.Priority != 90 || !last.At.Equal(at) {
			t.Errorf("last advert from the reconfigured master: priority %d at +%v, want 90 at once", last.Priority, last.At.Sub(at))
		}
		lastHigh := sent[len(sent)-2]
		time.Sleep(10 * time.Second)
		synctest.Wait()
		checkOneMaster(t, bk, a, bk)
		// The preempting BACKUP discards the lower adverts: its timer runs
		// from the last priority-150 one.
		if got, want := bk.last().At.Sub(lastHigh.At), vrrp.MasterDownInterval(time.Second, 100); lastHigh.Priority != 150 || got != want {
			t.Errorf("BACKUP took over %v after the last priority-%d advert, want Master_Down_Interval %v after a priority-150 one", got, lastHigh.Priority, want)
		}
	})
}

// A MASTER's VIPs change without a transition: the dropped one goes, the
// new one comes with gratuitous ARPs.
func TestReconfigureVIPsOfMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(150))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		garps := len(a.host.GARPs())
		other := netip.MustParsePrefix("192.168.0.101/24")
		if err := a.r.Reconfigure(context.Background(), []vrrp.Config{configWith(func(c *vrrp.Config) { c.Priority = 150; c.VIPs = []netip.Prefix{other} })}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if diff := cmp.Diff([]netip.Prefix{other}, a.host.VIPs("eth0"), cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); diff != "" {
			t.Errorf("VIPs on eth0 (-want +got):\n%s", diff)
		}
		if got := len(a.host.GARPs()); got <= garps {
			t.Errorf("no gratuitous ARP for the new VIP (%d before, %d after)", garps, got)
		}
		if got := a.history(); len(got) != 2 {
			t.Errorf("transitions %v, want INIT->BACKUP->MASTER only", got)
		}
	})
}

// A BACKUP made the address owner becomes MASTER at once.
func TestReconfigureBackupToOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		m, bk := masterAndBackup(t, b)
		at := time.Now()
		if err := bk.r.Reconfigure(context.Background(), []vrrp.Config{configWith(func(c *vrrp.Config) { c.Priority = 255 })}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		checkOneMaster(t, bk, m, bk)
		if tr := bk.last(); tr.Cause.Kind != vrrp.CauseOwner || !tr.At.Equal(at) {
			t.Errorf("became %v by %v at +%v, want MASTER as owner at once", tr.To, tr.Cause, tr.At.Sub(at))
		}
	})
}

// What names the instance cannot change in place; nothing is applied.
func TestReconfigureRefusesIdentityChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(150))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		before := len(b.Sent(a.addr))
		for _, tt := range []struct {
			name  string
			cfgs  []vrrp.Config
			field string
		}{
			{"interface", []vrrp.Config{configWith(func(c *vrrp.Config) { c.Interface = "eth2"; c.Priority = 10 })}, "Interface"},
			{"VIP interface", []vrrp.Config{configWith(func(c *vrrp.Config) { c.VIPInterface = "eth3"; c.Priority = 10 })}, "VIPInterface"},
			{"tracked", []vrrp.Config{configWith(func(c *vrrp.Config) { c.TrackInterfaces = []string{"eth0"}; c.Priority = 10 })}, "TrackInterfaces"},
			{"another VRID", []vrrp.Config{configWith(func(c *vrrp.Config) { c.VRID = 2 })}, "VRID"},
			{"one more instance", []vrrp.Config{baseConfig(), configWith(func(c *vrrp.Config) { c.VRID = 2 })}, "instances"},
			{"invalid", []vrrp.Config{configWith(func(c *vrrp.Config) { c.AdvertInterval = 1500 * time.Millisecond })}, "AdvertInterval"},
		} {
			err := a.r.Reconfigure(context.Background(), tt.cfgs)
			var fe *vrrp.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("%s: error %v, want a FieldError for %s", tt.name, err, tt.field)
			}
		}
		synctest.Wait()
		if got := len(b.Sent(a.addr)); got != before {
			t.Errorf("%d adverts sent by refused reconfigurations", got-before)
		}
		if got := a.r.Stats().Instances[0]; got.State != vrrp.StateMaster {
			t.Errorf("state %v after refused reconfigurations, want MASTER", got.State)
		}
	})
}

func TestReconfigureAfterRunReturnsErrNotRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := vrrptest.NewBus()
		a := start(t, b, "172.16.0.1", withPrio(150))
		time.Sleep(time.Second)
		a.stop()
		if err := a.r.Reconfigure(context.Background(), []vrrp.Config{baseConfig()}); !errors.Is(err, vrrp.ErrNotRunning) {
			t.Errorf("Reconfigure after Run = %v, want ErrNotRunning", err)
		}
	})
}
