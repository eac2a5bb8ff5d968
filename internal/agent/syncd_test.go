package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/vrrp"
)

// recordingDaemons records the sync daemon calls and keeps which daemons
// run, as a kernel would.
type recordingDaemons struct {
	calls   []string
	running map[ipvs.DaemonState]ipvs.Daemon
	fail    error
}

func (r *recordingDaemons) EnsureDaemon(d ipvs.Daemon) (bool, error) {
	r.calls = append(r.calls, "ensure "+d.State.String())
	if r.fail != nil {
		return false, r.fail
	}
	if cur, ok := r.running[d.State]; ok && d.Matches(cur) {
		return false, nil
	}
	r.running[d.State] = d
	return true, nil
}

func (r *recordingDaemons) EnsureNoDaemon(st ipvs.DaemonState) (bool, error) {
	r.calls = append(r.calls, "stop "+st.String())
	if r.fail != nil {
		return false, r.fail
	}
	_, ok := r.running[st]
	delete(r.running, st)
	return ok, nil
}

func (r *recordingDaemons) Close() error { return nil }

func (r *recordingDaemons) take() []string {
	c := r.calls
	r.calls = nil
	return c
}

func (r *recordingDaemons) states() string {
	var s string
	for _, st := range []ipvs.DaemonState{ipvs.DaemonMaster, ipvs.DaemonBackup} {
		if d, ok := r.running[st]; ok {
			s += fmt.Sprintf("%s(%s,%d) ", st, d.Interface, d.SyncID)
		}
	}
	return s
}

func tr(inst string, from, to vrrp.State) vrrp.Transition {
	return vrrp.Transition{Instance: inst, From: from, To: to}
}

// The daemons follow the instance as keepalived's do: backup from the
// start, master while MASTER, backup again after, nothing after stop.
func TestSyncDaemonsFollowInstance(t *testing.T) {
	r := &recordingDaemons{running: map[ipvs.DaemonState]ipvs.Daemon{
		ipvs.DaemonMaster: {State: ipvs.DaemonMaster, Interface: "eth1", SyncID: 51}, // left by a killed run
	}}
	s := newSyncDaemons(&config.SyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 51, Port: 8849}, r, slog.New(slog.DiscardHandler))
	steps := []struct {
		name  string
		do    func()
		calls []string
		state string
	}{
		{"start: a leftover master stopped, backup started", s.start, []string{"stop master", "ensure backup"}, "backup(eth1,51) "},
		{"INIT>BACKUP: nothing more", func() { s.transition(tr("VI_1", vrrp.StateInit, vrrp.StateBackup)) }, nil, "backup(eth1,51) "},
		{"another instance: ignored", func() { s.transition(tr("VI_2", vrrp.StateBackup, vrrp.StateMaster)) }, nil, "backup(eth1,51) "},
		{"BACKUP>MASTER: backup stopped, master started", func() { s.transition(tr("VI_1", vrrp.StateBackup, vrrp.StateMaster)) },
			[]string{"stop backup", "ensure master"}, "master(eth1,51) "},
		{"MASTER>BACKUP: master stopped, backup started", func() { s.transition(tr("VI_1", vrrp.StateMaster, vrrp.StateBackup)) },
			[]string{"stop master", "ensure backup"}, "backup(eth1,51) "},
		{"BACKUP>FAULT: nothing", func() { s.transition(tr("VI_1", vrrp.StateBackup, vrrp.StateFault)) }, nil, "backup(eth1,51) "},
		{"FAULT>BACKUP: nothing", func() { s.transition(tr("VI_1", vrrp.StateFault, vrrp.StateBackup)) }, nil, "backup(eth1,51) "},
		{"BACKUP>MASTER again", func() { s.transition(tr("VI_1", vrrp.StateBackup, vrrp.StateMaster)) },
			[]string{"stop backup", "ensure master"}, "master(eth1,51) "},
		{"MASTER>FAULT: master stopped, backup started", func() { s.transition(tr("VI_1", vrrp.StateMaster, vrrp.StateFault)) },
			[]string{"stop master", "ensure backup"}, "backup(eth1,51) "},
		{"FAULT>BACKUP>MASTER>STOPPED", func() {
			s.transition(tr("VI_1", vrrp.StateFault, vrrp.StateBackup))
			s.transition(tr("VI_1", vrrp.StateBackup, vrrp.StateMaster))
			s.transition(tr("VI_1", vrrp.StateMaster, vrrp.StateStopped))
		}, []string{"stop backup", "ensure master"}, "master(eth1,51) "},
		{"stop: the master stopped", s.stop, []string{"stop master"}, ""},
	}
	for _, st := range steps {
		st.do()
		if diff := cmp.Diff(st.calls, r.take()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", st.name, diff)
		}
		if got := r.states(); got != st.state {
			t.Errorf("%s: running %q, want %q", st.name, got, st.state)
		}
	}
}

// Without an instance both daemons run from start to stop, whatever
// VRRP does.
func TestSyncDaemonsWithoutInstance(t *testing.T) {
	r := &recordingDaemons{running: map[ipvs.DaemonState]ipvs.Daemon{}}
	s := newSyncDaemons(&config.SyncDaemon{Interface: "eth1"}, r, slog.New(slog.DiscardHandler))
	s.start()
	if got, want := r.states(), "master(eth1,0) backup(eth1,0) "; got != want {
		t.Errorf("after start: %q, want %q", got, want)
	}
	s.transition(tr("VI_1", vrrp.StateBackup, vrrp.StateMaster))
	s.transition(tr("VI_1", vrrp.StateMaster, vrrp.StateBackup))
	if got := r.take(); !cmp.Equal(got, []string{"ensure master", "ensure backup"}) {
		t.Errorf("calls %q: transitions must not touch the daemons", got)
	}
	s.stop()
	if got := r.states(); got != "" {
		t.Errorf("after stop: %q", got)
	}
	var none *syncDaemons // no lvs_sync_daemon: every call is a no-op
	none.start()
	none.transition(tr("VI_1", vrrp.StateBackup, vrrp.StateMaster))
	none.stop()
}

// A refusal is logged and the next transition tries again.
func TestSyncDaemonsFailure(t *testing.T) {
	r := &recordingDaemons{running: map[ipvs.DaemonState]ipvs.Daemon{}, fail: errors.New("no such device")}
	s := newSyncDaemons(&config.SyncDaemon{Interface: "eth9", Instance: "VI_1", SyncID: 3}, r, slog.New(slog.DiscardHandler))
	s.start()
	r.fail = nil
	s.transition(tr("VI_1", vrrp.StateInit, vrrp.StateBackup))
	if got := r.states(); got != "backup(eth9,3) " {
		t.Errorf("after a failed start and a transition: %q, want the backup running", got)
	}
}

// In a running node the kernel's daemons follow VRRP: backup at start,
// master once MASTER, backup in FAULT, none after stop.
func TestRunSyncDaemon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t)
		cfg := parseNode(t, nodeYAML)
		cfg.Global.SyncDaemon = &config.SyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 1, Group: netip.MustParseAddr("239.0.0.9")}
		a, err := New(cfg, &n.opts)
		if err != nil {
			t.Fatal(err)
		}
		n.a = a
		ctx, cancel := context.WithCancel(context.Background())
		n.cancel = cancel
		go func() { n.done <- a.Run(ctx) }()
		synctest.Wait()
		daemons := func() string {
			ds, err := n.admin.Daemons()
			if err != nil {
				t.Fatal(err)
			}
			var s string
			for _, d := range ds {
				s += fmt.Sprintf("%s(%s,%d,%s) ", d.State, d.Interface, d.SyncID, d.Group)
			}
			return s
		}
		if got, want := daemons(), "backup(eth1,1,239.0.0.9) "; got != want {
			t.Errorf("at start (BACKUP): daemons %q, want %q", got, want)
		}
		sleep(4 * time.Second)
		if n.state() != vrrp.StateMaster {
			t.Fatalf("state %v after 4 s alone, want MASTER", n.state())
		}
		if got, want := daemons(), "master(eth1,1,239.0.0.9) "; got != want {
			t.Errorf("as MASTER: daemons %q, want %q", got, want)
		}
		n.host.SetLink("eth0", false)
		synctest.Wait()
		if got, want := daemons(), "backup(eth1,1,239.0.0.9) "; got != want {
			t.Errorf("in FAULT: daemons %q, want %q", got, want)
		}
		n.host.SetLink("eth0", true)
		sleep(4 * time.Second)
		if got, want := daemons(), "master(eth1,1,239.0.0.9) "; got != want {
			t.Errorf("MASTER again: daemons %q, want %q", got, want)
		}
		// A reload with other settings replaces the master daemon; one
		// without lvs_sync_daemon stops it; one with it again starts a
		// master, the instance being MASTER.
		reload := func(sd *config.SyncDaemon, want string) {
			t.Helper()
			cfg := parseNode(t, nodeYAML)
			cfg.Global.SyncDaemon = sd
			if err := a.Reload(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			if got := daemons(); got != want {
				t.Errorf("after a reload with %+v: daemons %q, want %q", sd, got, want)
			}
		}
		reload(&config.SyncDaemon{Interface: "eth1", Instance: "VI_1", SyncID: 2, Group: netip.MustParseAddr("239.0.0.9")}, "master(eth1,2,239.0.0.9) ")
		reload(nil, "")
		reload(&config.SyncDaemon{Interface: "eth2", Instance: "VI_1", SyncID: 3}, "master(eth2,3,224.0.0.81) ")
		if err := n.stop(); err != nil {
			t.Fatal(err)
		}
		if got := daemons(); got != "" {
			t.Errorf("after stop: daemons %q, want none", got)
		}
	})
}
