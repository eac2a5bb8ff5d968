package vrrp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	local  = netip.MustParseAddr("172.16.0.1")
	lower  = netip.MustParseAddr("172.16.0.0") // a lower address than local
	higher = netip.MustParseAddr("172.16.0.2")
	vip    = netip.MustParsePrefix("192.168.0.100/24")
)

func baseConfig() Config {
	return Config{Interface: "eth1", VRID: 1, Priority: 100, VIPs: []netip.Prefix{vip}, VIPInterface: "eth0"}
}

// wire returns an advert for baseConfig with the given priority.
func wire(t testing.TB, prio uint8, edit ...func(*Advert)) []byte {
	t.Helper()
	a := Advert{VRID: 1, Priority: prio, Interval: time.Second, Addrs: []netip.Addr{vip.Addr()}}
	for _, e := range edit {
		e(&a)
	}
	b, err := a.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func pkt(t testing.TB, d time.Duration, from netip.Addr, prio uint8, edit ...func(*Advert)) Event {
	return Event{Kind: EventPacket, Now: at(d), Data: wire(t, prio, edit...),
		Info: PacketInfo{Src: from, Dst: MulticastGroup, TTL: 255}}
}

func trans(d time.Duration, prio uint8, from, to State, c Cause) Action {
	return Action{Kind: ActionTransition, Transition: Transition{Instance: "VI_1", VRID: 1, Priority: prio,
		From: from, To: to, Cause: c, At: at(d)}}
}

var (
	add    = Action{Kind: ActionAddVIPs}
	remove = Action{Kind: ActionRemoveVIPs}
	garp5  = Action{Kind: ActionSendGARP, Count: 5}
)

func advert(p uint8) Action { return Action{Kind: ActionSendAdvert, Priority: p} }

type step struct {
	ev       Event
	want     []Action
	deadline time.Duration // want Deadline() == at(deadline); -1: no deadline
	state    State
}

const none = time.Duration(-1)

func runSteps(t *testing.T, cfg Config, steps []step) *Machine {
	t.Helper()
	m, err := NewMachine(cfg, local)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		got := m.Step(s.ev)
		if diff := cmp.Diff(s.want, got, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Fatalf("step %d (event %v at %v): actions (-want +got):\n%s", i, s.ev.Kind, s.ev.Now.Sub(t0), diff)
		}
		wantDL := time.Time{}
		if s.deadline != none {
			wantDL = at(s.deadline)
		}
		if got := m.Deadline(); !got.Equal(wantDL) {
			t.Fatalf("step %d: Deadline() = %v, want %v", i, got.Sub(t0), s.deadline)
		}
		if m.State() != s.state {
			t.Fatalf("step %d: state %v, want %v", i, m.State(), s.state)
		}
	}
	return m
}

func start(d time.Duration) Event { return Event{Kind: EventStart, Now: at(d)} }
func stop(d time.Duration) Event  { return Event{Kind: EventStop, Now: at(d)} }
func tick(d time.Duration) Event  { return Event{Kind: EventTimer, Now: at(d)} }
func link(d time.Duration, name string, up bool) Event {
	return Event{Kind: EventLink, Now: at(d), Interface: name, Up: up}
}

// Priority 100, interval 1s: Skew_Time 0.609375s, Master_Down_Interval 3.609375s.
const (
	skew100 = 609375 * time.Microsecond
	mdi100  = 3*time.Second + skew100
)

func TestTimersFollowRFC(t *testing.T) {
	tests := []struct {
		prio     uint8
		interval time.Duration
		skew     time.Duration
		down     time.Duration
	}{
		{100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{255, time.Second, 3906250, 3003906250},
		{1, 2 * time.Second, 996093750, 6996093750},
		{150, 3 * time.Second, 414062500, 9414062500},
	}
	for _, tt := range tests {
		if got := SkewTime(tt.prio); got != tt.skew {
			t.Errorf("SkewTime(%d) = %v, want %v", tt.prio, got, tt.skew)
		}
		if got := MasterDownInterval(tt.interval, tt.prio); got != tt.down {
			t.Errorf("MasterDownInterval(%v, %d) = %v, want %v", tt.interval, tt.prio, got, tt.down)
		}
	}
}

func TestMachineTransitions(t *testing.T) {
	cfg := baseConfig()
	owner := baseConfig()
	owner.Priority = 255
	nopreempt := baseConfig()
	nopreempt.NoPreempt = true
	delayed := baseConfig()
	delayed.PreemptDelay = 10 * time.Second
	refresh := baseConfig()
	refresh.GARPRefresh = 2 * time.Second
	refresh.GARPDelay = -1
	lowerPrio := baseConfig()
	lowerPrio.GARPDelay = -1
	lowerPrio.GARPLowerPrioRepeat = 3
	lowerPrio.GARPLowerPrioDelay = 2500 * time.Millisecond
	quietLower := baseConfig()
	noYield := cfg
	noYield.NoYieldAdvert = true
	quietLower.LowerPrioNoAdvert = true
	quietLower.GARPLowerPrioRepeat = -1
	garp3 := Action{Kind: ActionSendGARP, Count: 3}
	tracked := baseConfig()
	tracked.TrackInterfaces = []string{"eth0"}
	ownerTracked := tracked
	ownerTracked.Priority = 255

	// heard is the report of a lower-priority advert heard as MASTER.
	heard := func(d time.Duration, prio uint8, from netip.Addr) Action {
		return Action{Kind: ActionLowerPriority, Lower: LowerPriority{Instance: "VI_1", VRID: 1, Priority: 100, Heard: prio, From: from, At: at(d)}}
	}
	ownerHeard := func(d time.Duration, prio uint8, from netip.Addr) Action {
		a := heard(d, prio, from)
		a.Lower.Priority = 255
		return a
	}
	becomeMasterAt := func(d time.Duration, prio uint8, c Cause) []Action {
		return []Action{advert(prio), add, garp5, trans(d, prio, StateBackup, StateMaster, c)}
	}
	tests := []struct {
		name  string
		cfg   Config
		steps func(t *testing.T) []step
	}{
		{"start as backup removes stale VIPs and arms Master_Down", cfg, func(t *testing.T) []step {
			return []step{{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup}}
		}},
		{"owner starts as master: advert, VIPs, GARP burst", owner, func(t *testing.T) []step {
			return []step{{start(0), []Action{advert(255), add, garp5, trans(0, 255, StateInit, StateMaster, Cause{Kind: CauseOwner})}, time.Second, StateMaster}}
		}},
		{"master down timer expires", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100 - 1), nil, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{tick(mdi100 + time.Second), []Action{advert(100)}, mdi100 + 2*time.Second, StateMaster},
			}
		}},
		{"adverts from a higher priority keep a backup down", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{pkt(t, 3*time.Second, higher, 150), nil, 3*time.Second + mdi100, StateBackup},
				{pkt(t, 4*time.Second, higher, 100), nil, 4*time.Second + mdi100, StateBackup},
			}
		}},
		{"priority 0 makes a backup take over after Skew_Time", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{pkt(t, time.Second, higher, 150), nil, time.Second + mdi100, StateBackup},
				{pkt(t, 2*time.Second, higher, 0), nil, 2*time.Second + skew100, StateBackup},
				{tick(2*time.Second + skew100), becomeMasterAt(2*time.Second+skew100, 100, Cause{Kind: CausePriorityZero, From: higher}), 3*time.Second + skew100, StateMaster},
			}
		}},
		{"preempt: a lower-priority master is ignored until Master_Down", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{pkt(t, time.Second, higher, 50), nil, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CausePreempt, Priority: 50, From: higher}), mdi100 + time.Second, StateMaster},
			}
		}},
		{"nopreempt: a lower-priority master is accepted", nopreempt, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{pkt(t, 3*time.Second, higher, 50), nil, 3*time.Second + mdi100, StateBackup},
				{pkt(t, 6*time.Second, higher, 50), nil, 6*time.Second + mdi100, StateBackup},
			}
		}},
		{"preempt_delay holds back preemption from startup", delayed, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{pkt(t, 3*time.Second, higher, 50), nil, 3*time.Second + mdi100, StateBackup},
				{pkt(t, 9*time.Second, higher, 50), nil, 9*time.Second + mdi100, StateBackup},
				{pkt(t, 10*time.Second, higher, 50), nil, 9*time.Second + mdi100, StateBackup},
				{tick(9*time.Second + mdi100), becomeMasterAt(9*time.Second+mdi100, 100, Cause{Kind: CausePreempt, Priority: 50, From: higher}), 10*time.Second + mdi100, StateMaster},
			}
		}},
		{"master yields to a higher priority", owner, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{advert(255), add, garp5, trans(0, 255, StateInit, StateMaster, Cause{Kind: CauseOwner})}, time.Second, StateMaster},
				{pkt(t, 500*time.Millisecond, lower, 255), []Action{advert(255), garp5, ownerHeard(500*time.Millisecond, 255, lower)}, 1500 * time.Millisecond, StateMaster},
				{pkt(t, 600*time.Millisecond, higher, 255), []Action{advert(255), remove, trans(600*time.Millisecond, 255, StateMaster, StateBackup,
					Cause{Kind: CauseHigherAddress, Priority: 255, From: higher})}, 600*time.Millisecond + MasterDownInterval(time.Second, 255), StateBackup},
			}
		}},
		{"master answers lower priority and priority 0 at once, yields to higher", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{pkt(t, 4*time.Second, higher, 50), []Action{advert(100), garp5, heard(4*time.Second, 50, higher)}, 5 * time.Second, StateMaster},
				{pkt(t, 4100*time.Millisecond, lower, 100), []Action{advert(100), garp5, heard(4100*time.Millisecond, 100, lower)}, 5100 * time.Millisecond, StateMaster},
				{pkt(t, 4200*time.Millisecond, higher, 0), []Action{advert(100)}, 5200 * time.Millisecond, StateMaster},
				{pkt(t, 4300*time.Millisecond, lower, 150), []Action{advert(100), remove, trans(4300*time.Millisecond, 100, StateMaster, StateBackup,
					Cause{Kind: CauseHigherPriority, Priority: 150, From: lower})}, 4300*time.Millisecond + mdi100, StateBackup},
			}
		}},
		{"lower priority heard as master: advert, GARPs now and once more after the delay", lowerPrio, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{pkt(t, 4*time.Second, higher, 50), []Action{advert(100), garp3, heard(4*time.Second, 50, higher)}, 5 * time.Second, StateMaster},
				// A second advert meanwhile gets its burst but does not
				// postpone the pending one.
				{pkt(t, 4500*time.Millisecond, higher, 50), []Action{advert(100), garp3, heard(4500*time.Millisecond, 50, higher)}, 5500 * time.Millisecond, StateMaster},
				{tick(5500 * time.Millisecond), []Action{advert(100)}, 6500 * time.Millisecond, StateMaster},
				{tick(6500 * time.Millisecond), []Action{advert(100), garp3}, 7500 * time.Millisecond, StateMaster},
				{tick(7500 * time.Millisecond), []Action{advert(100)}, 8500 * time.Millisecond, StateMaster},
			}
		}},
		{"lower priority heard with an equal priority: the lower address refreshes", lowerPrio, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{pkt(t, 4*time.Second, lower, 100), []Action{advert(100), garp3, heard(4*time.Second, 100, lower)}, 5 * time.Second, StateMaster},
			}
		}},
		{"yielding with NoYieldAdvert: no last advert", noYield, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{pkt(t, 4*time.Second, higher, 150), []Action{remove, trans(4*time.Second, 100, StateMaster, StateBackup,
					Cause{Kind: CauseHigherPriority, Priority: 150, From: higher})}, 4*time.Second + mdi100, StateBackup},
			}
		}},
		{"leaving MASTER cancels the pending lower-priority burst", lowerPrio, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{pkt(t, 4*time.Second, higher, 50), []Action{advert(100), garp3, heard(4*time.Second, 50, higher)}, 5 * time.Second, StateMaster},
				{pkt(t, 4100*time.Millisecond, higher, 150), []Action{advert(100), remove, trans(4100*time.Millisecond, 100, StateMaster, StateBackup,
					Cause{Kind: CauseHigherPriority, Priority: 150, From: higher})}, 4100*time.Millisecond + mdi100, StateBackup},
				{tick(6500 * time.Millisecond), nil, 4100*time.Millisecond + mdi100, StateBackup},
			}
		}},
		{"lower_prio_no_advert and no lower-priority GARPs: nothing sent, the advert reported", quietLower, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{pkt(t, 4*time.Second, higher, 50), []Action{heard(4*time.Second, 50, higher)}, mdi100 + time.Second, StateMaster},
			}
		}},
		{"second GARP burst after garp_delay", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{tick(mdi100 + 4*time.Second), []Action{advert(100)}, mdi100 + 5*time.Second, StateMaster},
				{tick(mdi100 + 5*time.Second), []Action{advert(100), garp5}, mdi100 + 6*time.Second, StateMaster},
			}
		}},
		{"periodic GARP refresh, no second burst", refresh, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{tick(mdi100 + time.Second), []Action{advert(100)}, mdi100 + 2*time.Second, StateMaster},
				{tick(mdi100 + 2*time.Second), []Action{advert(100), {Kind: ActionSendGARP, Count: 1}}, mdi100 + 3*time.Second, StateMaster},
				{tick(mdi100 + 4*time.Second), []Action{advert(100), {Kind: ActionSendGARP, Count: 1}}, mdi100 + 5*time.Second, StateMaster},
			}
		}},
		{"stop as master: priority 0 advert, VIPs removed", owner, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{advert(255), add, garp5, trans(0, 255, StateInit, StateMaster, Cause{Kind: CauseOwner})}, time.Second, StateMaster},
				{stop(time.Second / 2), []Action{advert(0), remove, trans(time.Second/2, 255, StateMaster, StateStopped, Cause{Kind: CauseShutdown})}, none, StateStopped},
				{stop(time.Second), nil, none, StateStopped},
				{pkt(t, 2*time.Second, higher, 0), nil, none, StateStopped},
			}
		}},
		{"stop as backup", cfg, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{stop(time.Second), []Action{remove, trans(time.Second, 100, StateBackup, StateStopped, Cause{Kind: CauseShutdown})}, none, StateStopped},
			}
		}},
		{"tracked interface down: master -> FAULT with priority 0, back to BACKUP", tracked, func(t *testing.T) []step {
			return []step{
				{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
				{tick(mdi100), becomeMasterAt(mdi100, 100, Cause{Kind: CauseMasterDown}), mdi100 + time.Second, StateMaster},
				{link(4*time.Second, "eth0", false), []Action{advert(0), remove, trans(4*time.Second, 100, StateMaster, StateFault,
					Cause{Kind: CauseInterfaceDown, Interface: "eth0"})}, none, StateFault},
				{pkt(t, 5*time.Second, higher, 0), nil, none, StateFault},
				{link(5*time.Second, "eth1", false), nil, none, StateFault},
				{link(6*time.Second, "eth0", true), nil, none, StateFault},
				{link(6*time.Second, "lo", false), nil, none, StateFault},
				{link(7*time.Second, "eth1", true), []Action{remove, trans(7*time.Second, 100, StateFault, StateBackup,
					Cause{Kind: CauseInterfaceUp, Interface: "eth1"})}, 7*time.Second + mdi100, StateBackup},
				{link(8*time.Second, "eth1", false), []Action{remove, trans(8*time.Second, 100, StateBackup, StateFault,
					Cause{Kind: CauseInterfaceDown, Interface: "eth1"})}, none, StateFault},
			}
		}},
		{"owner back from FAULT is master again", ownerTracked, func(t *testing.T) []step {
			return []step{
				{link(0, "eth0", false), nil, none, StateInit},
				{start(0), []Action{remove, trans(0, 255, StateInit, StateFault, Cause{Kind: CauseInterfaceDown, Interface: "eth0"})}, none, StateFault},
				{link(time.Second, "eth0", true), []Action{advert(255), add, garp5, trans(time.Second, 255, StateFault, StateMaster,
					Cause{Kind: CauseInterfaceUp, Interface: "eth0"})}, 2 * time.Second, StateMaster},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, tt.cfg, tt.steps(t))
		})
	}
}

func TestMachineDropsInvalidAdverts(t *testing.T) {
	auth := baseConfig()
	auth.AuthPass = "secret"
	unicast := baseConfig()
	unicast.UnicastPeers = []netip.Addr{higher}
	withPass := func(p string) func(*Advert) {
		return func(a *Advert) { a.AuthType = AuthSimple; a.AuthData = pass(p) }
	}
	tests := []struct {
		name string
		cfg  Config
		data func(t *testing.T) []byte
		info PacketInfo
		want ValidationError
	}{
		{"ttl 1", baseConfig(), func(t *testing.T) []byte { return wire(t, 150) }, PacketInfo{Src: higher, TTL: 1}, ValidationError{Reason: ReasonTTL, Got: 1, Want: 255}},
		{"ttl 254", baseConfig(), func(t *testing.T) []byte { return wire(t, 150) }, PacketInfo{Src: higher, TTL: 254}, ValidationError{Reason: ReasonTTL, Got: 254, Want: 255}},
		{"empty", baseConfig(), func(t *testing.T) []byte { return nil }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonLength, Got: 0, Want: 8}},
		{"truncated", baseConfig(), func(t *testing.T) []byte { return wire(t, 150)[:12] }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonLength, Got: 12, Want: 20}},
		{"version 3", baseConfig(), func(t *testing.T) []byte {
			b := wire(t, 150)
			b[0] = 0x31
			return b
		}, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonVersion, Got: 3, Want: 2}},
		{"type 2", baseConfig(), func(t *testing.T) []byte {
			b := wire(t, 150)
			b[0] = 0x22
			return b
		}, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonType, Got: 2, Want: 1}},
		{"checksum", baseConfig(), func(t *testing.T) []byte {
			b := wire(t, 150)
			b[7] ^= 0xff
			return b
		}, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonChecksum, Got: 0x87ef ^ 0xff, Want: 0x87ef}},
		{"other vrid", baseConfig(), func(t *testing.T) []byte { return wire(t, 150, func(a *Advert) { a.VRID = 2 }) }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonVRID, Got: 2, Want: 1}},
		{"auth expected", auth, func(t *testing.T) []byte { return wire(t, 150) }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonAuthType, Got: 0, Want: 1}},
		{"auth unexpected", baseConfig(), func(t *testing.T) []byte { return wire(t, 150, withPass("secret")) }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonAuthType, Got: 1, Want: 0}},
		{"wrong password", auth, func(t *testing.T) []byte { return wire(t, 150, withPass("secreT")) }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonAuthPass}},
		{"password prefix", auth, func(t *testing.T) []byte { return wire(t, 150, withPass("secret1")) }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonAuthPass}},
		{"interval 2s", baseConfig(), func(t *testing.T) []byte { return wire(t, 150, func(a *Advert) { a.Interval = 2 * time.Second }) }, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonInterval, Got: 2, Want: 1}},
		{"unicast from a stranger", unicast, func(t *testing.T) []byte { return wire(t, 150) }, PacketInfo{Src: lower, TTL: 64}, ValidationError{Reason: ReasonPeer}},
		{"own address", baseConfig(), func(t *testing.T) []byte { return wire(t, 150) }, PacketInfo{Src: local, TTL: 255}, ValidationError{Reason: ReasonSelf}},
		{"other address list", baseConfig(), func(t *testing.T) []byte {
			return wire(t, 150, func(a *Advert) { a.Addrs = []netip.Addr{netip.MustParseAddr("192.168.0.101")} })
		}, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonAddrList, Got: 1, Want: 1}},
		{"missing address", baseConfig(), func(t *testing.T) []byte {
			return wire(t, 150, func(a *Advert) { a.Addrs = nil })
		}, PacketInfo{Src: higher, TTL: 255}, ValidationError{Reason: ReasonAddrList, Got: 0, Want: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMachine(tt.cfg, local)
			if err != nil {
				t.Fatal(err)
			}
			m.Step(start(0))
			got := m.Step(Event{Kind: EventPacket, Now: at(time.Second), Data: tt.data(t), Info: tt.info})
			if diff := cmp.Diff([]Action{{Kind: ActionDrop, Drop: tt.want}}, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			// A dropped advert does not touch the Master_Down timer.
			if got := m.Deadline(); !got.Equal(at(mdi100)) {
				t.Errorf("Deadline = %v, want unchanged %v", got.Sub(t0), mdi100)
			}
			st := m.Stats()
			var want [NumReasons]uint64
			want[tt.want.Reason] = 1
			if diff := cmp.Diff(want, st.Dropped); diff != "" {
				t.Errorf("Dropped (-want +got):\n%s", diff)
			}
			if st.AdvertsReceived != 0 || st.DroppedTotal() != 1 {
				t.Errorf("AdvertsReceived = %d, DroppedTotal = %d; want 0, 1", st.AdvertsReceived, st.DroppedTotal())
			}
		})
	}
}

func TestMachineAcceptsValidVariants(t *testing.T) {
	auth := baseConfig()
	auth.AuthPass = "secret"
	unicast := baseConfig()
	unicast.UnicastPeers = []netip.Addr{higher}
	tests := []struct {
		name string
		cfg  Config
		ev   func(t *testing.T) Event
	}{
		{"password", auth, func(t *testing.T) Event {
			return pkt(t, time.Second, higher, 150, func(a *Advert) { a.AuthType = AuthSimple; a.AuthData = pass("secret") })
		}},
		{"unicast from a peer with a low TTL", unicast, func(t *testing.T) Event {
			ev := pkt(t, time.Second, higher, 150)
			ev.Info.TTL = 63
			return ev
		}},
		{"owner with another address list", baseConfig(), func(t *testing.T) Event {
			return pkt(t, time.Second, higher, 255, func(a *Advert) { a.Addrs = nil })
		}},
		{"ethernet padding", baseConfig(), func(t *testing.T) Event {
			ev := pkt(t, time.Second, higher, 150)
			ev.Data = append(ev.Data, make([]byte, 26)...)
			return ev
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMachine(tt.cfg, local)
			if err != nil {
				t.Fatal(err)
			}
			m.Step(start(0))
			if got := m.Step(tt.ev(t)); len(got) != 0 {
				t.Fatalf("actions %+v, want none", got)
			}
			if got, want := m.Deadline(), at(time.Second+mdi100); !got.Equal(want) {
				t.Errorf("Deadline = %v, want reset to %v", got.Sub(t0), time.Second+mdi100)
			}
			if st := m.Stats(); st.AdvertsReceived != 1 || st.DroppedTotal() != 0 {
				t.Errorf("stats %+v, want one received and none dropped", st)
			}
		})
	}
}

func TestMachineStats(t *testing.T) {
	cfg := baseConfig()
	m := runSteps(t, cfg, []step{
		{start(0), []Action{remove, trans(0, 100, StateInit, StateBackup, Cause{Kind: CauseStart})}, mdi100, StateBackup},
		{pkt(t, time.Second, higher, 0), nil, time.Second + skew100, StateBackup},
		{tick(time.Second + skew100), []Action{advert(100), add, garp5, trans(time.Second+skew100, 100, StateBackup, StateMaster, Cause{Kind: CausePriorityZero, From: higher})}, 2*time.Second + skew100, StateMaster},
		{stop(2 * time.Second), []Action{advert(0), remove, trans(2*time.Second, 100, StateMaster, StateStopped, Cause{Kind: CauseShutdown})}, none, StateStopped},
	})
	want := Stats{Instance: "VI_1", VRID: 1, State: StateStopped, AdvertsSent: 2, PriorityZeroSent: 1,
		AdvertsReceived: 1, PriorityZeroReceived: 1, Transitions: 3, BecameMaster: 1}
	if diff := cmp.Diff(want, m.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestCauseString(t *testing.T) {
	tests := []struct {
		c    Cause
		want string
	}{
		{Cause{Kind: CauseStart}, "startup"},
		{Cause{Kind: CauseOwner}, "address owner (priority 255)"},
		{Cause{Kind: CauseMasterDown}, "master down timer expired"},
		{Cause{Kind: CausePriorityZero, From: higher}, "priority 0 from 172.16.0.2"},
		{Cause{Kind: CausePreempt, Priority: 50, From: higher}, "preempting lower priority 50 from 172.16.0.2"},
		{Cause{Kind: CauseHigherPriority, Priority: 150, From: higher}, "higher priority 150 from 172.16.0.2"},
		{Cause{Kind: CauseHigherAddress, Priority: 100, From: higher}, "equal priority 100 from higher address 172.16.0.2"},
		{Cause{Kind: CauseInterfaceDown, Interface: "eth0"}, "interface eth0 down"},
		{Cause{Kind: CauseInterfaceUp, Interface: "eth0"}, "interface eth0 up"},
		{Cause{Kind: CauseShutdown}, "shutdown"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
	for s, want := range map[State]string{StateInit: "INIT", StateBackup: "BACKUP", StateMaster: "MASTER", StateFault: "FAULT", StateStopped: "STOP"} {
		if s.String() != want {
			t.Errorf("State %d = %q, want %q", s, s.String(), want)
		}
	}
}

func TestConfigNormalize(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"vrid 0", func(c *Config) { c.VRID = 0 }, "VRID"},
		{"no interface", func(c *Config) { c.Interface = "" }, "Interface"},
		{"no VIPs", func(c *Config) { c.VIPs = nil }, "VIPs"},
		{"IPv6 VIP in an IPv4 instance", func(c *Config) { c.VIPs = append(c.VIPs, netip.MustParsePrefix("2001:db8::1/64")) }, "VIPs"},
		{"IPv4 VIP in an IPv6 instance", func(c *Config) {
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64"), vip}
		}, "VIPs"},
		{"IPv4 VIP with IPv6 set", func(c *Config) { c.IPv6 = true }, "VIPs"},
		{"IPv6 with version 2", func(c *Config) {
			c.Version, c.VIPs = 2, []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")}
		}, "Version"},
		{"version 4", func(c *Config) { c.Version = 4 }, "Version"},
		{"v3 interval below a centisecond", func(c *Config) { c.Version, c.AdvertInterval = 3, 5*time.Millisecond }, "AdvertInterval"},
		{"v3 interval not whole centiseconds", func(c *Config) { c.Version, c.AdvertInterval = 3, 15*time.Millisecond }, "AdvertInterval"},
		{"v3 interval above 40.95s", func(c *Config) { c.Version, c.AdvertInterval = 3, 40960*time.Millisecond }, "AdvertInterval"},
		{"negative interval", func(c *Config) { c.AdvertInterval = -time.Second }, "AdvertInterval"},
		{"v2 interval in centiseconds", func(c *Config) { c.AdvertInterval = 10 * time.Millisecond }, "AdvertInterval"},
		{"auth with v3", func(c *Config) { c.Version, c.AuthPass = 3, "secret" }, "AuthPass"},
		{"IPv6 group in an IPv4 instance", func(c *Config) { c.Group = MulticastGroup6 }, "Group"},
		{"unicast group", func(c *Config) { c.Group = local }, "Group"},
		{"global IPv6 unicast source", func(c *Config) {
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")}
			c.UnicastSrc = netip.MustParseAddr("2001:db8::1")
			c.UnicastPeers = []netip.Addr{netip.MustParseAddr("fe80::2")}
		}, "UnicastSrc"},
		{"IPv4 unicast source in an IPv6 instance", func(c *Config) {
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")}
			c.UnicastSrc = local
			c.UnicastPeers = []netip.Addr{netip.MustParseAddr("fe80::2")}
		}, "UnicastSrc"},
		{"IPv4 peer in an IPv6 instance", func(c *Config) {
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")}
			c.UnicastPeers = []netip.Addr{higher}
		}, "UnicastPeers"},
		{"IPv6 group not link-local", func(c *Config) {
			c.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")}
			c.Group = netip.MustParseAddr("ff05::12")
		}, "Group"},
		{"fractional interval", func(c *Config) { c.AdvertInterval = 1500 * time.Millisecond }, "AdvertInterval"},
		{"long password", func(c *Config) { c.AuthPass = "123456789" }, "AuthPass"},
		{"negative preempt delay", func(c *Config) { c.PreemptDelay = -time.Second }, "PreemptDelay"},
		{"multicast peer", func(c *Config) { c.UnicastPeers = []netip.Addr{MulticastGroup} }, "UnicastPeers"},
		{"garp repeat", func(c *Config) { c.GARPRepeat = 256 }, "GARPRepeat"},
		{"lower-priority garp repeat", func(c *Config) { c.GARPLowerPrioRepeat = 256 }, "GARPLowerPrioRepeat"},
		{"empty tracked name", func(c *Config) { c.TrackInterfaces = []string{""} }, "TrackInterfaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig()
			tt.edit(&c)
			_, err := c.Normalize()
			fe, ok := err.(*FieldError)
			if !ok || fe.Field != tt.field {
				t.Fatalf("Normalize error = %v, want a FieldError for %s", err, tt.field)
			}
		})
	}
	got, err := Config{Interface: "eth1", VRID: 7, VIPs: []netip.Prefix{vip}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "VI_7", Interface: "eth1", VRID: 7, Priority: 100, Version: 2, VIPs: []netip.Prefix{vip}, VIPInterface: "eth1",
		AdvertInterval: time.Second, Group: MulticastGroup, GARPRepeat: 5, GARPDelay: 5 * time.Second, GARPRefreshRepeat: 1,
		GARPLowerPrioRepeat: 5, GARPLowerPrioDelay: 5 * time.Second}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	vip6 := netip.MustParsePrefix("2001:db8::100/64")
	got, err = Config{Interface: "eth1", VRID: 7, VIPs: []netip.Prefix{vip6}, AdvertInterval: 10 * time.Millisecond}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want.Version, want.IPv6, want.VIPs, want.AdvertInterval, want.Group = 3, true, []netip.Prefix{vip6}, 10*time.Millisecond, MulticastGroup6
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("IPv6 defaults (-want +got):\n%s", diff)
	}
	for _, iv := range []time.Duration{10 * time.Millisecond, 40950 * time.Millisecond, 1230 * time.Millisecond} {
		if _, err := (Config{Interface: "eth1", VRID: 7, Version: 3, VIPs: []netip.Prefix{vip}, AdvertInterval: iv}).Normalize(); err != nil {
			t.Errorf("v3 interval %v: %v", iv, err)
		}
	}
}

// FuzzMachinePacket feeds arbitrary bytes to a BACKUP and a MASTER: every
// packet is either accepted or dropped and counted, never both, never a
// panic.
func FuzzMachinePacket(f *testing.F) {
	f.Add(wire(f, 150), uint8(255))
	f.Add(wire(f, 0), uint8(255))
	f.Add(wire(f, 50), uint8(1))
	f.Add([]byte{0x21, 0x01}, uint8(255))
	f.Fuzz(func(t *testing.T, b []byte, ttl uint8) {
		for _, prio := range []uint8{100, 255} {
			cfg := baseConfig()
			cfg.Priority = prio
			m, err := NewMachine(cfg, local)
			if err != nil {
				t.Fatal(err)
			}
			m.Step(start(0))
			acts := m.Step(Event{Kind: EventPacket, Now: at(time.Second), Data: b, Info: PacketInfo{Src: higher, TTL: int(ttl)}})
			st := m.Stats()
			if st.AdvertsReceived+st.DroppedTotal() != 1 {
				t.Fatalf("received %d, dropped %d; want exactly one of them", st.AdvertsReceived, st.DroppedTotal())
			}
			if st.DroppedTotal() == 1 && (len(acts) != 1 || acts[0].Kind != ActionDrop || st.Dropped[acts[0].Drop.Reason] != 1) {
				t.Fatalf("drop not reported as one ActionDrop: %+v", acts)
			}
		}
	})
}

// TestSkipCheckAdvAddr follows keepalived's skip_check_adv_addr: a BACKUP
// checks the addresses of a router's first advert, and skips the check
// for later ones from the router it last adopted; without the setting,
// every advert is checked.
func TestSkipCheckAdvAddr(t *testing.T) {
	other := func(a *Advert) { a.Addrs = []netip.Addr{netip.MustParseAddr("192.168.0.101")} }
	for _, skip := range []bool{false, true} {
		cfg := baseConfig()
		cfg.SkipCheckAdvAddr = skip
		m, err := NewMachine(cfg, local)
		if err != nil {
			t.Fatal(err)
		}
		m.Step(start(0))
		dropped := func(ev Event) bool {
			acts := m.Step(ev)
			return len(acts) > 0 && acts[0].Kind == ActionDrop
		}
		if !dropped(pkt(t, time.Second, higher, 150, other)) {
			t.Errorf("skip=%v: a router's first advert with other addresses was accepted", skip)
		}
		if dropped(pkt(t, 2*time.Second, higher, 150)) {
			t.Errorf("skip=%v: a good advert was dropped", skip)
		}
		if got := dropped(pkt(t, 3*time.Second, higher, 150, other)); got == skip {
			t.Errorf("skip=%v: the adopted router's advert with other addresses dropped=%v", skip, got)
		}
		if !dropped(pkt(t, 4*time.Second, lower, 150, other)) {
			t.Errorf("skip=%v: another router's advert with other addresses was accepted", skip)
		}
	}
}

// TestGARPRefreshRepeat: each refresh sends GARPRefreshRepeat gratuitous
// ARPs per VIP (keepalived's garp_master_refresh_repeat), 1 by default.
func TestGARPRefreshRepeat(t *testing.T) {
	for _, rep := range []int{0, 3} {
		cfg := baseConfig()
		cfg.Priority = 150
		cfg.GARPRefresh = 10 * time.Second
		cfg.GARPRefreshRepeat = rep
		m, err := NewMachine(cfg, local)
		if err != nil {
			t.Fatal(err)
		}
		m.Step(start(0))
		var counts []int
		for now := time.Duration(0); now <= 25*time.Second; now += 100 * time.Millisecond {
			for _, a := range m.Step(Event{Kind: EventTimer, Now: at(now)}) {
				if a.Kind == ActionSendGARP && now > 10*time.Second { // after the second burst
					counts = append(counts, a.Count)
				}
			}
		}
		want := max(rep, 1)
		if len(counts) != 2 || counts[0] != want || counts[1] != want {
			t.Errorf("GARPRefreshRepeat %d: refresh bursts %v, want two of %d", rep, counts, want)
		}
	}
}

// TestStartupDelay: with keepalived's vrrp_startup_delay a BACKUP's
// Master_Down timer runs from the end of the delay at the earliest, an
// advert heard meanwhile rearming it from there too.
func TestStartupDelay(t *testing.T) {
	cfg := baseConfig()
	cfg.StartupDelay = 5 * time.Second
	m, err := NewMachine(cfg, local)
	if err != nil {
		t.Fatal(err)
	}
	m.Step(start(0))
	if got, want := m.Deadline(), at(5*time.Second+mdi100); !got.Equal(want) {
		t.Errorf("deadline at start %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	m.Step(pkt(t, 2*time.Second, higher, 150))
	if got, want := m.Deadline(), at(5*time.Second+mdi100); !got.Equal(want) {
		t.Errorf("deadline after an advert within the delay %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	m.Step(pkt(t, 7*time.Second, higher, 150))
	if got, want := m.Deadline(), at(7*time.Second+mdi100); !got.Equal(want) {
		t.Errorf("deadline after an advert past the delay %v, want %v", got.Sub(t0), want.Sub(t0))
	}
}
