package metrics

import (
	"strconv"

	"github.com/lvskit/lvskit/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// IPVSSource reads the IPVS table with its counters.
type IPVSSource func() (*ipvs.Table, error)

type ipvsCollector struct {
	src IPVSSource

	up, svcConns, svcPktsIn, svcPktsOut, svcBytesIn, svcBytesOut,
	dstActive, dstInactive, dstWeight, dstConns, dstPktsIn, dstPktsOut, dstBytesIn, dstBytesOut *prometheus.Desc
}

// NewIPVS returns a collector of lvskit_ipvs_* metrics, per service and per
// destination, read from the kernel at scrape time.
func NewIPVS(src IPVSSource) prometheus.Collector {
	s := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("lvskit_ipvs_service_"+name, help, []string{"service"}, nil)
	}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("lvskit_ipvs_destination_"+name, help, []string{"service", "destination"}, nil)
	}
	return &ipvsCollector{
		src:         src,
		up:          prometheus.NewDesc("lvskit_ipvs_up", "1 when the IPVS table could be read.", nil, nil),
		svcConns:    s("connections_total", "Connections scheduled by the service."),
		svcPktsIn:   s("packets_in_total", "Incoming packets of the service."),
		svcPktsOut:  s("packets_out_total", "Outgoing packets of the service."),
		svcBytesIn:  s("bytes_in_total", "Incoming bytes of the service."),
		svcBytesOut: s("bytes_out_total", "Outgoing bytes of the service."),
		dstActive:   d("active_connections", "Active connections of the destination."),
		dstInactive: d("inactive_connections", "Inactive connections of the destination."),
		dstWeight:   d("weight", "Current weight of the destination."),
		dstConns:    d("connections_total", "Connections scheduled to the destination."),
		dstPktsIn:   d("packets_in_total", "Incoming packets of the destination."),
		dstPktsOut:  d("packets_out_total", "Outgoing packets of the destination."),
		dstBytesIn:  d("bytes_in_total", "Incoming bytes of the destination."),
		dstBytesOut: d("bytes_out_total", "Outgoing bytes of the destination."),
	}
}

func (c *ipvsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.svcConns, c.svcPktsIn, c.svcPktsOut, c.svcBytesIn, c.svcBytesOut,
		c.dstActive, c.dstInactive, c.dstWeight, c.dstConns, c.dstPktsIn, c.dstPktsOut, c.dstBytesIn, c.dstBytesOut} {
		ch <- d
	}
}

func (c *ipvsCollector) Collect(ch chan<- prometheus.Metric) {
	t, err := c.src()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, v := range t.Services {
		svc := v.Service.String()
		cnt := func(d *prometheus.Desc, x uint64, lv ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(x), lv...)
		}
		st := v.Service.Stats
		cnt(c.svcConns, st.Conns, svc)
		cnt(c.svcPktsIn, st.InPackets, svc)
		cnt(c.svcPktsOut, st.OutPackets, svc)
		cnt(c.svcBytesIn, st.InBytes, svc)
		cnt(c.svcBytesOut, st.OutBytes, svc)
		for _, d := range v.Destinations {
			dst := d.Key(v.Service).String()
			if d.Port == 0 {
				dst = d.Address.String() + ":" + strconv.Itoa(int(v.Service.Port))
			}
			ch <- prometheus.MustNewConstMetric(c.dstActive, prometheus.GaugeValue, float64(d.ActiveConns), svc, dst)
			ch <- prometheus.MustNewConstMetric(c.dstInactive, prometheus.GaugeValue, float64(d.InactiveConns), svc, dst)
			ch <- prometheus.MustNewConstMetric(c.dstWeight, prometheus.GaugeValue, float64(d.Weight), svc, dst)
			cnt(c.dstConns, d.Stats.Conns, svc, dst)
			cnt(c.dstPktsIn, d.Stats.InPackets, svc, dst)
			cnt(c.dstPktsOut, d.Stats.OutPackets, svc, dst)
			cnt(c.dstBytesIn, d.Stats.InBytes, svc, dst)
			cnt(c.dstBytesOut, d.Stats.OutBytes, svc, dst)
		}
	}
}
