package detect

import "github.com/prometheus/client_golang/prometheus"

// metrics are the engine's counters. Per-detector children are resolved
// once so that counting a report is an atomic add.
type metrics struct {
	reports  []prometheus.Counter // by detector index
	findings *prometheus.CounterVec
	byLabel  map[[2]string]prometheus.Counter

	sessions, suppressed, cleared, evicted, ticks, sinkErrors prometheus.Counter
	active                                                    prometheus.Gauge
}

// newMetrics creates the metrics and registers them on reg unless it is
// nil (an engine in a test or a one-off tool).
func newMetrics(reg prometheus.Registerer, detectors []string) (*metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_detect_" + name, Help: help})
	}
	reports := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "osprey_detect_reports_total", Help: "Reports from detectors, repeats and suppressed ones included, by detector.",
	}, []string{"detector"})
	m := &metrics{
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "osprey_detect_findings_total", Help: "Findings raised (new occurrences, not repeats), by detector and severity.",
		}, []string{"detector", "severity"}),
		byLabel:    map[[2]string]prometheus.Counter{},
		sessions:   counter("sessions_total", "Sessions fed to the detectors."),
		suppressed: counter("suppressed_total", "Reports that a suppression kept from raising a finding."),
		cleared:    counter("cleared_total", "Findings cleared after their quiet time."),
		evicted:    counter("evicted_total", "Open findings cleared early to bound memory (max_active)."),
		ticks:      counter("ticks_total", "Ticks, driven by session time."),
		sinkErrors: counter("sink_errors_total", "Batches of findings the sink refused."),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "osprey_detect_active_findings", Help: "Open findings (active or acknowledged) held by the engine.",
		}),
	}
	for _, d := range detectors {
		m.reports = append(m.reports, reports.WithLabelValues(d))
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		reports, m.findings, m.sessions, m.suppressed, m.cleared, m.evicted, m.ticks, m.sinkErrors, m.active,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// raised counts a new finding; children are cached since the labels
// come from a small set.
func (m *metrics) raised(detector string, s Severity) {
	k := [2]string{detector, string(s)}
	c, ok := m.byLabel[k]
	if !ok {
		c = m.findings.WithLabelValues(detector, string(s))
		m.byLabel[k] = c
	}
	c.Inc()
}

var evictionsDesc = prometheus.NewDesc("osprey_detect_detector_evictions_total",
	"Keys a detector dropped because a memory cap was reached, by detector.", []string{"detector"}, nil)

// evictions reads the detectors' eviction counts under the engine's
// lock, since detectors are not safe for concurrent use.
type evictions struct{ e *Engine }

func (evictions) Describe(ch chan<- *prometheus.Desc) { ch <- evictionsDesc }

func (c evictions) Collect(ch chan<- prometheus.Metric) {
	byName := map[string]uint64{}
	c.e.mu.Lock()
	for i, d := range c.e.detectors {
		if ev, ok := d.(Evictor); ok {
			byName[c.e.names[i]] += ev.Evictions()
		}
	}
	c.e.mu.Unlock()
	for name, n := range byName {
		ch <- prometheus.MustNewConstMetric(evictionsDesc, prometheus.CounterValue, float64(n), name)
	}
}
