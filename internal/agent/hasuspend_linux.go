package agent

import (
	"context"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// localAddrs lists the addresses on the node's interfaces.
func localAddrs() ([]netip.Addr, error) {
	as, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

// watchAddrs gives w the node's addresses now and after each change, until
// ctx is done.
func (w *haWatch) watchAddrs(ctx context.Context) error {
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	if err := netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{}); err != nil {
		return err
	}
	addrs, err := localAddrs()
	if err != nil {
		close(done)
		return err
	}
	w.setAddrs(addrs)
	go func() {
		<-ctx.Done()
		close(done)
	}()
	go func() {
		for range updates { // until the subscription ends
			if ctx.Err() != nil {
				continue
			}
			addrs, err := localAddrs()
			if err != nil {
				w.log.Error("health: ha_suspend: listing the addresses", "err", err)
				continue
			}
			w.setAddrs(addrs)
		}
	}()
	return nil
}
