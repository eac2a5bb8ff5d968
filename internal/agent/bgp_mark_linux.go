package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// bgpMarker is the nftables table that marks what the routers send to
// the announced prefixes (nat.Marker), with its set of sources kept to the
// routers' link-layer addresses as the neighbor table learns them.
type bgpMarker struct {
	m      *nat.Marker
	cancel context.CancelFunc
}

// startBGPMarker installs the marking table of b, if it marks anything,
// and follows the neighbor table. A nil marker and no error: b marks
// nothing.
func startBGPMarker(b *config.BGP, log *slog.Logger) (*bgpMarker, error) {
	rules := markRules(b)
	if len(rules) == 0 {
		return nil, nil
	}
	m, err := nat.OpenMarker(&nat.MarkConfig{Rules: rules})
	if err != nil {
		return nil, fmt.Errorf("bgp: marking what the routers send: %w", err)
	}
	updates := make(chan netlink.NeighUpdate, 64)
	done := make(chan struct{})
	if err := netlink.NeighSubscribeWithOptions(updates, done, netlink.NeighSubscribeOptions{ListExisting: true}); err != nil {
		m.Close()
		return nil, fmt.Errorf("bgp: following the routers' link-layer addresses: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bm := &bgpMarker{m: m, cancel: cancel}
	go func() {
		<-ctx.Done()
		close(done)
	}()
	for _, r := range rules {
		log.Info("bgp: marking what the routers send", "rule", r.String())
	}
	go func() {
		macs := newRouterMACs(b)
		for u := range updates { // until the subscription ends
			ip, ok := netip.AddrFromSlice(u.IP)
			valid := u.Type == unix.RTM_NEWNEIGH && u.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE|netlink.NUD_NONE) == 0
			if !ok || !macs.update(ip, u.HardwareAddr, valid) || ctx.Err() != nil {
				continue
			}
			src := macs.sources()
			if err := m.SetSources(src); err != nil {
				log.Error("bgp: setting the routers' link-layer addresses", "err", err)
				continue
			}
			log.Info("bgp: the routers' link-layer addresses", "neighbor", ip.String(), "mac", u.HardwareAddr.String(), "sources", fmt.Sprint(src))
		}
	}()
	return bm, nil
}

// stop deletes the table; nothing is marked any more.
func (bm *bgpMarker) stop(log *slog.Logger) {
	if bm == nil {
		return
	}
	bm.cancel()
	if err := bm.m.Close(); err != nil {
		log.Error("bgp: removing the marking table", "err", err)
	}
}
