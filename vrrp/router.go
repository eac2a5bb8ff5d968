package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Conn carries VRRP messages (IP payloads) on one interface. Open provides
// one over a raw IP socket; tests provide an in-memory one.
type Conn interface {
	// ReadFrom reads one VRRP message into b. It returns an error once the
	// Conn is closed.
	ReadFrom(b []byte) (int, PacketInfo, error)
	// WriteTo sends b to dst, IPv4 or IPv6, with IP TTL (hop limit) 255.
	// A valid src selects the source address (unicast mode, VRRPv3,
	// IPv6); otherwise the system chooses the interface's primary
	// address.
	WriteTo(b []byte, src, dst netip.Addr) error
	Close() error
}

// LinkEvent reports the state of an interface.
type LinkEvent struct {
	Interface string
	Up        bool
}

// Host is what an instance changes and watches on its system besides the
// advertisements: addresses, gratuitous ARP and link states.
type Host interface {
	// PrimaryAddr returns the source address of the adverts of an
	// instance whose VIPs are exclude: for IPv4 VIPs the first IPv4
	// address of ifname that is not one of them, for IPv6 VIPs the
	// link-local address of ifname.
	PrimaryAddr(ifname string, exclude []netip.Prefix) (netip.Addr, error)
	// AddVIPs adds the addresses, each to its interface with its
	// attributes; present ones are kept.
	AddVIPs(addrs []Address) error
	// RemoveVIPs removes the addresses from their interfaces; absent ones
	// are fine.
	RemoveVIPs(addrs []Address) error
	// SendGARP sends count gratuitous ARP requests for each IPv4 VIP, or
	// count unsolicited neighbour advertisements for each IPv6 VIP, out of
	// ifname and returns how many frames went out.
	SendGARP(ifname string, vips []netip.Prefix, count int) (int, error)
	// WatchLinks returns the current state of each named interface, in
	// order, and a channel of later changes, until ctx is done.
	WatchLinks(ctx context.Context, names []string) ([]bool, <-chan LinkEvent, error)
}

// AddrWatcher is a Host that reports the addresses added to and deleted
// from its interfaces. With one, a MASTER whose address is deleted by
// someone else resigns and comes back at once, adding it again, as
// keepalived does (see AddrOptions.NoTrack), and the adverts' source
// follows the interface's addresses, unless configured (UnicastSrc): when
// none is left the instance is FAULT until one is added.
type AddrWatcher interface {
	// WatchAddrs returns the changes from now until ctx is done.
	WatchAddrs(ctx context.Context) (<-chan AddrEvent, error)
}

// AddrEvent is an address deleted from an interface or, with Added,
// added to it (or its flags changed, as when IPv6 duplicate address
// detection ends).
type AddrEvent struct {
	Interface string
	Addr      netip.Addr
	Added     bool
}

// Options tune a Router. A nil *Options means defaults.
type Options struct {
	// OnTransition is called from the Router's loop for each transition,
	// in order. It must not block.
	OnTransition func(Transition)
	// OnLowerPriority is called from the Router's loop when an instance,
	// as MASTER, hears an advert of lower priority (keepalived's
	// notify_master_rx_lower_pri), after its answer is sent. It must not
	// block.
	OnLowerPriority func(LowerPriority)
	// BeforeAddVIPs, if set, is called from the Router's loop right
	// before an instance's addresses are added (it becomes MASTER, or a
	// MASTER's addresses changed on Reconfigure), and AfterRemoveVIPs
	// right after they are removed, with the instance's name: a firewall
	// can so hold the addresses before they are usable and until they
	// are gone, as keepalived fills its nftables set (vrrp.c,
	// vrrp_handle_accept_mode). They must not block for long.
	BeforeAddVIPs, AfterRemoveVIPs func(instance string)
	// GARPGroups pace the gratuitous ARPs and neighbour advertisements
	// on their interfaces (see GARPGroup); an interface is in one group
	// at most.
	GARPGroups []GARPGroup
	// Logger receives transitions (Info), dropped adverts (Debug) and
	// failures (Warn). Default: no logging.
	Logger *slog.Logger
	// AwaitTracking names instances whose tracked objects (scripts,
	// files, weighted interfaces: what SetTracking carries) are known
	// only to the caller: Run starts none of its instances until
	// SetTracking has given each of these its state, so that one whose
	// objects are already failed starts in FAULT (INIT to FAULT) and one
	// with a weighted priority starts with it, as keepalived starts its
	// instances. Run waits at most AwaitTrackingLimit, then starts them
	// with what it has. Names of instances Run does not run are ignored.
	AwaitTracking []string
	// NetNS is a file descriptor of the network namespace Open works in
	// (as from github.com/vishvananda/netns); 0 means the namespace of the
	// calling thread. Open neither takes ownership of it nor needs it after
	// returning. New ignores it.
	NetNS int
}

// RouterStats are the counters of a Router.
type RouterStats struct {
	Instances []Stats
	// Unmatched counts packets no instance's VRID matched (only when the
	// Router runs several instances).
	Unmatched uint64
}

type instance struct {
	m     *Machine
	cfg   Config
	local netip.Addr // source of the adverts
	src   netip.Addr // source passed to WriteTo, or invalid: the system's choice
	tx    Stats      // GARPSent and SendErrors
	buf   []byte
}

// key identifies an instance on an interface: IPv4 and IPv6 have separate
// VRID spaces (RFC 5798 section 5.2.3).
type key struct {
	ipv6 bool
	vrid uint8
}

func (in *instance) key() key { return key{in.cfg.IPv6, in.cfg.VRID} }

// Router runs VRRP instances that share one advertisement interface.
type Router struct {
	conn  Conn
	host  Host
	opts  Options
	log   *slog.Logger
	insts []*instance

	mu        sync.Mutex
	stats     []Stats
	unmatched uint64
	ran       bool
	closeOnce sync.Once
	closeErr  error
	closers   []func() error
	// onStop run when Run returns, after the instances have stopped
	// (Open's: removing the VMACs, as keepalived at its stop).
	onStop []func() error
	// vmacNames maps the VMAC names asked for to those Open used, where
	// they differ.
	vmacNames map[string]string

	reconf chan reconfReq
	track  chan trackReq
	// removed counts the addresses a reconfigured MASTER removed and
	// still keeps (a new label, say): their deletion is not someone
	// else's. Only Run's goroutine uses it.
	removed  map[AddrEvent]int
	loopDone chan struct{} // closed when Run's loop has ended
	garps    garpPacer     // Run's goroutine only
}

type reconfReq struct {
	cfgs []Config
	done chan error
}

// New returns a Router for the instances in cfgs over an existing Conn and
// Host. All instances must use the same Interface; IPv4 and IPv6 instances
// may be mixed, and the VRIDs of one family must be distinct. It returns a
// *FieldError for an invalid configuration.
func New(cfgs []Config, conn Conn, host Host, opts *Options) (*Router, error) {
	if len(cfgs) == 0 {
		return nil, &FieldError{Field: "instances", Msg: "none configured"}
	}
	r := &Router{conn: conn, host: host, reconf: make(chan reconfReq), track: make(chan trackReq), loopDone: make(chan struct{})}
	if opts != nil {
		r.opts = *opts
	}
	r.log = r.opts.Logger
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	grouped := map[string]bool{}
	for _, g := range r.opts.GARPGroups {
		if g.GARPInterval < 0 || g.GNAInterval < 0 {
			return nil, &FieldError{Field: "GARPGroups", Value: g.GARPInterval.String() + "/" + g.GNAInterval.String(), Msg: "negative interval"}
		}
		for _, n := range g.Interfaces {
			if grouped[n] {
				return nil, &FieldError{Field: "GARPGroups", Value: n, Msg: "interface in two groups"}
			}
			grouped[n] = true
		}
	}
	r.garps.groups = r.opts.GARPGroups
	seen := map[key]bool{}
	for i, c := range cfgs {
		c, err := c.Normalize()
		if err != nil {
			return nil, fmt.Errorf("instance %d: %w", i, err)
		}
		if c.Interface != cfgs[0].Interface {
			return nil, &FieldError{Field: "Interface", Value: c.Interface, Msg: "differs from " + cfgs[0].Interface + " (use one Router per interface)"}
		}
		if first, _ := cfgs[0].Normalize(); c.advertInterface() != first.advertInterface() {
			return nil, &FieldError{Field: "VMAC", Value: c.advertInterface(), Msg: "adverts on another interface than " + first.advertInterface() + " (use one Router per VMAC)"}
		}
		if k := (key{c.IPv6, c.VRID}); seen[k] {
			return nil, &FieldError{Field: "VRID", Value: itoa(int(c.VRID)), Msg: "configured twice for one address family"}
		} else {
			seen[k] = true
		}
		local := c.UnicastSrc
		noSource := false
		if !local.IsValid() {
			local, err = host.PrimaryAddr(c.Interface, slices.Concat(c.VIPs, c.ExcludedVIPs))
			if _, watch := host.(AddrWatcher); watch && errors.Is(err, ErrNoAddress) {
				// FAULT until the interface has an address, as
				// keepalived's "no IPv4 address for interface"; the
				// unspecified (link-local) address stands in meanwhile.
				noSource, local, err = true, netip.IPv4Unspecified(), nil
				if c.IPv6 {
					local = netip.MustParseAddr("fe80::")
				}
			}
			if err != nil {
				return nil, fmt.Errorf("vrrp: primary address of %s: %w", c.Interface, err)
			}
		}
		m, err := NewMachine(c, local)
		if err != nil {
			return nil, err
		}
		in := &instance{m: m, cfg: m.Config(), local: local.WithZone(""), src: c.UnicastSrc, buf: make([]byte, MaxLen)}
		if noSource {
			m.Step(Event{Kind: EventSource, Interface: c.Interface})
		}
		if c.Version == Version3 || c.IPv6 || c.advertInterface() != c.Interface {
			// The VRRPv3 checksum covers the source: choose it. A VMAC
			// has no address of its own but the VIPs: the adverts come
			// from the base interface's, as keepalived sends them.
			in.src = in.local
		}
		r.insts = append(r.insts, in)
		r.stats = append(r.stats, m.Stats())
	}
	return r, nil
}

// Stats returns a snapshot of the counters. It is safe to call from any
// goroutine.
func (r *Router) Stats() RouterStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RouterStats{Instances: append([]Stats(nil), r.stats...), Unmatched: r.unmatched}
}

type received struct {
	data []byte
	info PacketInfo
	at   time.Time
}

// Run starts the instances and runs them until ctx is done; then it stops
// them (priority 0 advert from a MASTER, VIPs removed) and returns nil. It
// returns early with an error if the Conn fails. Run can be called once; it
// closes the Conn when it returns.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ran {
		r.mu.Unlock()
		return errors.New("vrrp: Router.Run called twice")
	}
	r.ran = true
	r.mu.Unlock()
	defer func() {
		for _, f := range r.onStop {
			if err := f(); err != nil {
				r.log.Warn("vrrp: stop", "err", err)
			}
		}
	}()
	defer func() {
		select {
		case <-r.loopDone:
		default: // Run failed before its loop
			close(r.loopDone)
		}
	}()

	// The instances' next deadline. Reset and Stop leave no stale firing
	// in the channel.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	linkCtx, cancelLinks := context.WithCancel(ctx)
	defer cancelLinks()
	var names []string
	for _, in := range r.insts {
		for _, n := range in.m.Tracked() {
			names = appendUnique(names, n)
		}
	}
	initial, links, err := r.host.WatchLinks(linkCtx, names)
	if err != nil {
		r.conn.Close()
		return fmt.Errorf("vrrp: watching interfaces: %w", err)
	}
	var addrs <-chan AddrEvent
	if w, ok := r.host.(AddrWatcher); ok {
		if addrs, err = w.WatchAddrs(linkCtx); err != nil {
			r.conn.Close()
			return fmt.Errorf("vrrp: watching addresses: %w", err)
		}
	}
	now := time.Now()
	for i, n := range names {
		if i < len(initial) && !initial[i] {
			for _, in := range r.insts {
				in.m.Step(Event{Kind: EventLink, Now: now, Interface: n, Up: false})
			}
		}
	}

	pkts := make(chan received, 8)
	readErr := make(chan error, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		// A ring of buffers, one more than the channel and the loop can
		// hold: a packet is read into a buffer nobody uses any more, and
		// no buffer is allocated per packet.
		ring := make([][MaxLen]byte, cap(pkts)+2)
		for i := 0; ; i = (i + 1) % len(ring) {
			n, info, err := r.conn.ReadFrom(ring[i][:])
			if err != nil {
				readErr <- err
				return
			}
			at := info.At
			if at.IsZero() {
				at = time.Now()
			}
			select {
			case pkts <- received{ring[i][:n], info, at}:
			case <-linkCtx.Done():
				return
			}
		}
	}()

	if r.awaitTracking(ctx) {
		for _, in := range r.insts {
			r.step(in, Event{Kind: EventStart, Now: time.Now()})
		}
	}
	var runErr error
	// now is when the last event was handled: one clock reading per turn.
	now = time.Now()
loop:
	for {
		next := r.garps.deadline()
		for _, in := range r.insts {
			if d := in.m.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			break loop
		case err := <-readErr:
			runErr = fmt.Errorf("vrrp: reading adverts: %w", err)
			break loop
		case p := <-pkts:
			r.receive(p)
			now = time.Now()
		case req := <-r.reconf:
			req.done <- r.reconfigure(req.cfgs)
			now = time.Now()
		case req := <-r.track:
			req.done <- r.setTracking(req)
			now = time.Now()
		case ev, ok := <-links:
			now = time.Now()
			if !ok {
				links = nil
				continue
			}
			for _, in := range r.insts {
				r.step(in, Event{Kind: EventLink, Now: now, Interface: ev.Interface, Up: ev.Up})
			}
		case ev, ok := <-addrs:
			now = time.Now()
			if !ok {
				addrs = nil
				continue
			}
			if r.removed[ev] > 0 {
				if r.removed[ev]--; r.removed[ev] == 0 {
					delete(r.removed, ev)
				}
				continue
			}
			for _, in := range r.insts {
				if !ev.Added {
					r.step(in, Event{Kind: EventAddrDeleted, Now: now, Interface: ev.Interface, Addr: ev.Addr})
				}
				r.followSource(in, ev, now)
			}
		case <-timer.C:
			// An advert that arrived before the deadline but is still
			// queued (the select picks among ready cases at random, and a
			// descheduled process finds both ready) counts first: it
			// restarts the timer from its arrival.
			for drained := false; !drained; {
				select {
				case p := <-pkts:
					r.receive(p)
				default:
					drained = true
				}
			}
			now = time.Now()
			for _, in := range r.insts {
				if d := in.m.Deadline(); !d.IsZero() && !now.Before(d) {
					r.step(in, Event{Kind: EventTimer, Now: now})
				}
			}
			r.garps.send(now, r.host, r.fail)
		}
	}
	close(r.loopDone)
	for _, in := range r.insts {
		r.step(in, Event{Kind: EventStop, Now: time.Now()})
	}
	cancelLinks()
	r.conn.Close()
	<-readDone
	return runErr
}

// ErrNotRunning is returned by Router.Reconfigure when Run is not running.
var ErrNotRunning = errors.New("vrrp: router not running")

// Reconfigure applies new configurations to the running instances, as on
// keepalived's reload, without leaving their states (see
// Machine.Reconfigure). cfgs must hold one configuration per running
// instance, matched by VRID. Every one is checked before any is applied: an
// instance added or removed, or an identity change (Reconfigurable), is an
// error and changes nothing. A MASTER whose VIPs changed removes the
// dropped ones, adds the new ones and sends gratuitous ARPs for them. It
// is safe to call from any goroutine; called before Run it waits for Run's
// loop, and once Run's loop has ended it returns ErrNotRunning.
func (r *Router) Reconfigure(ctx context.Context, cfgs []Config) error {
	done := make(chan error, 1)
	select {
	case r.reconf <- reconfReq{cfgs, done}:
		return <-done
	case <-r.loopDone:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reconfigure runs in Run's loop.
func (r *Router) reconfigure(cfgs []Config) error {
	if len(cfgs) != len(r.insts) {
		return &FieldError{Field: "instances", Value: itoa(len(cfgs)), Msg: "differs from the " + itoa(len(r.insts)) + " running; adding or removing one needs a new router"}
	}
	next := make([]Config, len(r.insts))
	for _, c := range cfgs {
		n, err := c.Normalize()
		if err != nil {
			return err
		}
		k := key{n.IPv6, n.VRID}
		i := slices.IndexFunc(r.insts, func(in *instance) bool { return in.key() == k })
		if i < 0 {
			return &FieldError{Field: "VRID", Value: itoa(int(c.VRID)), Msg: "not running here; adding an instance needs a new router"}
		}
		if next[i].VRID != 0 {
			return &FieldError{Field: "VRID", Value: itoa(int(c.VRID)), Msg: "configured twice"}
		}
		c = r.vmacAsRunning(n, r.insts[i].cfg)
		if err := Reconfigurable(r.insts[i].cfg, c); err != nil {
			return fmt.Errorf("instance %s: %w", r.insts[i].cfg.Name, err)
		}
		next[i], _ = c.Normalize()
	}
	now := time.Now()
	for i, in := range r.insts {
		old := in.cfg
		if in.m.State() == StateMaster {
			var gone []Address
			for _, a := range old.Addresses() {
				if !slices.Contains(next[i].Addresses(), a) {
					gone = append(gone, a)
				}
			}
			if len(gone) > 0 {
				for _, a := range gone {
					if slices.ContainsFunc(next[i].Addresses(), func(b Address) bool { return b.Prefix.Addr() == a.Prefix.Addr() && b.Interface == a.Interface }) {
						if r.removed == nil {
							r.removed = map[AddrEvent]int{}
						}
						r.removed[AddrEvent{Interface: a.Interface, Addr: a.Prefix.Addr()}]++
					}
				}
				if err := r.host.RemoveVIPs(gone); err != nil {
					r.fail(in, "remove VIPs", err)
				}
			}
		}
		actions, err := in.m.Reconfigure(now, next[i])
		if err != nil { // checked above
			return fmt.Errorf("instance %s: %w", old.Name, err)
		}
		in.cfg = in.m.Config()
		for _, a := range actions {
			r.do(in, a)
		}
		r.publish(in)
		r.log.Info("vrrp: reconfigured", "instance", in.cfg.Name, "vrid", in.cfg.VRID,
			"state", in.m.State().String(), "priority", in.cfg.Priority)
	}
	return nil
}

func (r *Router) receive(p received) {
	now := p.at
	if len(r.insts) == 1 {
		r.step(r.insts[0], Event{Kind: EventPacket, Now: now, Data: p.data, Info: p.info})
		return
	}
	if len(p.data) >= 2 {
		ipv6 := p.info.Src.Is6() && !p.info.Src.Is4In6()
		for _, in := range r.insts {
			if in.key() == (key{ipv6, p.data[1]}) {
				r.step(in, Event{Kind: EventPacket, Now: now, Data: p.data, Info: p.info})
				return
			}
		}
	}
	r.mu.Lock()
	r.unmatched++
	r.mu.Unlock()
	r.log.Debug("vrrp: advert for no configured VRID", "src", p.info.Src, "len", len(p.data))
}

func (r *Router) step(in *instance, ev Event) {
	old := in.m.OldUnicastChecksum()
	for _, a := range in.m.Step(ev) {
		r.do(in, a)
	}
	if !old && in.m.OldUnicastChecksum() {
		r.log.Info("vrrp: a peer computes keepalived's old unicast VRRPv3 checksum; so does this instance from now on", "instance", in.cfg.Name, "vrid", in.cfg.VRID)
	}
	r.publish(in)
}

// publish copies in's counters for Stats.
func (r *Router) publish(in *instance) {
	st := in.m.Stats()
	st.GARPSent, st.SendErrors = in.tx.GARPSent, in.tx.SendErrors
	r.mu.Lock()
	for i := range r.insts {
		if r.insts[i] == in {
			r.stats[i] = st
		}
	}
	r.mu.Unlock()
}

func (r *Router) do(in *instance, a Action) {
	c := &in.cfg
	switch a.Kind {
	case ActionSendAdvert:
		ad := in.m.Advert(a.Priority)
		send := func(dst netip.Addr) {
			// The VRRPv3 checksum covers the destination: one per peer.
			n, err := ad.MarshalTo(in.buf, Pseudo{Src: in.local, Dst: in.m.pseudoDst(dst)})
			if err != nil {
				r.fail(in, "marshal advert", err)
				return
			}
			if err := r.conn.WriteTo(in.buf[:n], in.src, dst); err != nil {
				r.fail(in, "send advert to "+dst.String(), err)
			}
		}
		if len(c.UnicastPeers) == 0 {
			send(c.Group)
			return
		}
		for _, p := range c.UnicastPeers {
			send(p)
		}
	case ActionAddVIPs:
		if r.opts.BeforeAddVIPs != nil {
			r.opts.BeforeAddVIPs(c.Name)
		}
		if err := r.host.AddVIPs(c.Addresses()); err != nil {
			r.fail(in, "add VIPs", err)
		}
	case ActionRemoveVIPs:
		r.garps.drop(in)
		if err := r.host.RemoveVIPs(c.Addresses()); err != nil {
			r.fail(in, "remove VIPs", err)
		}
		if r.opts.AfterRemoveVIPs != nil {
			r.opts.AfterRemoveVIPs(c.Name)
		}
	case ActionSendGARP:
		r.garps.sendGARPs(in, a.Count, time.Now(), r.host, r.fail)
	case ActionSendExtraGARP:
		for _, a := range c.ExtraGARPs() {
			n, err := r.host.SendGARP(a.Interface, []netip.Prefix{a.Prefix}, 1)
			in.tx.GARPSent += uint64(n)
			if err != nil {
				r.fail(in, "send gratuitous ARP on "+a.Interface, err)
			}
		}
	case ActionTransition:
		t := a.Transition
		r.log.Info("vrrp: transition", "instance", t.Instance, "vrid", t.VRID,
			"from", t.From.String(), "to", t.To.String(), "reason", t.Cause.String())
		if r.opts.OnTransition != nil {
			r.opts.OnTransition(t)
		}
	case ActionLowerPriority:
		l := a.Lower
		r.log.Info("vrrp: advert of lower priority heard as MASTER", "instance", l.Instance, "vrid", l.VRID,
			"from", l.From, "priority", l.Heard, "ours", l.Priority)
		if r.opts.OnLowerPriority != nil {
			r.opts.OnLowerPriority(l)
		}
	case ActionDrop:
		r.log.Debug("vrrp: advert dropped", "instance", c.Name, "err", &a.Drop)
	}
}

func (r *Router) fail(in *instance, op string, err error) {
	in.tx.SendErrors++
	r.log.Warn("vrrp: "+op+" failed", "instance", in.cfg.Name, "err", err)
}

// Close releases what Open acquired (the Conn if Run never ran, the
// netlink and ARP sockets). Call it after Run has returned; it is safe to
// call more than once.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		ran := r.ran
		r.ran = true
		r.mu.Unlock()
		var errs []error
		if !ran {
			errs = append(errs, r.conn.Close())
		}
		for _, c := range r.closers {
			errs = append(errs, c())
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
