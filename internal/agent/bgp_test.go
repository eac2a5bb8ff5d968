package agent

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/ipvs"
)

var (
	vip1 = netip.MustParsePrefix("192.168.100.1/32")
	vip2 = netip.MustParsePrefix("192.168.100.2/32")
)

func bgpTable(weights map[string]uint32) *ipvs.Table {
	t := &ipvs.Table{}
	svc := func(s ipvs.Service, names ...string) {
		v := ipvs.VirtualServer{Service: s}
		for _, n := range names {
			if w, ok := weights[n]; ok {
				v.Destinations = append(v.Destinations, ipvs.Destination{Address: netip.MustParseAddr(n), Weight: w})
			}
		}
		t.Services = append(t.Services, v)
	}
	svc(ipvs.Service{Protocol: ipvs.TCP, Address: vip1.Addr(), Port: 80, Scheduler: "mh"}, "10.1.0.1", "10.1.0.2")
	svc(ipvs.Service{FWMark: 7, Scheduler: "mh"}, "10.2.0.1")
	return t
}

func TestServable(t *testing.T) {
	b := &config.BGP{Announce: []config.BGPAnnounce{{Prefix: vip1}, {Prefix: vip2, FWMarks: []uint32{7}}}}
	tests := []struct {
		name    string
		weights map[string]uint32
		want    map[netip.Prefix]bool
	}{
		{"all healthy", map[string]uint32{"10.1.0.1": 1, "10.1.0.2": 1, "10.2.0.1": 1}, map[netip.Prefix]bool{vip1: true, vip2: true}},
		{"one of two real servers left", map[string]uint32{"10.1.0.2": 1, "10.2.0.1": 1}, map[netip.Prefix]bool{vip1: true, vip2: true}},
		{"none left by address", map[string]uint32{"10.2.0.1": 1}, map[netip.Prefix]bool{vip1: false, vip2: true}},
		{"inhibited (weight 0) is not serving", map[string]uint32{"10.1.0.1": 0, "10.1.0.2": 0}, map[netip.Prefix]bool{vip1: false, vip2: false}},
		{"fwmark service down", map[string]uint32{"10.1.0.1": 3}, map[netip.Prefix]bool{vip1: true, vip2: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, servable(b, bgpTable(tt.weights))); diff != "" {
				t.Errorf("servable (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff(map[netip.Prefix]bool{vip1: false, vip2: false}, servable(b, nil)); diff != "" {
		t.Errorf("servable without a table (-want +got):\n%s", diff)
	}
}

// fakeLoopback records the prefixes on a pretend lo.
type fakeLoopback struct {
	mu  sync.Mutex
	set map[netip.Prefix]bool
}

func (f *fakeLoopback) fn(add bool, p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.set == nil {
		f.set = map[netip.Prefix]bool{}
	}
	if add {
		f.set[p] = true
	} else {
		delete(f.set, p)
	}
	return nil
}

func (f *fakeLoopback) has(p netip.Prefix) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set[p]
}

// router is an in-process GoBGP that plays the upstream router on
// loopback: it accepts the node's session and shows what it learnt.
type router struct {
	srv *server.BgpServer
}

func startRouter(t *testing.T, port int, nodeASN uint32) *router {
	t.Helper()
	lv := &slog.LevelVar{}
	lv.Set(slog.LevelError)
	s := server.NewBgpServer(server.LoggerOption(slog.New(slog.NewTextHandler(os.Stderr, nil)), lv))
	go s.Serve()
	ctx := context.Background()
	if err := s.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: 65000, RouterId: "10.0.0.1", ListenPort: int32(port), ListenAddresses: []string{"127.0.0.1"},
	}}); err != nil {
		t.Fatalf("router: StartBgp: %v", err)
	}
	if err := s.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: nodeASN},
		Transport: &api.Transport{PassiveMode: true},
	}}); err != nil {
		t.Fatalf("router: AddPeer: %v", err)
	}
	t.Cleanup(func() {
		_ = s.StopBgp(context.Background(), &api.StopBgpRequest{})
		s.Stop()
	})
	return &router{srv: s}
}

// routes returns the prefixes in the router's RIB.
func (r *router) routes(t *testing.T) map[netip.Prefix]bool {
	t.Helper()
	out := map[netip.Prefix]bool{}
	err := r.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: bgp.RF_IPv4_UC},
		func(n bgp.NLRI, _ []*apiutil.Path) {
			if p, err := netip.ParsePrefix(n.String()); err == nil {
				out[p] = true
			}
		})
	if err != nil {
		t.Fatalf("router: ListPath: %v", err)
	}
	return out
}

// established reports whether the router's session with the node is up.
func (r *router) established(t *testing.T) bool {
	t.Helper()
	up := false
	_ = r.srv.ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
		up = p.State != nil && p.State.SessionState == api.PeerState_SESSION_STATE_ESTABLISHED
	})
	return up
}

// eventually polls cond every 50 ms, failing the test after 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestBGPSpeakerAnnouncesWhileServable runs the node's speaker against an
// in-process GoBGP router on loopback: nothing is announced before the
// first table, the VIP is announced while a real server has weight,
// withdrawn when none has, announced again when one recovers, and a
// graceful stop withdraws it while the session is still up, then closes
// the session and takes the VIP off the loopback.
func TestBGPSpeakerAnnouncesWhileServable(t *testing.T) {
	port := freePort(t)
	r := startRouter(t, port, 65001)
	b := &config.BGP{
		ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), WithdrawWait: 3 * time.Second,
		Neighbors: []config.BGPNeighbor{{Address: netip.MustParseAddr("127.0.0.1"), ASN: 65000, Port: port, HoldTime: 9 * time.Second}},
		Announce:  []config.BGPAnnounce{{Prefix: vip1}, {Prefix: vip2, FWMarks: []uint32{7}}},
	}
	var lo fakeLoopback
	s, err := startBGP(context.Background(), b, slog.New(slog.DiscardHandler), lo.fn)
	if err != nil {
		t.Fatalf("startBGP: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			s.stopServer()
		}
	})
	if !lo.has(vip1) || !lo.has(vip2) {
		t.Errorf("VIPs on the loopback after start: %v, want %s and %s", lo.set, vip1, vip2)
	}
	eventually(t, "session established", func() bool { return r.established(t) })
	if st := s.status(context.Background()); st.Neighbors[0].State != "established" {
		t.Errorf("speaker's session state %q, want established", st.Neighbors[0].State)
	}
	if got := r.routes(t); len(got) != 0 {
		t.Errorf("router learnt %v before any table", got)
	}

	s.update(bgpTable(map[string]uint32{"10.1.0.1": 1, "10.2.0.1": 1}))
	eventually(t, "both VIPs announced", func() bool { g := r.routes(t); return g[vip1] && g[vip2] })

	s.update(bgpTable(map[string]uint32{"10.2.0.1": 1})) // vip1's real servers all failed
	eventually(t, "vip1 withdrawn", func() bool { g := r.routes(t); return !g[vip1] && g[vip2] })

	s.update(bgpTable(map[string]uint32{"10.1.0.2": 1, "10.2.0.1": 1}))
	eventually(t, "vip1 back", func() bool { g := r.routes(t); return g[vip1] && g[vip2] })
	st := s.status(context.Background())
	wantP := []BGPPrefixStatus{{Prefix: vip1, Announced: true, Servable: true}, {Prefix: vip2, Announced: true, Servable: true}}
	if diff := cmp.Diff(wantP, st.Prefixes, cmpAddrs); diff != "" {
		t.Errorf("status announced (-want +got):\n%s", diff)
	}
	if st.Announcements != 3 || st.Withdrawals != 1 {
		t.Errorf("status counts %d announcements, %d withdrawals; want 3, 1", st.Announcements, st.Withdrawals)
	}

	// Graceful stop: withdrawn while the session is still established.
	done := make(chan struct{})
	go func() { s.stop(context.Background()); close(done) }()
	stopped = true
	eventually(t, "withdrawn at stop", func() bool { return len(r.routes(t)) == 0 })
	select {
	case <-done:
		t.Fatal("stop returned before its withdraw wait")
	default:
	}
	if !r.established(t) {
		t.Error("session closed before the withdraw wait ended")
	}
	<-done
	eventually(t, "session closed after stop", func() bool { return !r.established(t) })
	if lo.has(vip1) || lo.has(vip2) {
		t.Errorf("VIPs left on the loopback after stop: %v", lo.set)
	}
	// A table after the stop announces nothing.
	s.mu.Lock()
	n := len(s.announced)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d prefixes still marked announced after stop", n)
	}
}

var cmpAddrs = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

// TestPeerConfig pins how a neighbor maps onto GoBGP: BFD timers in
// microseconds, the hold time and keepalive in seconds, the families of
// the announced prefixes.
func TestPeerConfig(t *testing.T) {
	b := &config.BGP{Announce: []config.BGPAnnounce{{Prefix: vip1}, {Prefix: netip.MustParsePrefix("2001:db8::1/128")}}}
	n := config.BGPNeighbor{Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, Port: 179, HoldTime: 3 * time.Second,
		BFD: true, BFDInterval: 300 * time.Millisecond, BFDMultiplier: 3}
	p := peerConfig(n, b)
	if got := p.Bfd; got == nil || !got.Enabled || got.DesiredMinimumTxInterval != 300000 || got.RequiredMinimumReceive != 300000 || got.DetectionMultiplier != 3 {
		t.Errorf("BFD config %+v, want enabled, 300000 us both ways, multiplier 3", got)
	}
	if c := p.Timers.Config; c.HoldTime != 3 || c.KeepaliveInterval != 1 {
		t.Errorf("timers hold %d keepalive %d, want 3 and 1", c.HoldTime, c.KeepaliveInterval)
	}
	var fams []string
	for _, a := range p.AfiSafis {
		fams = append(fams, a.Config.Family.Afi.String())
	}
	if diff := cmp.Diff([]string{"AFI_IP", "AFI_IP6"}, fams); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
	n.BFD = false
	if p := peerConfig(n, &config.BGP{Announce: []config.BGPAnnounce{{Prefix: vip1}}}); p.Bfd != nil || len(p.AfiSafis) != 1 {
		t.Errorf("without BFD and IPv6: BFD %+v, %d families", p.Bfd, len(p.AfiSafis))
	}
}

// TestSameBGP pins that a reload is refused only when the bgp section
// changes, not when it moves in the file.
func TestSameBGP(t *testing.T) {
	base := func() *config.BGP {
		return &config.BGP{Pos: config.Pos{File: "a", Line: 3}, ASN: 65001,
			Neighbors: []config.BGPNeighbor{{Pos: config.Pos{File: "a", Line: 5}, Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000}},
			Announce:  []config.BGPAnnounce{{Pos: config.Pos{File: "a", Line: 8}, Prefix: vip1}}}
	}
	moved := base()
	moved.Pos.Line, moved.Neighbors[0].Pos.Line, moved.Announce[0].Pos.Line = 30, 50, 80
	other := base()
	other.Neighbors[0].ASN = 65002
	tests := []struct {
		name string
		a, b *config.BGP
		want bool
	}{
		{"both absent", nil, nil, true},
		{"added", nil, base(), false},
		{"moved in the file", base(), moved, true},
		{"neighbor ASN changed", base(), other, false},
	}
	for _, tt := range tests {
		if got := sameBGP(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: sameBGP = %v, want %v", tt.name, got, tt.want)
		}
	}
	if moved.Pos.Line != 30 || moved.Neighbors[0].Pos.Line != 50 {
		t.Error("sameBGP changed its argument")
	}
}
