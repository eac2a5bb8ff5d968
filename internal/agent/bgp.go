package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/metrics"
	"github.com/lvskit/lvskit/ipvs"
)

// BGPStatus is the state of a node's BGP speaker.
type BGPStatus struct {
	Neighbors []BGPNeighborStatus
	Prefixes  []BGPPrefixStatus
	// Announcements and Withdrawals count the changes made.
	Announcements, Withdrawals uint64
}

// BGPPrefixStatus is one announced prefix of the configuration.
type BGPPrefixStatus struct {
	Prefix netip.Prefix
	// Announced: announced now. Servable: the node can serve it (it is
	// announced unless the node is stopping).
	Announced, Servable bool
}

// BGPNeighborStatus is one session.
type BGPNeighborStatus struct {
	Address netip.Addr
	// State is the BGP FSM state: idle, connect, active, opensent,
	// openconfirm or established.
	State string
	// BFD is the BFD session state (up, down, init, admin_down), "" when
	// the neighbor has no BFD.
	BFD string
	// Flops counts the times the session went down after being
	// established.
	Flops uint32
}

// LoopbackFunc adds (add true) or removes a prefix on the loopback
// interface.
type LoopbackFunc func(add bool, p netip.Prefix) error

// bgpSpeaker is the embedded GoBGP server and what it announces.
type bgpSpeaker struct {
	cfg      *config.BGP
	log      *slog.Logger
	loopback LoopbackFunc
	srv      *server.BgpServer
	cancel   context.CancelFunc

	mu        sync.Mutex
	announced map[netip.Prefix]*apiutil.Path
	servable  map[netip.Prefix]bool
	stopping  bool
	added     []netip.Prefix // on the loopback
	announces uint64
	withdraws uint64
}

// startBGP starts a GoBGP server for b with no route announced: the VIPs
// are put on the loopback and the sessions opened; update announces.
func startBGP(ctx context.Context, b *config.BGP, log *slog.Logger, lo LoopbackFunc) (*bgpSpeaker, error) {
	s := &bgpSpeaker{cfg: b, log: log, loopback: lo, announced: map[netip.Prefix]*apiutil.Path{}, servable: map[netip.Prefix]bool{}}
	for _, a := range b.Announce {
		if err := lo(true, a.Prefix); err != nil {
			s.removeLoopback()
			return nil, fmt.Errorf("bgp: putting %s on the loopback: %w", a.Prefix, err)
		}
		s.added = append(s.added, a.Prefix)
	}
	s.srv = server.NewBgpServer(server.LoggerOption(log.With("part", "gobgp"), gobgpLevel(log)))
	go s.srv.Serve()
	listen := int32(-1)
	if b.ListenPort != 0 {
		listen = int32(b.ListenPort)
	}
	if err := s.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: b.ASN, RouterId: b.RouterID.String(), ListenPort: listen,
	}}); err != nil {
		s.srv.Stop()
		s.removeLoopback()
		return nil, fmt.Errorf("bgp: starting: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
		OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, _ time.Time) {
			if ev.Type == apiutil.PEER_EVENT_STATE {
				log.Info("bgp: session", "neighbor", ev.Peer.Conf.NeighborAddress.String(), "state", fsmName(ev.Peer.State.SessionState),
					"reason", ev.Peer.State.DisconnectMessage)
			}
		},
	}, server.WatchPeer()); err != nil {
		s.stopServer()
		return nil, fmt.Errorf("bgp: watching sessions: %w", err)
	}
	for i, n := range b.Neighbors {
		if err := s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: peerConfig(n, b)}); err != nil {
			s.stopServer()
			return nil, fmt.Errorf("bgp: neighbors[%d] %s: %w", i, n.Address, err)
		}
	}
	log.Info("bgp: started", "asn", b.ASN, "router_id", b.RouterID.String(), "neighbors", len(b.Neighbors))
	return s, nil
}

// peerConfig is GoBGP's configuration of one neighbor. BFD timers are in
// microseconds in GoBGP's API.
func peerConfig(n config.BGPNeighbor, b *config.BGP) *api.Peer {
	hold := uint64(n.HoldTime / time.Second)
	p := &api.Peer{
		Conf: &api.PeerConf{NeighborAddress: n.Address.String(), PeerAsn: n.ASN},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime: hold, KeepaliveInterval: max(hold/3, 1),
			ConnectRetry: 1, IdleHoldTimeAfterReset: 1,
		}},
		Transport: &api.Transport{RemotePort: uint32(n.Port)},
	}
	fams := map[bool]bool{}
	for _, a := range b.Announce {
		fams[a.Prefix.Addr().Is4()] = true
	}
	if len(fams) == 0 || fams[true] {
		p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, Enabled: true}})
	}
	if fams[false] {
		p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}, Enabled: true}})
	}
	if n.BFD {
		us := uint32(n.BFDInterval / time.Microsecond)
		p.Bfd = &api.BfdPeerConfig{Enabled: true, DesiredMinimumTxInterval: us, RequiredMinimumReceive: us, DetectionMultiplier: uint32(n.BFDMultiplier)}
	}
	return p
}

// update announces the prefixes t makes servable and withdraws the others.
func (s *bgpSpeaker) update(t *ipvs.Table) {
	if s == nil {
		return
	}
	sv := servable(s.cfg, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servable = sv
	if s.stopping {
		return
	}
	s.apply(sv)
}

// apply makes the announcements match want; s.mu is held.
func (s *bgpSpeaker) apply(want map[netip.Prefix]bool) {
	for _, a := range s.cfg.Announce {
		p := a.Prefix
		path, on := s.announced[p]
		switch {
		case want[p] && !on:
			path, err := s.announce(p)
			if err != nil {
				s.log.Error("bgp: announcing", "prefix", p.String(), "err", err)
				continue
			}
			s.announced[p] = path
			s.announces++
			s.log.Info("bgp: announced", "prefix", p.String())
		case !want[p] && on:
			if err := s.srv.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{path}}); err != nil {
				s.log.Error("bgp: withdrawing", "prefix", p.String(), "err", err)
				continue
			}
			delete(s.announced, p)
			s.withdraws++
			s.log.Info("bgp: withdrawn", "prefix", p.String())
		}
	}
}

// announce adds p to the RIB with this node as the next hop (GoBGP puts
// the session's local address there for eBGP neighbors).
func (s *bgpSpeaker) announce(p netip.Prefix) (*apiutil.Path, error) {
	nlri, err := bgp.NewIPAddrPrefix(p)
	if err != nil {
		return nil, err
	}
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0)}
	fam := bgp.RF_IPv4_UC
	if p.Addr().Is4() {
		nh, err := bgp.NewPathAttributeNextHop(netip.IPv4Unspecified())
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, nh)
	} else {
		fam = bgp.RF_IPv6_UC
		mp, err := bgp.NewPathAttributeMpReachNLRI(fam, []bgp.PathNLRI{{NLRI: nlri}}, netip.IPv6Unspecified())
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, mp)
	}
	path := &apiutil.Path{Family: fam, Nlri: nlri, Attrs: attrs}
	res, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{path}})
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if r.Error != nil {
			return nil, r.Error
		}
	}
	return path, nil
}

// stop is the graceful stop: every announcement withdrawn, then a wait of
// WithdrawWait (or until ctx is done) for the routers to move the flows,
// then the sessions closed and the VIPs taken off the loopback.
func (s *bgpSpeaker) stop(ctx context.Context) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stopping = true
	had := len(s.announced)
	s.apply(nil)
	s.mu.Unlock()
	if had > 0 && s.cfg.WithdrawWait > 0 {
		s.log.Info("bgp: withdrawn for the stop; waiting for the routers", "wait", s.cfg.WithdrawWait.String())
		t := time.NewTimer(s.cfg.WithdrawWait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	s.stopServer()
}

func (s *bgpSpeaker) stopServer() {
	if s.cancel != nil {
		s.cancel()
	}
	s.srv.Stop() // StopBgp (a CEASE to each neighbor), then the BFD server
	s.removeLoopback()
}

func (s *bgpSpeaker) removeLoopback() {
	for _, p := range s.added {
		if err := s.loopback(false, p); err != nil {
			s.log.Error("bgp: removing the VIP from the loopback", "prefix", p.String(), "err", err)
		}
	}
	s.added = nil
}

// status reads the sessions from GoBGP and the announcements.
func (s *bgpSpeaker) status(ctx context.Context) BGPStatus {
	var st BGPStatus
	s.mu.Lock()
	for _, a := range s.cfg.Announce {
		_, on := s.announced[a.Prefix]
		st.Prefixes = append(st.Prefixes, BGPPrefixStatus{Prefix: a.Prefix, Announced: on, Servable: s.servable[a.Prefix]})
	}
	st.Announcements, st.Withdrawals = s.announces, s.withdraws
	s.mu.Unlock()
	byAddr := map[string]*api.Peer{}
	_ = s.srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		if p.Conf != nil {
			byAddr[p.Conf.NeighborAddress] = p
		}
	})
	for _, n := range s.cfg.Neighbors {
		ns := BGPNeighborStatus{Address: n.Address, State: "idle"}
		if p := byAddr[n.Address.String()]; p != nil && p.State != nil {
			ns.State = sessionName(p.State.SessionState)
			ns.Flops = p.State.Flops
			if n.BFD {
				ns.BFD = "down"
				if b := p.State.BfdState; b != nil {
					ns.BFD = bfdName(b.SessionState)
				}
			}
		}
		st.Neighbors = append(st.Neighbors, ns)
	}
	return st
}

func fsmName(s bgp.FSMState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "BGP_FSM_"))
}

func sessionName(s api.PeerState_SessionState) string {
	n := strings.ToLower(strings.TrimPrefix(s.String(), "SESSION_STATE_"))
	if n == "unspecified" {
		return "idle"
	}
	return n
}

func bfdName(s api.BfdSessionState) string {
	n := strings.ToLower(strings.TrimPrefix(s.String(), "BFD_SESSION_STATE_"))
	if n == "unspecified" {
		return "down"
	}
	return n
}

// gobgpLevel passes GoBGP's info messages through only when the agent's
// logger shows debug messages: GoBGP is chatty at info.
func gobgpLevel(log *slog.Logger) *slog.LevelVar {
	lv := &slog.LevelVar{}
	lv.Set(slog.LevelWarn)
	if log.Enabled(context.Background(), slog.LevelDebug) {
		lv.Set(slog.LevelDebug)
	}
	return lv
}

// RunBGPSpeaker runs the node's BGP speaker alone, as lbnode runs it for
// b, with every prefix of b announced as servable, until ctx is done;
// then it stops gracefully (withdraw, WithdrawWait, close). It is for
// programs that measure the routers' side (sessions, BFD, convergence)
// where the kernel has no IPVS to tell what the node can serve.
func RunBGPSpeaker(ctx context.Context, b *config.BGP, log *slog.Logger) error {
	s, err := startBGP(ctx, b, log, hostLoopback)
	if err != nil {
		return err
	}
	all := map[netip.Prefix]bool{}
	for _, a := range b.Announce {
		all[a.Prefix] = true
	}
	s.mu.Lock()
	s.apply(all)
	s.mu.Unlock()
	<-ctx.Done()
	s.stop(context.Background())
	return nil
}

// startBGPSpeaker starts the speaker of cfg's bgp section and feeds it the
// IPVS table the agent wants now; Run calls it once the health checks run.
func (a *Agent) startBGPSpeaker(ctx context.Context, b *config.BGP) error {
	// The marks first, so that the first packets the routers send once
	// the VIPs are announced are scheduled.
	bm, err := startBGPMarker(b, a.log)
	if err != nil {
		return err
	}
	s, err := startBGP(ctx, b, a.log, hostLoopback)
	if err != nil {
		bm.stop(a.log)
		return err
	}
	a.mu.Lock()
	a.bgp, a.bgpMark = s, bm
	a.mu.Unlock()
	if err := a.sync("bgp"); err != nil {
		a.log.Error("ipvs: syncing for bgp", "err", err)
	}
	return nil
}

// stopBGPSpeaker is the graceful stop of the speaker (see bgpSpeaker.stop),
// which Run does before anything else stops.
func (a *Agent) stopBGPSpeaker() {
	a.mu.Lock()
	s, bm := a.bgp, a.bgpMark
	a.mu.Unlock()
	s.stop(context.Background())
	// What still arrives while the routers move the flows is marked and
	// scheduled until the speaker has stopped.
	bm.stop(a.log)
	a.mu.Lock()
	a.bgp, a.bgpMark = nil, nil
	a.mu.Unlock()
}

// BGP returns the state of the node's BGP speaker; ok is false when the
// node has none (no bgp section, or not running).
func (a *Agent) BGP(ctx context.Context) (st BGPStatus, ok bool) {
	a.mu.Lock()
	s := a.bgp
	a.mu.Unlock()
	if s == nil {
		return BGPStatus{}, false
	}
	return s.status(ctx), true
}

// BGPMetrics is BGP for package metrics (a metrics.BGPSource); ok is false
// when the node runs no speaker.
func (a *Agent) BGPMetrics() (metrics.BGPState, bool) {
	st, ok := a.BGP(context.Background())
	if !ok {
		return metrics.BGPState{}, false
	}
	out := metrics.BGPState{Announcements: st.Announcements, Withdrawals: st.Withdrawals}
	for _, n := range st.Neighbors {
		out.Sessions = append(out.Sessions, metrics.BGPSession{Neighbor: n.Address.String(), State: n.State, BFD: n.BFD, Flops: n.Flops})
	}
	for _, p := range st.Prefixes {
		out.Prefixes = append(out.Prefixes, metrics.BGPPrefix{Prefix: p.Prefix.String(), Announced: p.Announced, Servable: p.Servable})
	}
	return out, true
}
