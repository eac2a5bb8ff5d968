package agent

import (
	"context"
	"net"

	"github.com/lvskit/lvskit/vrrp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// watchLinks reports whether each named interface of the agent's network
// namespace is up and running (carrier present), then each change until
// ctx is done. An interface that does not exist is down.
func watchLinks(ctx context.Context, names []string) ([]bool, <-chan vrrp.LinkEvent, error) {
	updates := make(chan netlink.LinkUpdate, 32)
	done := make(chan struct{})
	if err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{}); err != nil {
		return nil, nil, err
	}
	running := func(a *netlink.LinkAttrs) bool {
		return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_RUNNING != 0
	}
	known := map[string]bool{}
	initial := make([]bool, len(names))
	for i, n := range names {
		if l, err := netlink.LinkByName(n); err == nil {
			initial[i] = running(l.Attrs())
		}
		known[n] = initial[i]
	}
	out := make(chan vrrp.LinkEvent, 8)
	go func() {
		<-ctx.Done()
		close(done)
	}()
	go func() {
		for u := range updates { // until the subscription ends
			n := u.Attrs().Name
			was, ok := known[n]
			up := u.Header.Type != unix.RTM_DELLINK && running(u.Attrs())
			if !ok || up == was {
				continue
			}
			known[n] = up
			select {
			case out <- vrrp.LinkEvent{Interface: n, Up: up}:
			case <-ctx.Done():
			}
		}
	}()
	return initial, out, nil
}
