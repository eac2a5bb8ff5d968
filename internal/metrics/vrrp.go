// Package metrics turns the counters of lvskit's packages into Prometheus
// metrics for the example programs. The library packages expose plain stats
// structs; only programs depend on Prometheus.
package metrics

import (
	"strconv"

	"github.com/lvskit/lvskit/vrrp"
	"github.com/prometheus/client_golang/prometheus"
)

// VRRPSource reads VRRP router counters: a (*vrrp.Router).Stats, or an
// agent's merge of several routers.
type VRRPSource func() vrrp.RouterStats

// vrrpCollector reads the counters at scrape time.
type vrrpCollector struct {
	src VRRPSource

	state, sent, zeroSent, received, zeroReceived, dropped,
	transitions, becameMaster, lowerHeard, garp, sendErrors, unmatched *prometheus.Desc
}

// NewVRRP returns a collector of lvskit_vrrp_* metrics.
func NewVRRP(src VRRPSource) prometheus.Collector {
	l := []string{"instance", "vrid"}
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc("lvskit_vrrp_"+name, help, append(append([]string(nil), l...), extra...), nil)
	}
	return &vrrpCollector{
		src:          src,
		state:        d("state", "1 for the current state of the instance.", "state"),
		sent:         d("adverts_sent_total", "Advertisements sent, priority 0 included."),
		zeroSent:     d("priority_zero_sent_total", "Priority 0 advertisements sent."),
		received:     d("adverts_received_total", "Valid advertisements received."),
		zeroReceived: d("priority_zero_received_total", "Priority 0 advertisements received."),
		dropped:      d("adverts_dropped_total", "Invalid advertisements dropped, by reason.", "reason"),
		transitions:  d("transitions_total", "State transitions."),
		becameMaster: d("became_master_total", "Transitions to MASTER."),
		lowerHeard:   d("lower_priority_heard_total", "Advertisements of lower priority heard as MASTER (another node thought it was MASTER)."),
		garp:         d("garp_sent_total", "Gratuitous ARP frames sent."),
		sendErrors:   d("send_errors_total", "Failed sends and address changes."),
		unmatched:    prometheus.NewDesc("lvskit_vrrp_unmatched_total", "Packets for no configured VRID.", nil, nil),
	}
}

func (c *vrrpCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.sent, c.zeroSent, c.received, c.zeroReceived, c.dropped,
		c.transitions, c.becameMaster, c.lowerHeard, c.garp, c.sendErrors, c.unmatched} {
		ch <- d
	}
}

func (c *vrrpCollector) Collect(ch chan<- prometheus.Metric) {
	rs := c.src()
	for _, s := range rs.Instances {
		lv := []string{s.Instance, strconv.Itoa(int(s.VRID))}
		counter := func(d *prometheus.Desc, v uint64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append(append([]string(nil), lv...), extra...)...)
		}
		for _, st := range []vrrp.State{vrrp.StateInit, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateStopped} {
			v := 0.0
			if s.State == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, s.Instance, strconv.Itoa(int(s.VRID)), st.String())
		}
		counter(c.sent, s.AdvertsSent)
		counter(c.zeroSent, s.PriorityZeroSent)
		counter(c.received, s.AdvertsReceived)
		counter(c.zeroReceived, s.PriorityZeroReceived)
		for r := vrrp.ReasonNone + 1; r < vrrp.NumReasons; r++ {
			counter(c.dropped, s.Dropped[r], r.String())
		}
		counter(c.transitions, s.Transitions)
		counter(c.becameMaster, s.BecameMaster)
		counter(c.lowerHeard, s.LowerPriorityHeard)
		counter(c.garp, s.GARPSent)
		counter(c.sendErrors, s.SendErrors)
	}
	ch <- prometheus.MustNewConstMetric(c.unmatched, prometheus.CounterValue, float64(rs.Unmatched))
}
