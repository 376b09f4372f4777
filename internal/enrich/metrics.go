package enrich

import "github.com/prometheus/client_golang/prometheus"

// Collector exports each source's reload counters to Prometheus.
type Collector struct {
	e                        *Enricher
	reloads, failures, stale *prometheus.Desc
	geoErrors                *prometheus.Desc
}

// NewCollector describes the enricher's metrics.
func NewCollector(e *Enricher) *Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("osprey_enrich_"+name, help, []string{"source"}, nil)
	}
	return &Collector{e: e,
		reloads:  d("reloads_total", "Successful loads of an enrichment source, the first included."),
		failures: d("reload_failures_total", "Failed loads of an enrichment source (its last good version stayed in force)."),
		stale:    d("source_stale", "1 while the source's last load failed."),
		geoErrors: prometheus.NewDesc("osprey_enrich_geo_lookup_errors_total",
			"GeoIP/ASN records that could not be read (a database corrupt past its index) since the databases were last loaded.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.reloads
	ch <- c.failures
	ch <- c.stale
	ch <- c.geoErrors
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.e.Stats() {
		stale := 0.0
		if s.LastError != "" {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(s.Reloads), s.Name)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(s.Failures), s.Name)
		ch <- prometheus.MustNewConstMetric(c.stale, prometheus.GaugeValue, stale, s.Name)
	}
	if db := c.e.geo.Load(); db != nil {
		ch <- prometheus.MustNewConstMetric(c.geoErrors, prometheus.CounterValue, float64(db.LookupErrors()))
	}
}
