package vrrp

import (
	"crypto/subtle"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is the state of a VRRP instance.
type State uint8

// States of an instance. StateStopped follows a shutdown.
const (
	StateInit State = iota
	StateBackup
	StateMaster
	StateFault
	StateStopped
)

var stateNames = [...]string{"INIT", "BACKUP", "MASTER", "FAULT", "STOP"}

// String returns the state as keepalived names it to notify programs.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "STATE(" + itoa(int(s)) + ")"
}

// CauseKind classifies why a transition happened.
type CauseKind uint8

// Causes of transitions.
const (
	CauseStart          CauseKind = iota // instance started, not the owner
	CauseOwner                           // priority 255: MASTER at once
	CauseMasterDown                      // no advertisement for Master_Down_Interval
	CausePriorityZero                    // the master resigned (priority 0 advert)
	CausePreempt                         // took over from a lower-priority master
	CauseHigherPriority                  // heard a higher priority
	CauseHigherAddress                   // heard an equal priority from a higher address
	CauseInterfaceDown                   // a tracked interface went down
	CauseInterfaceUp                     // all tracked interfaces are up again
	CauseShutdown                        // Stop
	CauseTrackFault                      // a tracked script or file with weight 0 failed (EventTrack)
	CauseTrackUp                         // tracking no longer holds the instance in FAULT
	CauseAddrDeleted                     // one of the MASTER's addresses was deleted (EventAddrDeleted)
	CauseNoSource                        // no source address: deleted and none left, or none at start (EventSource)
	CauseSourceBack                      // a source address is back (EventSource)
)

// Cause says why a transition happened.
type Cause struct {
	Kind      CauseKind
	Priority  uint8      // the advertised priority, for advert causes
	From      netip.Addr // the sender, for advert causes
	Interface string     // for interface causes, CauseAddrDeleted and the source causes
	Addr      netip.Addr // for CauseAddrDeleted and the source causes
}

// String renders the cause for logs, e.g. "higher priority 150 from 172.16.0.2".
func (c Cause) String() string {
	switch c.Kind {
	case CauseStart:
		return "startup"
	case CauseOwner:
		return "address owner (priority 255)"
	case CauseMasterDown:
		return "master down timer expired"
	case CausePriorityZero:
		return "priority 0 from " + c.From.String()
	case CausePreempt:
		return "preempting lower priority " + itoa(int(c.Priority)) + " from " + c.From.String()
	case CauseHigherPriority:
		return "higher priority " + itoa(int(c.Priority)) + " from " + c.From.String()
	case CauseHigherAddress:
		return "equal priority " + itoa(int(c.Priority)) + " from higher address " + c.From.String()
	case CauseInterfaceDown:
		return "interface " + c.Interface + " down"
	case CauseInterfaceUp:
		return "interface " + c.Interface + " up"
	case CauseShutdown:
		return "shutdown"
	case CauseTrackFault:
		return "tracking failed"
	case CauseTrackUp:
		return "tracking recovered"
	case CauseAddrDeleted:
		return "address " + c.Addr.String() + " deleted from " + c.Interface
	case CauseNoSource:
		if !c.Addr.IsValid() {
			return "no address on " + c.Interface + " to send from"
		}
		return "source address " + c.Addr.String() + " deleted from " + c.Interface + ", none left"
	case CauseSourceBack:
		return "source address " + c.Addr.String() + " on " + c.Interface
	}
	return "cause(" + itoa(int(c.Kind)) + ")"
}

// Transition is a change of state of one instance.
type Transition struct {
	Instance string
	VRID     uint8
	Priority uint8 // the instance's configured priority
	From, To State
	Cause    Cause
	At       time.Time
}

// EventKind says what happened.
type EventKind uint8

// Events fed to a Machine.
const (
	EventStart       EventKind = iota // start the instance
	EventStop                         // shut it down (priority 0 advert if MASTER)
	EventTimer                        // the deadline returned by Deadline has passed
	EventPacket                       // a VRRP packet arrived
	EventLink                         // a tracked interface changed state
	EventTrack                        // the tracked scripts and files changed (see Router.SetTracking)
	EventAddrDeleted                  // an address was deleted from an interface (see AddrWatcher)
	EventSource                       // the source address changed, went or came back (see AddrWatcher)
)

// PacketInfo is what the IP layer tells about a received packet.
type PacketInfo struct {
	Src, Dst netip.Addr
	TTL      int
	IfIndex  int
	// At is when the packet arrived (the kernel's receive timestamp
	// where the Conn has one); zero means "when read".
	At time.Time
}

// Event is one input to Machine.Step.
type Event struct {
	Kind EventKind
	Now  time.Time
	// EventPacket: the VRRP message (IP payload) and its metadata.
	Data []byte
	Info PacketInfo
	// EventLink: the interface and its new state. EventAddrDeleted: the
	// interface and the address. EventSource: the interface, and Up with
	// the new source address, or !Up with the one deleted.
	Interface string
	Up        bool
	Addr      netip.Addr
	// EventTrack: the effective priority (0: unchanged) and whether
	// tracking holds the instance in FAULT.
	Priority uint8
	Fault    bool
}

// ActionKind says what the caller must do.
type ActionKind uint8

// Actions returned by Machine.Step, to be carried out in order.
const (
	ActionSendAdvert    ActionKind = iota // send Machine.Advert(Priority)
	ActionAddVIPs                         // add the VIPs to the VIP interface
	ActionRemoveVIPs                      // remove them (idempotent)
	ActionSendGARP                        // send Count gratuitous ARPs for each VIP
	ActionTransition                      // report Transition
	ActionDrop                            // an advertisement was dropped: Drop says why
	ActionLowerPriority                   // as MASTER, an advert of lower priority was heard: Lower says from whom
	ActionSendExtraGARP                   // send a gratuitous ARP on each extra interface (Config.GARPExtraInterval)
)

// Action is one output of Machine.Step.
type Action struct {
	Kind       ActionKind
	Priority   uint8
	Count      int
	Transition Transition
	Drop       ValidationError
	Lower      LowerPriority
}

// LowerPriority is an advert of lower priority (or of equal priority from
// a lower address) that a MASTER heard: another router thinks it is
// MASTER too, as after a split brain (keepalived's
// notify_master_rx_lower_pri event).
type LowerPriority struct {
	Instance string
	VRID     uint8
	// Priority is the MASTER's own; Heard the advert's, From its source.
	Priority uint8
	Heard    uint8
	From     netip.Addr
	At       time.Time
}

// Stats are the counters of one instance.
type Stats struct {
	Instance             string
	VRID                 uint8
	State                State
	AdvertsSent          uint64 // adverts emitted, priority 0 included
	PriorityZeroSent     uint64
	AdvertsReceived      uint64 // valid adverts
	PriorityZeroReceived uint64
	Dropped              [NumReasons]uint64 // invalid adverts by reason
	Transitions          uint64
	BecameMaster         uint64
	LowerPriorityHeard   uint64 // adverts of lower priority heard as MASTER
	YieldAdverts         uint64 // last adverts sent when yielding to another master
	GARPSent             uint64 // gratuitous ARP frames sent (Router)
	SendErrors           uint64 // failed sends and address changes (Router)
	// OldUnicastChecksum: the instance computes keepalived's old unicast
	// checksum (see UnicastChecksum).
	OldUnicastChecksum bool
}

// DroppedTotal is the sum of Dropped.
func (s *Stats) DroppedTotal() uint64 {
	var n uint64
	for _, d := range s.Dropped {
		n += d
	}
	return n
}

// Machine is the pure VRRP state machine of one instance: it reads no
// clock, starts no goroutine and touches no socket. Feed it events with
// Step and carry out the returned actions in order; deliver EventTimer once
// Deadline has passed.
type Machine struct {
	cfg   Config
	local netip.Addr
	// masterSrc is the source of the last advert a BACKUP adopted or
	// ignored for preemption (keepalived's master_saddr).
	masterSrc netip.Addr
	startAt   time.Time // EventStart's time
	auth      AuthType
	pass      [8]byte
	vips      []netip.Addr
	tracked   []string
	linkUp    []bool
	ad        Advert
	rx        Advert

	// masterAdv is Master_Adver_Interval: for VRRPv3 the interval the
	// master advertises, adopted by a BACKUP (RFC 5798 section 6.4.2);
	// for VRRPv2 always ours.
	masterAdv time.Duration

	state        State
	masterDownAt time.Time
	downCause    Cause
	advertAt     time.Time
	garpAt       time.Time
	refreshAt    time.Time
	extraAt      time.Time // next GARPExtraInterval round
	lowerGARPAt  time.Time // second burst after a lower-priority advert
	preemptAt    time.Time

	actions []Action
	stats   Stats

	trackFault bool // EventTrack holds the instance in FAULT
	// noSource: EventSource holds the instance in FAULT, for srcCause.
	noSource bool
	srcCause Cause
	// oldChecksum: the adverts' checksum covers Group in place of the
	// destination (see UnicastChecksum).
	oldChecksum bool
}

// NewMachine returns a machine in StateInit for cfg. local is the source
// address of its adverts: the primary IPv4 address of cfg.Interface, its
// IPv6 link-local address, or cfg.UnicastSrc. It breaks priority ties and
// tells our own adverts. It returns a *FieldError for an invalid
// configuration or a local address of the other family.
func NewMachine(cfg Config, local netip.Addr) (*Machine, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	local = local.WithZone("")
	if local.Is6() != cfg.IPv6 || local.Is4In6() || (cfg.IPv6 && !local.IsLinkLocalUnicast()) {
		want := "IPv4"
		if cfg.IPv6 {
			want = "IPv6 link-local"
		}
		return nil, &FieldError{Field: "local address", Value: local.String(), Msg: "not " + want}
	}
	m := &Machine{cfg: cfg, local: local, tracked: cfg.tracked(), masterAdv: cfg.AdvertInterval}
	m.oldChecksum = cfg.oldChecksumApplies() && cfg.UnicastChecksum == UnicastChecksumOld
	m.linkUp = make([]bool, len(m.tracked))
	for i := range m.linkUp {
		m.linkUp[i] = true
	}
	if cfg.AuthPass != "" {
		m.auth = AuthSimple
		copy(m.pass[:], cfg.AuthPass)
	}
	for _, p := range cfg.VIPs {
		m.vips = append(m.vips, p.Addr())
	}
	m.ad = Advert{Version: cfg.Version, VRID: cfg.VRID, AuthType: m.auth, Interval: cfg.AdvertInterval,
		Addrs: m.vips, AuthData: m.pass}
	m.rx.Addrs = make([]netip.Addr, 0, 8)
	m.actions = make([]Action, 0, 8)
	m.stats.Instance, m.stats.VRID = cfg.Name, cfg.VRID
	return m, nil
}

// Config returns the normalized configuration.
func (m *Machine) Config() Config { return m.cfg }

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Stats returns the counters.
func (m *Machine) Stats() Stats { return m.stats }

// Tracked lists the interfaces whose state the machine follows.
func (m *Machine) Tracked() []string { return m.tracked }

// Advert returns the advertisement to send with the given priority. The
// result is reused by the next call.
func (m *Machine) Advert(priority uint8) *Advert {
	m.ad.Priority = priority
	return &m.ad
}

// Deadline returns when EventTimer is due, or the zero time when no timer
// runs.
func (m *Machine) Deadline() time.Time {
	switch m.state {
	case StateBackup:
		return m.masterDownAt
	case StateMaster:
		d := m.advertAt
		for _, t := range [...]time.Time{m.garpAt, m.refreshAt, m.lowerGARPAt, m.extraAt} {
			if !t.IsZero() && t.Before(d) {
				d = t
			}
		}
		return d
	}
	return time.Time{}
}

func (m *Machine) masterDownInterval() time.Duration {
	if m.cfg.Version == Version3 {
		return MasterDownIntervalV3(m.masterAdv, m.cfg.Priority)
	}
	return MasterDownInterval(m.cfg.AdvertInterval, m.cfg.Priority)
}

func (m *Machine) skewTime() time.Duration {
	if m.cfg.Version == Version3 {
		return SkewTimeV3(m.masterAdv, m.cfg.Priority)
	}
	return SkewTime(m.cfg.Priority)
}

// MasterAdverInterval returns the interval the Master_Down_Interval
// counts in: for VRRPv3 the one the current master advertises (ours
// until one is heard), for VRRPv2 ours.
func (m *Machine) MasterAdverInterval() time.Duration { return m.masterAdv }

// MasterDownInterval returns the Master_Down_Interval a BACKUP waits
// now: 3 * MasterAdverInterval plus the skew time.
func (m *Machine) MasterDownInterval() time.Duration { return m.masterDownInterval() }

// adopt takes the interval of an accepted VRRPv3 advert as
// Master_Adver_Interval (RFC 5798 section 6.4.2).
func (m *Machine) adopt(ad *Advert) {
	if m.cfg.Version == Version3 {
		m.masterAdv = ad.Interval
	}
}

// Step feeds one event and returns the actions to carry out, in order. The
// returned slice is valid until the next call.
func (m *Machine) Step(ev Event) []Action {
	m.actions = m.actions[:0]
	now := ev.Now
	switch ev.Kind {
	case EventStart:
		if m.state != StateInit {
			break
		}
		if m.cfg.PreemptDelay > 0 {
			m.preemptAt = now.Add(m.cfg.PreemptDelay)
		}
		m.startAt = now
		m.enter(now, Cause{Kind: CauseStart})
	case EventStop:
		if m.state == StateStopped {
			break
		}
		if m.state == StateMaster {
			m.send(0)
		}
		m.emit(Action{Kind: ActionRemoveVIPs})
		m.transition(now, StateStopped, Cause{Kind: CauseShutdown})
	case EventTimer:
		m.timer(now)
	case EventPacket:
		m.packet(now, ev.Data, ev.Info)
	case EventLink:
		m.link(now, ev.Interface, ev.Up)
	case EventTrack:
		m.track(now, ev.Priority, ev.Fault)
	case EventAddrDeleted:
		m.addrDeleted(now, ev.Interface, ev.Addr)
	case EventSource:
		m.source(now, ev.Interface, ev.Addr, ev.Up)
	}
	m.stats.State = m.state
	return m.actions
}

// enter leaves Init or Fault: FAULT while a tracked interface is down,
// MASTER for the owner, BACKUP otherwise.
func (m *Machine) enter(now time.Time, c Cause) {
	if i := m.firstDown(); i >= 0 {
		m.emit(Action{Kind: ActionRemoveVIPs})
		m.transition(now, StateFault, Cause{Kind: CauseInterfaceDown, Interface: m.tracked[i]})
		return
	}
	if m.trackFault {
		m.emit(Action{Kind: ActionRemoveVIPs})
		m.transition(now, StateFault, Cause{Kind: CauseTrackFault})
		return
	}
	if m.noSource {
		m.emit(Action{Kind: ActionRemoveVIPs})
		m.transition(now, StateFault, m.srcCause)
		return
	}
	if m.cfg.Priority == OwnerPriority {
		if c.Kind == CauseStart {
			c = Cause{Kind: CauseOwner}
		}
		m.becomeMaster(now, c)
		return
	}
	m.becomeBackup(now, c)
}

// addrDeleted handles the deletion of an address from an interface: when
// it is one of a MASTER's addresses there, not NoTrack, the instance
// resigns (priority 0 advert, addresses removed) and is BACKUP with a
// Master_Down timer of Skew_Time, so that it comes back at once, adding
// them again, unless another router takes over first; as keepalived's
// set_vrrp_backup (keepalived_netlink.c).
func (m *Machine) addrDeleted(now time.Time, ifname string, a netip.Addr) {
	if m.state != StateMaster || !m.cfg.tracksAddr(ifname, a) {
		return
	}
	m.send(0)
	m.emit(Action{Kind: ActionRemoveVIPs})
	m.transition(now, StateBackup, Cause{Kind: CauseAddrDeleted, Interface: ifname, Addr: a})
	m.masterDownAt = now.Add(m.skewTime())
	m.downCause = Cause{Kind: CauseMasterDown}
}

func (m *Machine) firstDown() int {
	for i, up := range m.linkUp {
		if !up {
			return i
		}
	}
	return -1
}

func (m *Machine) becomeMaster(now time.Time, c Cause) {
	m.send(m.cfg.Priority)
	m.emit(Action{Kind: ActionAddVIPs})
	m.emit(Action{Kind: ActionSendGARP, Count: m.cfg.GARPRepeat})
	m.advertAt = now.Add(m.cfg.AdvertInterval)
	m.garpAt, m.refreshAt = time.Time{}, time.Time{}
	if m.cfg.GARPDelay > 0 {
		m.garpAt = now.Add(m.cfg.GARPDelay)
	}
	if m.cfg.GARPRefresh > 0 {
		m.refreshAt = now.Add(m.cfg.GARPRefresh)
	}
	m.extraAt = time.Time{}
	if m.cfg.GARPExtraInterval > 0 && len(m.cfg.ExtraGARPs()) > 0 {
		m.extraAt = now.Add(m.cfg.GARPExtraInterval)
	}
	m.masterDownAt, m.preemptAt = time.Time{}, time.Time{}
	m.stats.BecameMaster++
	m.transition(now, StateMaster, c)
}

func (m *Machine) becomeBackup(now time.Time, c Cause) {
	m.emit(Action{Kind: ActionRemoveVIPs})
	m.masterDownAt = m.downFrom(now).Add(m.masterDownInterval())
	m.downCause = Cause{Kind: CauseMasterDown}
	m.advertAt, m.garpAt, m.refreshAt = time.Time{}, time.Time{}, time.Time{}
	m.transition(now, StateBackup, c)
}

func (m *Machine) transition(now time.Time, to State, c Cause) {
	from := m.state
	m.state = to
	if to != StateBackup {
		m.masterDownAt = time.Time{}
	}
	if to != StateMaster {
		m.advertAt, m.garpAt, m.refreshAt, m.lowerGARPAt, m.extraAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	}
	m.stats.Transitions++
	m.stats.State = to
	m.emit(Action{Kind: ActionTransition, Transition: Transition{
		Instance: m.cfg.Name, VRID: m.cfg.VRID, Priority: m.cfg.Priority,
		From: from, To: to, Cause: c, At: now,
	}})
}

func (m *Machine) send(priority uint8) {
	m.stats.AdvertsSent++
	if priority == 0 {
		m.stats.PriorityZeroSent++
	}
	m.emit(Action{Kind: ActionSendAdvert, Priority: priority})
}

func (m *Machine) emit(a Action) { m.actions = append(m.actions, a) }

func (m *Machine) timer(now time.Time) {
	switch m.state {
	case StateBackup:
		if !m.masterDownAt.IsZero() && !now.Before(m.masterDownAt) {
			m.becomeMaster(now, m.downCause)
		}
	case StateMaster:
		if !m.advertAt.IsZero() && !now.Before(m.advertAt) {
			m.send(m.cfg.Priority)
			m.advertAt = now.Add(m.cfg.AdvertInterval)
		}
		if !m.garpAt.IsZero() && !now.Before(m.garpAt) {
			m.emit(Action{Kind: ActionSendGARP, Count: m.cfg.GARPRepeat})
			m.garpAt = time.Time{}
		}
		if !m.refreshAt.IsZero() && !now.Before(m.refreshAt) {
			m.emit(Action{Kind: ActionSendGARP, Count: m.cfg.GARPRefreshRepeat})
			m.refreshAt = now.Add(m.cfg.GARPRefresh)
		}
		if !m.extraAt.IsZero() && !now.Before(m.extraAt) {
			m.emit(Action{Kind: ActionSendExtraGARP})
			m.extraAt = now.Add(m.cfg.GARPExtraInterval)
		}
		if !m.lowerGARPAt.IsZero() && !now.Before(m.lowerGARPAt) {
			if m.cfg.GARPLowerPrioRepeat > 0 {
				m.emit(Action{Kind: ActionSendGARP, Count: m.cfg.GARPLowerPrioRepeat})
			}
			m.lowerGARPAt = time.Time{}
		}
	}
}

func (m *Machine) drop(e ValidationError) {
	m.stats.Dropped[e.Reason]++
	m.emit(Action{Kind: ActionDrop, Drop: e})
}

// validate applies the receive checks of RFC 3768 section 7.1 (VRRPv2)
// or RFC 5798 section 7.1 (VRRPv3, IPv4 and IPv6) in order and leaves the
// decoded advertisement in m.rx.
func (m *Machine) validate(b []byte, info PacketInfo) (ValidationError, bool) {
	unicast := len(m.cfg.UnicastPeers) > 0
	src, dst := info.Src.WithZone(""), info.Dst.WithZone("")
	if src.Is6() != m.cfg.IPv6 || src.Is4In6() {
		want := uint64(4)
		if m.cfg.IPv6 {
			want = 6
		}
		return ValidationError{Reason: ReasonFamily, Got: 10 - want, Want: want}, false
	}
	if !unicast && info.TTL != 255 {
		return ValidationError{Reason: ReasonTTL, Got: uint64(info.TTL), Want: 255}, false
	}
	if len(b) > 0 && b[0]>>4 != m.cfg.Version {
		return ValidationError{Reason: ReasonVersion, Got: uint64(b[0] >> 4), Want: uint64(m.cfg.Version)}, false
	}
	if m.cfg.Version == Version3 && !dst.IsValid() {
		// The checksum covers the destination: multicast, or ours.
		dst = m.cfg.Group
		if unicast {
			dst = m.local
		}
	}
	err := m.rx.Unmarshal(b, Pseudo{Src: src, Dst: m.pseudoDst(dst)})
	var ve *ValidationError
	if errors.As(err, &ve) && ve.Reason == ReasonChecksum && !m.oldChecksum && m.cfg.UnicastChecksum == UnicastChecksumAuto &&
		m.cfg.oldChecksumApplies() && m.rx.Unmarshal(b, Pseudo{Src: src, Dst: m.cfg.Group}) == nil {
		// A peer computes keepalived's old unicast checksum: so do we
		// from now on, as keepalived does.
		m.oldChecksum, err = true, nil
		m.stats.OldUnicastChecksum = true
	}
	if err != nil {
		if errors.As(err, &ve) {
			return *ve, false
		}
		return ValidationError{Reason: ReasonFamily}, false
	}
	ad := &m.rx
	if ad.VRID != m.cfg.VRID {
		return ValidationError{Reason: ReasonVRID, Got: uint64(ad.VRID), Want: uint64(m.cfg.VRID)}, false
	}
	if m.cfg.Version == Version2 {
		if ad.AuthType != m.auth {
			return ValidationError{Reason: ReasonAuthType, Got: uint64(ad.AuthType), Want: uint64(m.auth)}, false
		}
		if m.auth == AuthSimple && subtle.ConstantTimeCompare(ad.AuthData[:], m.pass[:]) != 1 {
			return ValidationError{Reason: ReasonAuthPass}, false
		}
		// VRRPv3 does not check the interval: a BACKUP adopts the
		// master's.
		if ad.Interval != m.cfg.AdvertInterval {
			return ValidationError{Reason: ReasonInterval, Got: uint64(ad.Interval / time.Second), Want: uint64(m.cfg.AdvertInterval / time.Second)}, false
		}
	}
	if unicast {
		ok := false
		for _, p := range m.cfg.UnicastPeers {
			ok = ok || p == src
		}
		if !ok {
			return ValidationError{Reason: ReasonPeer}, false
		}
	}
	if src == m.local {
		return ValidationError{Reason: ReasonSelf}, false
	}
	skip := m.cfg.SkipCheckAdvAddr && m.state == StateBackup && src == m.masterSrc
	if ad.Priority != OwnerPriority && !skip && !sameSet(ad.Addrs, m.vips) {
		return ValidationError{Reason: ReasonAddrList, Got: uint64(len(ad.Addrs)), Want: uint64(len(m.vips))}, false
	}
	return ValidationError{}, true
}

// sameSet reports whether a and b have the same length and every element
// of a is in b: the same set, in any order, when neither repeats one.
func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (m *Machine) packet(now time.Time, b []byte, info PacketInfo) {
	if e, ok := m.validate(b, info); !ok {
		m.drop(e)
		return
	}
	ad := &m.rx
	m.stats.AdvertsReceived++
	if ad.Priority == 0 {
		m.stats.PriorityZeroReceived++
	}
	prio := m.cfg.Priority
	switch m.state {
	case StateBackup:
		switch {
		case ad.Priority == 0:
			m.masterDownAt = now.Add(m.skewTime())
			m.downCause = Cause{Kind: CausePriorityZero, From: info.Src}
		case m.cfg.NoPreempt || ad.Priority >= prio || m.preemptDelayed(now):
			if ad.Priority >= prio {
				m.preemptAt = time.Time{}
			}
			m.masterSrc = info.Src.WithZone("")
			m.adopt(ad)
			m.masterDownAt = m.downFrom(now).Add(m.masterDownInterval())
			m.downCause = Cause{Kind: CauseMasterDown}
		default:
			// Lower priority and preempt on: ignore it, so that the
			// Master_Down timer takes over.
			m.masterSrc = info.Src.WithZone("")
			m.downCause = Cause{Kind: CausePreempt, Priority: ad.Priority, From: info.Src}
		}
	case StateMaster:
		switch {
		case ad.Priority == 0:
			m.send(prio)
			m.advertAt = now.Add(m.cfg.AdvertInterval)
		case ad.Priority > prio:
			m.adopt(ad)
			m.yield()
			m.becomeBackup(now, Cause{Kind: CauseHigherPriority, Priority: ad.Priority, From: info.Src})
		case ad.Priority == prio && addrGreater(info.Src.WithZone(""), m.local):
			m.adopt(ad)
			m.yield()
			m.becomeBackup(now, Cause{Kind: CauseHigherAddress, Priority: ad.Priority, From: info.Src})
		default:
			m.lowerPriority(now, ad.Priority, info.Src)
		}
	}
}

// lowerPriority handles, as MASTER, an advert of lower priority (or of
// equal priority from a lower address): another router thinks it is
// MASTER, as after a split brain. As keepalived, stay MASTER, answer at
// once so that it steps down, and refresh the neighbours' caches, which
// may hold its MAC for the VIPs: a burst of gratuitous ARPs now and
// another after GARPLowerPrioDelay. One second burst is pending at a
// time: adverts heard meanwhile do not postpone it.
func (m *Machine) lowerPriority(now time.Time, heard uint8, from netip.Addr) {
	m.stats.LowerPriorityHeard++
	if !m.cfg.LowerPrioNoAdvert {
		m.send(m.cfg.Priority)
		m.advertAt = now.Add(m.cfg.AdvertInterval)
	}
	if m.cfg.GARPLowerPrioRepeat > 0 {
		m.emit(Action{Kind: ActionSendGARP, Count: m.cfg.GARPLowerPrioRepeat})
		if m.cfg.GARPLowerPrioDelay > 0 && m.lowerGARPAt.IsZero() {
			m.lowerGARPAt = now.Add(m.cfg.GARPLowerPrioDelay)
		}
	}
	// Reported after the answer, as keepalived runs its
	// notify_master_rx_lower_pri program.
	m.emit(Action{Kind: ActionLowerPriority, Lower: LowerPriority{Instance: m.cfg.Name, VRID: m.cfg.VRID,
		Priority: m.cfg.Priority, Heard: heard, From: from, At: now}})
}

// yield sends, as a MASTER giving way to another, one last advert at its
// own priority (see Config.NoYieldAdvert).
func (m *Machine) yield() {
	if !m.cfg.NoYieldAdvert {
		m.stats.YieldAdverts++
		m.send(m.cfg.Priority)
	}
}

// preemptDelayed reports whether preemption is still held back by
// PreemptDelay, starting the delay on the first lower-priority master.
func (m *Machine) preemptDelayed(now time.Time) bool {
	if m.cfg.PreemptDelay <= 0 {
		return false
	}
	if m.preemptAt.IsZero() {
		m.preemptAt = now.Add(m.cfg.PreemptDelay)
	}
	return now.Before(m.preemptAt)
}

func addrGreater(a, b netip.Addr) bool { return a.Compare(b) > 0 }

// downFrom is when a Master_Down timer armed at now starts to run: now, or
// the end of StartupDelay if that is later (keepalived's
// vrrp_init_instance_sands).
func (m *Machine) downFrom(now time.Time) time.Time {
	if end := m.startAt.Add(m.cfg.StartupDelay); m.cfg.StartupDelay > 0 && now.Before(end) {
		return end
	}
	return now
}

func (m *Machine) link(now time.Time, name string, up bool) {
	idx := -1
	for i, n := range m.tracked {
		if n == name {
			idx = i
		}
	}
	if idx < 0 || m.linkUp[idx] == up {
		return
	}
	m.linkUp[idx] = up
	switch {
	case !up && (m.state == StateBackup || m.state == StateMaster):
		if m.state == StateMaster {
			m.send(0)
		}
		m.emit(Action{Kind: ActionRemoveVIPs})
		m.transition(now, StateFault, Cause{Kind: CauseInterfaceDown, Interface: name})
	case up && m.state == StateFault && m.firstDown() < 0 && !m.trackFault && !m.noSource:
		m.enter(now, Cause{Kind: CauseInterfaceUp, Interface: name})
	}
}

// Reconfigure applies cfg to the running machine without leaving its
// state, as keepalived does on reload, and returns the actions to carry
// out (valid until the next call). The instance's identity cannot change
// in place: Name, VRID, Interface, VIPInterface, the tracked interfaces
// and UnicastSrc; a change to any of them is a *FieldError and nothing is
// applied. Everything else takes effect at once:
//
//   - a MASTER adds the new VIPs and sends gratuitous ARPs for them (the
//     caller removes the dropped ones; see Router.Reconfigure), and sends
//     an advertisement with the new priority, interval or password
//     straight away rather than a second later;
//   - a BACKUP given priority 255 becomes MASTER as the address owner;
//     otherwise its running master-down timer is kept and the next
//     advertisement heard restarts it with the new Master_Down_Interval;
//   - preemption, gratuitous ARP and unicast peer settings apply to what
//     comes next.
func (m *Machine) Reconfigure(now time.Time, cfg Config) ([]Action, error) {
	if err := Reconfigurable(m.cfg, cfg); err != nil {
		return nil, err
	}
	cfg, _ = cfg.Normalize()
	old := m.cfg

	m.actions = m.actions[:0]
	m.cfg = cfg
	m.auth, m.pass = AuthNone, [8]byte{}
	if cfg.AuthPass != "" {
		m.auth = AuthSimple
		copy(m.pass[:], cfg.AuthPass)
	}
	m.vips = nil // a new slice: the old one may still be read through an Advert
	for _, p := range cfg.VIPs {
		m.vips = append(m.vips, p.Addr())
	}
	m.ad = Advert{Version: cfg.Version, VRID: cfg.VRID, AuthType: m.auth, Interval: cfg.AdvertInterval,
		Addrs: m.vips, AuthData: m.pass}
	if m.state != StateBackup {
		m.masterAdv = cfg.AdvertInterval
	}

	switch m.state {
	case StateMaster:
		vipsChanged := !sameSet(old.Addresses(), cfg.Addresses())
		if vipsChanged {
			m.emit(Action{Kind: ActionAddVIPs})
			m.emit(Action{Kind: ActionSendGARP, Count: cfg.GARPRepeat})
		}
		if vipsChanged || cfg.Priority != old.Priority || cfg.AdvertInterval != old.AdvertInterval || cfg.AuthPass != old.AuthPass {
			m.send(cfg.Priority)
			m.advertAt = now.Add(cfg.AdvertInterval)
		}
		switch {
		case cfg.GARPRefresh <= 0:
			m.refreshAt = time.Time{}
		case cfg.GARPRefresh != old.GARPRefresh:
			m.refreshAt = now.Add(cfg.GARPRefresh)
		}
		switch {
		case cfg.GARPExtraInterval <= 0 || len(cfg.ExtraGARPs()) == 0:
			m.extraAt = time.Time{}
		case cfg.GARPExtraInterval != old.GARPExtraInterval || m.extraAt.IsZero():
			m.extraAt = now.Add(cfg.GARPExtraInterval)
		}
	case StateBackup:
		if cfg.Priority == OwnerPriority {
			m.becomeMaster(now, Cause{Kind: CauseOwner})
		}
	}
	m.stats.State = m.state
	return m.actions, nil
}

// Reconfigurable returns nil if an instance running with the configuration
// old can take next in place (see Machine.Reconfigure), and otherwise an
// error: next's own *FieldError, or one naming the first field of the
// instance's identity that differs.
func Reconfigurable(old, next Config) error {
	old, err := old.Normalize()
	if err != nil {
		return err
	}
	if next, err = next.Normalize(); err != nil {
		return err
	}
	fixed := func(field, got, was string) error {
		return &FieldError{Field: field, Value: got, Msg: "the running instance has " + strconv.Quote(was) + "; changing it needs a new instance"}
	}
	switch tracked, was := next.tracked(), old.tracked(); {
	case next.Name != old.Name:
		return fixed("Name", next.Name, old.Name)
	case next.VRID != old.VRID:
		return fixed("VRID", itoa(int(next.VRID)), itoa(int(old.VRID)))
	case next.Interface != old.Interface:
		return fixed("Interface", next.Interface, old.Interface)
	case next.VIPInterface != old.VIPInterface:
		return fixed("VIPInterface", next.VIPInterface, old.VIPInterface)
	case !slices.Equal(tracked, was):
		return fixed("TrackInterfaces", strings.Join(tracked, ","), strings.Join(was, ","))
	case next.UnicastSrc != old.UnicastSrc:
		return fixed("UnicastSrc", next.UnicastSrc.String(), old.UnicastSrc.String())
	case next.Version != old.Version:
		return fixed("Version", itoa(int(next.Version)), itoa(int(old.Version)))
	case next.IPv6 != old.IPv6:
		return fixed("IPv6", strconv.FormatBool(next.IPv6), strconv.FormatBool(old.IPv6))
	case next.Group != old.Group:
		return fixed("Group", next.Group.String(), old.Group.String())
	case vmacString(next.VMAC) != vmacString(old.VMAC):
		return fixed("VMAC", vmacString(next.VMAC), vmacString(old.VMAC))
	}
	return nil
}
