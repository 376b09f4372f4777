package sensor

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/dpi"
)

// Collector exports a running sensor's counters to Prometheus. It reads
// atomics and takes each shard's lock briefly, so scraping costs the hot
// path nothing.
type Collector struct {
	s                                                *Sensor
	frames, bytes, decodeErrors, sessions, flowsOpen *prometheus.Desc
	flows, evictions, queued                         *prometheus.Desc
	apps, dpiOverCapacity                            *prometheus.Desc
}

// NewCollector describes the sensor's metrics, labelled with its source.
func NewCollector(s *Sensor, source string) *Collector {
	l := prometheus.Labels{"source": source}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("osprey_sensor_"+name, help, nil, l)
	}
	return &Collector{s: s,
		frames:       d("frames_total", "Frames received from the source."),
		bytes:        d("frame_bytes_total", "Bytes of the frames received (wire length)."),
		decodeErrors: d("decode_errors_total", "Frames the decoder could not fully decode."),
		sessions:     d("sessions_total", "Session records handed to the sink."),
		flowsOpen:    d("flows_open", "Flows tracked right now."),
		flows:        d("flows_total", "Flows created."),
		queued:       d("queued_batches", "Batches of sessions waiting for the sink (live sources)."),
		evictions: prometheus.NewDesc("osprey_sensor_evictions_total", "Flows ended early by the memory cap (meter.max_flows), by reason.",
			[]string{"reason"}, l),
		apps: prometheus.NewDesc("osprey_dpi_flows_total", "Flows whose application was decided, by how: content, port or unknown.",
			[]string{"by"}, l),
		dpiOverCapacity: prometheus.NewDesc("osprey_dpi_over_capacity_total", "Flows not inspected because dpi.flows were buffering.", nil, l),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.frames, c.bytes, c.decodeErrors, c.sessions, c.flowsOpen, c.flows, c.queued, c.evictions, c.apps, c.dpiOverCapacity} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	frames, bytes := c.s.Frames()
	ch <- prometheus.MustNewConstMetric(c.frames, prometheus.CounterValue, float64(frames))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(bytes))
	ch <- prometheus.MustNewConstMetric(c.decodeErrors, prometheus.CounterValue, float64(c.s.decodeErrors.Load()))
	ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.CounterValue, float64(c.s.sessions.Load()))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(len(c.s.queue)))
	// Tables are only read under their shard's lock, which live sources
	// (the only ones scraped) always take.
	open, flows := 0, uint64(0)
	var apps dpi.Stats
	evicted := map[string]uint64{"cap_unanswered": 0, "cap_established": 0}
	for _, sh := range c.s.shards {
		if sh.locked {
			sh.mu.Lock()
			open += sh.table.Len()
			st := sh.table.Stats()
			apps.Add(sh.table.DPIStats())
			sh.mu.Unlock()
			flows += st.Flows
			for k, v := range st.Evicted {
				evicted[k] += v
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.flowsOpen, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(c.flows, prometheus.CounterValue, float64(flows))
	for reason, n := range evicted {
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(n), reason)
	}
	for by, n := range map[string]uint64{"content": apps.ByContent, "port": apps.ByPort, "unknown": apps.Unknown} {
		ch <- prometheus.MustNewConstMetric(c.apps, prometheus.CounterValue, float64(n), by)
	}
	ch <- prometheus.MustNewConstMetric(c.dpiOverCapacity, prometheus.CounterValue, float64(apps.OverCapacity))
}
