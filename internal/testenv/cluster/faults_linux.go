package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// faultTable is the nftables table that holds a balancer's injected faults.
const faultTable = "lvskit_fault"

// BlockVRRP drops (block) or again accepts the VRRP adverts (IP protocol
// 112) b receives, with a table of its own in b's namespace: blocked on
// both balancers, the VRRP link is partitioned while every link stays up.
func (b *Balancer) BlockVRRP(block bool) error {
	if !block {
		if out, err := b.NS.Command("nft", "delete", "table", "inet", faultTable).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: nft delete table: %v: %s", b.Name, err, out)
		}
		return nil
	}
	rules := fmt.Sprintf("table inet %[1]s {\n\tchain input {\n\t\ttype filter hook input priority -200; policy accept;\n\t\tip protocol 112 drop\n\t}\n}\n", faultTable)
	cmd := b.NS.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: nft: %v: %s", b.Name, err, out)
	}
	return nil
}

// SetLinks sets the switch-side ports of both of b's links down or up: the
// node is cut off abruptly, as by a power loss. Down, eth1 (the VRRP link)
// goes first, so that nothing the node does on losing eth0 (a daemon
// entering FAULT sends a priority-0 advert) reaches its peer, as nothing
// would from a node without power.
func (c *Cluster) SetLinks(b *Balancer, up bool) error {
	for _, ifname := range []string{"eth1", "eth0"} {
		if err := c.Topology.SetPort(b.NS, ifname, up); err != nil {
			return err
		}
	}
	return nil
}

// Master returns the only balancer holding the VIP, or nil when none or
// both do.
func (c *Cluster) Master() *Balancer {
	var m *Balancer
	for _, b := range c.Balancers {
		if b.HasVIP() {
			if m != nil {
				return nil
			}
			m = b
		}
	}
	return m
}

// Other returns the balancer that is not b.
func (c *Cluster) Other(b *Balancer) *Balancer {
	if c.Balancers[0] == b {
		return c.Balancers[1]
	}
	return c.Balancers[0]
}

// KillGroup sends SIGKILL to p's whole process group at once (Start puts
// each program in a group of its own): a daemon and the children it
// forked die together, without one of them noticing the other's death and
// saying goodbye (keepalived's VRRP child sends a priority-0 advert when
// its parent dies). It waits for p to be gone.
func KillGroup(p *topology.Proc) error {
	if err := syscall.Kill(-p.Pid(), syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("killing the group of %s (pid %d): %w", p.Name(), p.Pid(), err)
	}
	select {
	case <-p.Done():
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still running 10s after SIGKILL", p.Name(), p.Pid())
	}
}

// VIPSample is which balancers held the VIP at one time.
type VIPSample struct {
	At   time.Time
	Hold []bool // by balancer
}

// VIPWatch samples which balancers hold the VIP.
type VIPWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	samples []VIPSample
}

// WatchVIP samples the balancers every interval until ctx ends, Stop or
// limit.
func (c *Cluster) WatchVIP(ctx context.Context, every, limit time.Duration) *VIPWatch {
	ctx, cancel := context.WithTimeout(ctx, limit)
	w := &VIPWatch{cancel: cancel}
	w.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			s := VIPSample{At: time.Now()}
			for _, b := range c.Balancers {
				s.Hold = append(s.Hold, b.HasVIP())
			}
			w.mu.Lock()
			w.samples = append(w.samples, s)
			w.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return w
}

// Stop ends the sampling.
func (w *VIPWatch) Stop() {
	w.cancel()
	w.wg.Wait()
}

// Samples returns the samples taken in [from, to), and the last one
// before from (the state the window starts in), if any.
func (w *VIPWatch) Samples(from, to time.Time) (before *VIPSample, in []VIPSample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, s := range w.samples {
		switch {
		case s.At.Before(from):
			before = &w.samples[i]
		case s.At.Before(to):
			in = append(in, s)
		}
	}
	return before, in
}

// VIPStats sums up the VIP's moves in a window.
type VIPStats struct {
	// Transitions counts the times a balancer took or gave up the VIP.
	Transitions int
	// SplitBrain is how long both balancers held it.
	SplitBrain time.Duration
	// MaxHolders is the most balancers that held it at once.
	MaxHolders int
}

// Stats sums up the samples of [from, to).
func (w *VIPWatch) Stats(from, to time.Time) VIPStats {
	before, in := w.Samples(from, to)
	var st VIPStats
	prev := before
	for i, s := range in {
		n := 0
		for j, h := range s.Hold {
			if h {
				n++
			}
			if prev != nil && prev.Hold[j] != h {
				st.Transitions++
			}
		}
		st.MaxHolders = max(st.MaxHolders, n)
		if n > 1 {
			end := to
			if i+1 < len(in) {
				end = in[i+1].At
			}
			st.SplitBrain += end.Sub(s.At)
		}
		prev = &in[i]
	}
	return st
}

// Netem impairs what b sends on its VRRP link, eth1, with tc's netem
// qdisc: args are netem's, such as "loss", "20%" or "delay", "100ms",
// "100ms"; none removes the impairment. The kernel needs sch_netem.
func (b *Balancer) Netem(args ...string) error {
	cmd := []string{"qdisc", "del", "dev", "eth1", "root"}
	if len(args) > 0 {
		cmd = append([]string{"qdisc", "replace", "dev", "eth1", "root", "netem"}, args...)
	}
	if out, err := b.NS.Command("tc", cmd...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: tc %s: %v: %s", b.Name, strings.Join(cmd, " "), err, out)
	}
	return nil
}
