package vrrp

import (
	"net/netip"
	"time"
)

// garpPacer spaces the gratuitous ARPs (IPv6: unsolicited neighbour
// advertisements) of the instances with a GARPInterval, one frame per
// interval on each VIP interface, across instances, as keepalived spaces
// them by vrrp_garp_interval and vrrp_gna_interval. Only Run's goroutine
// uses it.
type garpPacer struct {
	queues map[string]*garpQueue // by VIP interface
}

type garpQueue struct {
	interval time.Duration
	next     time.Time // when the next frame may go
	frames   []pacedFrame
}

type pacedFrame struct {
	in  *instance
	vip netip.Prefix
}

// add queues count frames per address of in on each of its interfaces,
// the addresses in turn as a burst sends them.
func (p *garpPacer) add(in *instance, count int) {
	if p.queues == nil {
		p.queues = map[string]*garpQueue{}
	}
	names, prefixes := byInterface(in.cfg.Addresses())
	for _, ifname := range names {
		q := p.queues[ifname]
		if q == nil {
			q = &garpQueue{}
			p.queues[ifname] = q
		}
		q.interval = in.cfg.GARPInterval
		for range count {
			for _, v := range prefixes[ifname] {
				q.frames = append(q.frames, pacedFrame{in, v})
			}
		}
	}
}

// drop forgets the frames of in still queued, as when it leaves MASTER.
func (p *garpPacer) drop(in *instance) {
	for _, q := range p.queues {
		kept := q.frames[:0]
		for _, f := range q.frames {
			if f.in != in {
				kept = append(kept, f)
			}
		}
		clear(q.frames[len(kept):])
		q.frames = kept
	}
}

// deadline is when the next queued frame is due; zero if none is queued.
func (p *garpPacer) deadline() time.Time {
	var next time.Time
	for _, q := range p.queues {
		if len(q.frames) > 0 && (next.IsZero() || q.next.Before(next)) {
			next = q.next
		}
	}
	return next
}

// send sends the frames due at now, one per interval on each interface.
func (p *garpPacer) send(now time.Time, host Host, fail func(*instance, string, error)) {
	for ifname, q := range p.queues {
		for len(q.frames) > 0 && !now.Before(q.next) {
			f := q.frames[0]
			q.frames = q.frames[1:]
			n, err := host.SendGARP(ifname, []netip.Prefix{f.vip}, 1)
			f.in.tx.GARPSent += uint64(n)
			if err != nil {
				fail(f.in, "send gratuitous ARP", err)
			}
			// The interval runs from this frame: a late turn sends one
			// frame, not the ones it missed at once.
			q.next = now.Add(q.interval)
		}
	}
}
