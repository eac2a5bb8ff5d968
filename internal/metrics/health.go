package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Target is the state of one health-check target.
type Target struct {
	Name        string
	Up          bool
	Transitions uint64
}

// HealthSource lists the targets' states.
type HealthSource func() []Target

type healthCollector struct {
	src         HealthSource
	up, transit *prometheus.Desc
	latency     *prometheus.HistogramVec
}

// Health collects lvskit_health_* metrics: state and transitions from src,
// and check latency from Observe.
type Health struct {
	*healthCollector
}

// NewHealth returns the health collector; call Observe after each check.
func NewHealth(src HealthSource) *Health {
	return &Health{&healthCollector{
		src:     src,
		up:      prometheus.NewDesc("lvskit_health_up", "1 while the target is healthy.", []string{"target"}, nil),
		transit: prometheus.NewDesc("lvskit_health_transitions_total", "Up/down transitions of the target.", []string{"target"}, nil),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lvskit_health_check_latency_seconds",
			Help:    "Time taken by health-check attempts.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"target", "result"}),
	}}
}

// Observe records one check attempt's latency.
func (h *Health) Observe(target string, up bool, latency time.Duration) {
	res := "down"
	if up {
		res = "up"
	}
	h.latency.WithLabelValues(target, res).Observe(latency.Seconds())
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.transit
	c.latency.Describe(ch)
}

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.src() {
		v := 0.0
		if t.Up {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, v, t.Name)
		ch <- prometheus.MustNewConstMetric(c.transit, prometheus.CounterValue, float64(t.Transitions), t.Name)
	}
	c.latency.Collect(ch)
}
