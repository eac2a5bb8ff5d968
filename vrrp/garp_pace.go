package vrrp

import (
	"net/netip"
	"slices"
	"time"
)

// GARPGroup paces the gratuitous ARPs and unsolicited neighbour
// advertisements sent on a set of interfaces together (keepalived's
// garp_group): one ARP per GARPInterval and one advertisement per
// GNAInterval across them, whichever instances send them, in place of
// the instances' Config.GARPInterval. A zero interval sends those frames
// at once.
type GARPGroup struct {
	Interfaces                []string
	GARPInterval, GNAInterval time.Duration
}

// garpPacer spaces the gratuitous ARPs (IPv6: unsolicited neighbour
// advertisements) of the instances with a GARPInterval, one frame per
// interval on each interface, across instances, as keepalived spaces them
// by vrrp_garp_interval and vrrp_gna_interval; and those sent on the
// interfaces of a GARPGroup, one per the group's interval across them.
// Only Run's goroutine uses it.
type garpPacer struct {
	groups []GARPGroup
	queues map[paceKey]*garpQueue
}

// paceKey names a queue: a group's for one family, or an interface's.
type paceKey struct {
	group  int // index in groups, -1 for none
	ifname string
	v6     bool
}

type garpQueue struct {
	interval time.Duration
	next     time.Time // when the next frame may go
	frames   []pacedFrame
}

type pacedFrame struct {
	in     *instance
	ifname string
	vip    netip.Prefix
}

// queue returns the key and interval of the frames in sends for vip on
// ifname: its group's, or the interface's with in's GARPInterval.
func (p *garpPacer) queue(in *instance, ifname string, vip netip.Prefix) (paceKey, time.Duration) {
	v6 := vip.Addr().Is6()
	for i, g := range p.groups {
		if slices.Contains(g.Interfaces, ifname) {
			if v6 {
				return paceKey{i, "", true}, g.GNAInterval
			}
			return paceKey{i, "", false}, g.GARPInterval
		}
	}
	return paceKey{-1, ifname, false}, in.cfg.GARPInterval
}

// sendGARPs sends count frames per address of in on each of its
// interfaces: at once where no interval applies, else queued, the
// addresses in turn as a burst sends them.
func (p *garpPacer) sendGARPs(in *instance, count int, now time.Time, host Host, fail func(*instance, string, error)) {
	names, prefixes := byInterface(in.cfg.Addresses())
	for _, ifname := range names {
		var direct []netip.Prefix
		for _, v := range prefixes[ifname] {
			if _, iv := p.queue(in, ifname, v); iv <= 0 {
				direct = append(direct, v)
			}
		}
		if len(direct) > 0 {
			n, err := host.SendGARP(ifname, direct, count)
			in.tx.GARPSent += uint64(n)
			if err != nil {
				fail(in, "send gratuitous ARP on "+ifname, err)
			}
		}
	}
	for range count {
		for _, ifname := range names {
			for _, v := range prefixes[ifname] {
				k, iv := p.queue(in, ifname, v)
				if iv <= 0 {
					continue
				}
				if p.queues == nil {
					p.queues = map[paceKey]*garpQueue{}
				}
				q := p.queues[k]
				if q == nil {
					q = &garpQueue{}
					p.queues[k] = q
				}
				q.interval = iv
				q.frames = append(q.frames, pacedFrame{in, ifname, v})
			}
		}
	}
	p.send(now, host, fail)
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

// send sends the frames due at now, one per interval in each queue.
func (p *garpPacer) send(now time.Time, host Host, fail func(*instance, string, error)) {
	for _, q := range p.queues {
		for len(q.frames) > 0 && !now.Before(q.next) {
			f := q.frames[0]
			q.frames = q.frames[1:]
			n, err := host.SendGARP(f.ifname, []netip.Prefix{f.vip}, 1)
			f.in.tx.GARPSent += uint64(n)
			if err != nil {
				fail(f.in, "send gratuitous ARP on "+f.ifname, err)
			}
			// The interval runs from this frame: a late turn sends one
			// frame, not the ones it missed at once.
			q.next = now.Add(q.interval)
		}
	}
}
