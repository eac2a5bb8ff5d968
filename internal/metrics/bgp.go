package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// BGPState is what a node's BGP speaker reports at scrape time.
type BGPState struct {
	Sessions []BGPSession
	Prefixes []BGPPrefix
	// Announcements and Withdrawals count the changes the node made.
	Announcements, Withdrawals uint64
}

// BGPSession is one neighbor.
type BGPSession struct {
	Neighbor string
	// State is the BGP FSM state (idle, connect, active, opensent,
	// openconfirm, established).
	State string
	// BFD is the BFD session state (up, down, init, admin_down); "" when
	// the session has no BFD.
	BFD   string
	Flops uint32
}

// BGPPrefix is one prefix of the node's configuration.
type BGPPrefix struct {
	Prefix              string
	Announced, Servable bool
}

// BGPSource reads the state; ok is false when no speaker runs (nothing is
// reported then).
type BGPSource func() (st BGPState, ok bool)

var (
	bgpStates = []string{"idle", "connect", "active", "opensent", "openconfirm", "established"}
	bfdStates = []string{"admin_down", "down", "init", "up"}
)

type bgpCollector struct {
	src BGPSource

	session, flops, bfd, announced, servable, announcements, withdrawals *prometheus.Desc
}

// NewBGP returns a collector of lvskit_bgp_* metrics.
func NewBGP(src BGPSource) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("lvskit_bgp_"+name, help, labels, nil)
	}
	return &bgpCollector{
		src:           src,
		session:       d("session_state", "1 for the current BGP state of the session with the neighbor.", "neighbor", "state"),
		flops:         d("session_flops_total", "Times the session went down after being established.", "neighbor"),
		bfd:           d("bfd_state", "1 for the current BFD state of the session with the neighbor (sessions with BFD only).", "neighbor", "state"),
		announced:     d("prefix_announced", "1 while the prefix is announced to the neighbors.", "prefix"),
		servable:      d("prefix_servable", "1 while a real server of the prefix's virtual servers is healthy.", "prefix"),
		announcements: d("announcements_total", "Prefixes announced."),
		withdrawals:   d("withdrawals_total", "Prefixes withdrawn."),
	}
}

func (c *bgpCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.session, c.flops, c.bfd, c.announced, c.servable, c.announcements, c.withdrawals} {
		ch <- d
	}
}

func (c *bgpCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.src()
	if !ok {
		return
	}
	gauge := func(d *prometheus.Desc, on bool, lv ...string) {
		v := 0.0
		if on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	for _, s := range st.Sessions {
		for _, name := range bgpStates {
			gauge(c.session, s.State == name, s.Neighbor, name)
		}
		ch <- prometheus.MustNewConstMetric(c.flops, prometheus.CounterValue, float64(s.Flops), s.Neighbor)
		if s.BFD != "" {
			for _, name := range bfdStates {
				gauge(c.bfd, s.BFD == name, s.Neighbor, name)
			}
		}
	}
	for _, p := range st.Prefixes {
		gauge(c.announced, p.Announced, p.Prefix)
		gauge(c.servable, p.Servable, p.Prefix)
	}
	ch <- prometheus.MustNewConstMetric(c.announcements, prometheus.CounterValue, float64(st.Announcements))
	ch <- prometheus.MustNewConstMetric(c.withdrawals, prometheus.CounterValue, float64(st.Withdrawals))
}
