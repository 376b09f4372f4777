package defender

import (
	"github.com/prometheus/client_golang/prometheus"
)

// counters are the collector's Prometheus metrics (osprey_defender_*).
type counters struct {
	reports       *prometheus.CounterVec // by transport, format
	rejected      *prometheus.CounterVec // by transport, code
	accepted      *prometheus.CounterVec // by transport
	cloudLines    prometheus.Counter
	cloudRejected prometheus.Counter
	written       prometheus.Counter
	writeErrors   prometheus.Counter
	dropped       prometheus.Counter
	replyErrors   prometheus.Counter
}

func newCounters(reg prometheus.Registerer, t *things) (*counters, error) {
	c := &counters{
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osprey_defender_reports_total",
			Help: "Device-side reports received, by transport (mqtt, http) and format (json, cbor)."}, []string{"transport", "format"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osprey_defender_reports_rejected_total",
			Help: "Reports answered REJECTED, by transport and error code."}, []string{"transport", "code"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osprey_defender_reports_accepted_total",
			Help: "Reports whose metrics were stored and answered ACCEPTED, by transport."}, []string{"transport"}),
		cloudLines: prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_defender_cloud_lines_total",
			Help: "Lines read from cloud-side metric feeds."}),
		cloudRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_defender_cloud_lines_rejected_total",
			Help: "Cloud-side feed lines set aside as bad input."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_defender_metrics_written_total",
			Help: "Device metrics the sink accepted."}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_defender_write_errors_total",
			Help: "Batches the sink refused."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_defender_metrics_dropped_total",
			Help: "Device metrics in batches the sink refused (their reports were answered InternalFailure)."}),
		replyErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_defender_reply_errors_total",
			Help: "Replies that could not be published to the device."}),
	}
	if reg == nil {
		return c, nil
	}
	tracked := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "osprey_defender_things_tracked",
		Help: "Things whose last report id is remembered."}, func() float64 { n, _ := t.stats(); return float64(n) })
	evicted := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "osprey_defender_things_evicted_total",
		Help: "Things forgotten to keep within max_things."}, func() float64 { _, n := t.stats(); return float64(n) })
	for _, m := range []prometheus.Collector{c.reports, c.rejected, c.accepted, c.cloudLines, c.cloudRejected,
		c.written, c.writeErrors, c.dropped, c.replyErrors, tracked, evicted} {
		if err := reg.Register(m); err != nil {
			return nil, err
		}
	}
	return c, nil
}
