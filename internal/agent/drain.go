package agent

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
)

// maxDrain bounds the drain of a stopping node.
const maxDrain = 60 * time.Second

// slowStopStep is how long a step of the agent's stop may take before it
// is logged.
const slowStopStep = time.Second

// drainPorts lists the ports of the real servers of cfg's virtual servers
// (nginx's ports, on the node's own address where this node is one), with
// their virtual server's protocol, sorted.
func drainPorts(cfg *config.Config) []nat.Port {
	var ports []nat.Port
	for _, vs := range cfg.VirtualServers {
		proto := "tcp"
		switch vs.Protocol {
		case config.TCP:
		case config.UDP:
			proto = "udp"
		default:
			continue
		}
		for _, rs := range vs.RealServers {
			for _, port := range []uint16{rs.Addr.Port(), checkPort(rs)} {
				if p := (nat.Port{Proto: proto, Port: port}); port != 0 && !slices.Contains(ports, p) {
					ports = append(ports, p)
				}
			}
		}
	}
	slices.SortFunc(ports, func(a, b nat.Port) int {
		return cmp.Or(strings.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	return ports
}

// checkPort is the port the real server's first checker connects to when
// it is not the real server's own (0 otherwise).
func checkPort(rs config.RealServer) uint16 {
	for _, c := range rs.Checkers {
		if c.ConnectPort != 0 {
			return c.ConnectPort
		}
	}
	return 0
}

// drainTime is how long the other balancers' checks of this node, with the
// same configuration, take at most to find its refused servers down: a
// delay loop, then the retries with their pauses (a refusal fails an
// attempt at once), and a second of margin; at most maxDrain.
func drainTime(cfg *config.Config) time.Duration {
	var longest time.Duration
	for _, vs := range cfg.VirtualServers {
		for _, rs := range vs.RealServers {
			loop := vs.DelayLoop
			if rs.DelayLoop > 0 {
				loop = rs.DelayLoop
			}
			for _, c := range rs.Checkers {
				retry := max(c.Retry, 0)
				longest = max(longest, loop+time.Duration(retry)*(c.DelayBeforeRetry+time.Second))
			}
		}
	}
	if longest == 0 {
		return 0
	}
	return min(longest+time.Second, maxDrain)
}

// drain runs before a stopping node stops its nginx, VRRP being stopped
// already (the VIPs gone, the DNAT rule in place): the node's own address
// refuses the other balancers' health checks, and the agent waits until
// those checks have taken this node's nginx out of their virtual servers,
// while it answers what they still forward. Then nginx can stop without
// losing a request. Nothing happens without a NAT switch or ports. It
// reports whether it drained.
func (a *Agent) drain(sw NATSwitch) bool {
	a.mu.Lock()
	cfg := a.cfg // as last reloaded
	a.mu.Unlock()
	d := a.opts.Drain
	if d == 0 {
		d = drainTime(cfg)
	}
	ports := drainPorts(cfg)
	if sw == nil || d <= 0 || len(ports) == 0 {
		return false
	}
	if err := sw.Drain(ports); err != nil {
		a.log.Error("nat: draining", "err", err)
		return false
	}
	a.log.Info("draining: refusing the other balancers' health checks before stopping nginx", "for", d, "ports", ports)
	time.Sleep(d)
	return true
}
