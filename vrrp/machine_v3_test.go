package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

var (
	ll     = netip.MustParseAddr("fe80::1")
	llHigh = netip.MustParseAddr("fe80::2")
	vip6   = netip.MustParsePrefix("fd00::100/64")
)

func v3Cfg(ipv6 bool, prio uint8, iv time.Duration) Config {
	c := baseConfig()
	c.Version, c.Priority, c.AdvertInterval = Version3, prio, iv
	if ipv6 {
		c.VIPs = []netip.Prefix{vip6}
	}
	return c
}

// pkt3 is a VRRPv3 advert from src to the group of its family, encoded
// with the matching pseudo-header, as it arrives.
func pkt3(t testing.TB, d time.Duration, src netip.Addr, prio uint8, iv time.Duration, edit ...func(*Advert, *PacketInfo)) Event {
	t.Helper()
	info := PacketInfo{Src: src, Dst: MulticastGroup, TTL: 255}
	a := Advert{Version: Version3, VRID: 1, Priority: prio, Interval: iv, Addrs: []netip.Addr{vip.Addr()}}
	if src.Is6() {
		info.Dst, a.Addrs = MulticastGroup6, []netip.Addr{vip6.Addr()}
	}
	for _, e := range edit {
		e(&a, &info)
	}
	b := make([]byte, MaxLen)
	n, err := a.MarshalTo(b, Pseudo{Src: info.Src, Dst: info.Dst})
	if err != nil {
		t.Fatal(err)
	}
	return Event{Kind: EventPacket, Now: at(d), Data: b[:n], Info: info}
}

func TestV3Timers(t *testing.T) {
	tests := []struct {
		iv         time.Duration
		prio       uint8
		skew, down time.Duration
	}{
		{10 * time.Millisecond, 100, 6093750 * time.Nanosecond, 36093750 * time.Nanosecond},
		{time.Second, 100, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{100 * time.Millisecond, 254, 781250 * time.Nanosecond, 300781250 * time.Nanosecond},
		{MaxIntervalV3, 1, 40790039062 * time.Nanosecond, 3*MaxIntervalV3 + 40790039062*time.Nanosecond},
	}
	for _, tt := range tests {
		if got := SkewTimeV3(tt.iv, tt.prio); got != tt.skew {
			t.Errorf("SkewTimeV3(%v, %d) = %v, want %v", tt.iv, tt.prio, got, tt.skew)
		}
		if got := MasterDownIntervalV3(tt.iv, tt.prio); got != tt.down {
			t.Errorf("MasterDownIntervalV3(%v, %d) = %v, want %v", tt.iv, tt.prio, got, tt.down)
		}
	}
}

// A VRRPv3 BACKUP counts Master_Down_Interval in the interval the master
// advertises, not its own (RFC 5798 section 6.4.2), for both families.
func TestMachineV3BackupAdoptsMasterInterval(t *testing.T) {
	for _, ipv6 := range []bool{false, true} {
		me, them := local, higher
		if ipv6 {
			me, them = ll, llHigh
		}
		m, err := NewMachine(v3Cfg(ipv6, 100, time.Second), me)
		if err != nil {
			t.Fatal(err)
		}
		m.Step(start(0))
		if got, want := m.Deadline(), at(3609375*time.Microsecond); !got.Equal(want) {
			t.Errorf("ipv6=%v: first deadline %v, want %v (own 1 s interval)", ipv6, got.Sub(t0), want.Sub(t0))
		}
		m.Step(pkt3(t, time.Second, them, 150, 10*time.Millisecond))
		if got := m.MasterAdverInterval(); got != 10*time.Millisecond {
			t.Errorf("ipv6=%v: Master_Adver_Interval %v, want the master's 10ms", ipv6, got)
		}
		if got, want := m.Deadline(), at(time.Second+36093750*time.Nanosecond); !got.Equal(want) {
			t.Errorf("ipv6=%v: deadline %v, want %v", ipv6, got.Sub(t0), want.Sub(t0))
		}
		// Priority 0: Skew_Time of the adopted interval.
		m.Step(pkt3(t, 1010*time.Millisecond, them, 0, 10*time.Millisecond))
		if got, want := m.Deadline(), at(1010*time.Millisecond+6093750*time.Nanosecond); !got.Equal(want) {
			t.Errorf("ipv6=%v: deadline after priority 0 %v, want %v", ipv6, got.Sub(t0), want.Sub(t0))
		}
		acts := m.Step(Event{Kind: EventTimer, Now: m.Deadline()})
		if m.State() != StateMaster || len(acts) == 0 || acts[0] != advert(100) {
			t.Errorf("ipv6=%v: after Skew_Time: state %v, actions %v", ipv6, m.State(), acts)
		}
		if st := m.Stats(); st.DroppedTotal() != 0 || st.AdvertsReceived != 2 {
			t.Errorf("ipv6=%v: stats %+v", ipv6, st)
		}
	}
}

// A MASTER that yields to a higher priority takes its interval; a BACKUP
// that ignores a lower-priority master (to preempt it) does not.
func TestMachineV3AdoptsOnlyFromTheMaster(t *testing.T) {
	m, err := NewMachine(v3Cfg(false, 100, 100*time.Millisecond), local)
	if err != nil {
		t.Fatal(err)
	}
	m.Step(start(0))
	m.Step(pkt3(t, 10*time.Millisecond, lower, 50, 2*time.Second))
	if got := m.MasterAdverInterval(); got != 100*time.Millisecond {
		t.Errorf("after a lower priority: Master_Adver_Interval %v, want ours 100ms", got)
	}
	m.Step(Event{Kind: EventTimer, Now: m.Deadline()})
	if m.State() != StateMaster {
		t.Fatalf("state %v, want MASTER by preemption", m.State())
	}
	m.Step(pkt3(t, time.Second, higher, 200, 50*time.Millisecond))
	if m.State() != StateBackup || m.MasterAdverInterval() != 50*time.Millisecond {
		t.Errorf("state %v, Master_Adver_Interval %v; want BACKUP and 50ms", m.State(), m.MasterAdverInterval())
	}
	if got, want := m.Deadline(), at(time.Second+MasterDownIntervalV3(50*time.Millisecond, 100)); !got.Equal(want) {
		t.Errorf("deadline %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	// Its own adverts keep its own interval.
	if got := m.Advert(100).Interval; got != 100*time.Millisecond {
		t.Errorf("own advert interval %v, want 100ms", got)
	}
}

// The receive checks of RFC 5798 section 7.1, for IPv4 and IPv6, each
// with its typed reason and counter.
func TestMachineV3ReceiveChecks(t *testing.T) {
	type edit = func(*Advert, *PacketInfo)
	tests := []struct {
		name    string
		unicast bool
		edit    edit
		want    Reason // ReasonNone: accepted
	}{
		{"good", false, func(*Advert, *PacketInfo) {}, ReasonNone},
		{"another interval is accepted", false, func(a *Advert, _ *PacketInfo) { a.Interval = 3 * time.Second }, ReasonNone},
		{"hop limit 254", false, func(_ *Advert, i *PacketInfo) { i.TTL = 254 }, ReasonTTL},
		{"hop limit 64 in unicast", true, func(_ *Advert, i *PacketInfo) { i.TTL = 64 }, ReasonNone},
		{"version 2", false, func(a *Advert, i *PacketInfo) {
			a.Version, a.Interval = Version2, time.Second
			if i.Src.Is6() {
				a.Addrs = []netip.Addr{vip.Addr()}
			}
		}, ReasonVersion},
		{"VRID 2", false, func(a *Advert, _ *PacketInfo) { a.VRID = 2 }, ReasonVRID},
		{"other address list", false, func(a *Advert, i *PacketInfo) {
			a.Addrs = append(a.Addrs, a.Addrs[0].Next())
		}, ReasonAddrList},
		{"from a non-peer in unicast", true, func(_ *Advert, i *PacketInfo) { i.Src = i.Src.Next() }, ReasonPeer},
	}
	for _, ipv6 := range []bool{false, true} {
		me, them := local, higher
		if ipv6 {
			me, them = ll, llHigh
		}
		for _, tt := range tests {
			t.Run(familyOf(ipv6)+"/"+tt.name, func(t *testing.T) {
				cfg := v3Cfg(ipv6, 100, time.Second)
				if tt.unicast {
					cfg.UnicastPeers = []netip.Addr{them}
				}
				m, err := NewMachine(cfg, me)
				if err != nil {
					t.Fatal(err)
				}
				m.Step(start(0))
				acts := m.Step(pkt3(t, time.Second, them, 150, time.Second, func(a *Advert, i *PacketInfo) {
					if tt.unicast {
						i.Dst = me
					}
					tt.edit(a, i)
				}))
				checkDrop(t, m, acts, tt.want)
			})
		}
		t.Run(familyOf(ipv6)+"/checksum over another source", func(t *testing.T) {
			m, _ := NewMachine(v3Cfg(ipv6, 100, time.Second), me)
			m.Step(start(0))
			ev := pkt3(t, time.Second, them, 150, time.Second)
			ev.Info.Src = ev.Info.Src.Next() // the pseudo-header no longer matches
			checkDrop(t, m, m.Step(ev), ReasonChecksum)
		})
		t.Run(familyOf(ipv6)+"/our own advert", func(t *testing.T) {
			m, _ := NewMachine(v3Cfg(ipv6, 100, time.Second), me)
			m.Step(start(0))
			checkDrop(t, m, m.Step(pkt3(t, time.Second, me, 150, time.Second)), ReasonSelf)
		})
		t.Run(familyOf(ipv6)+"/packet of the other family", func(t *testing.T) {
			other := higher
			if !ipv6 {
				other = llHigh
			}
			m, _ := NewMachine(v3Cfg(ipv6, 100, time.Second), me)
			m.Step(start(0))
			checkDrop(t, m, m.Step(pkt3(t, time.Second, other, 150, time.Second)), ReasonFamily)
		})
		t.Run(familyOf(ipv6)+"/truncated", func(t *testing.T) {
			m, _ := NewMachine(v3Cfg(ipv6, 100, time.Second), me)
			m.Step(start(0))
			ev := pkt3(t, time.Second, them, 150, time.Second)
			ev.Data = ev.Data[:len(ev.Data)-1]
			checkDrop(t, m, m.Step(ev), ReasonLength)
		})
	}
}

func familyOf(ipv6 bool) string {
	if ipv6 {
		return "ipv6"
	}
	return "ipv4"
}

func checkDrop(t *testing.T, m *Machine, acts []Action, want Reason) {
	t.Helper()
	st := m.Stats()
	if want == ReasonNone {
		if st.AdvertsReceived != 1 || st.DroppedTotal() != 0 {
			t.Errorf("accepted %d, dropped %v; want it accepted", st.AdvertsReceived, st.Dropped)
		}
		return
	}
	if st.AdvertsReceived != 0 || st.Dropped[want] != 1 || st.DroppedTotal() != 1 {
		t.Errorf("accepted %d, dropped %v; want one drop for %v", st.AdvertsReceived, st.Dropped, want)
	}
	if len(acts) != 1 || acts[0].Kind != ActionDrop || acts[0].Drop.Reason != want {
		t.Errorf("actions %+v, want one ActionDrop for %v", acts, want)
	}
}

// NewMachine refuses a local address of the other family, or a global
// IPv6 one (adverts come from the link-local address).
func TestNewMachineV3LocalAddress(t *testing.T) {
	for _, tt := range []struct {
		ipv6  bool
		local netip.Addr
	}{
		{false, ll},
		{true, local},
		{true, netip.MustParseAddr("fd00::1")},
	} {
		if _, err := NewMachine(v3Cfg(tt.ipv6, 100, time.Second), tt.local); err == nil {
			t.Errorf("ipv6=%v local %v: no error", tt.ipv6, tt.local)
		}
	}
}
