package objects

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one source's counters (label source: "files" or
// s3://bucket/prefix).
type metrics struct {
	listed, read, failed, retries, bytes, listErrors prometheus.Counter
}

type metricVecs struct {
	listed, read, failed, retries, bytes, listErrors *prometheus.CounterVec
}

func newMetricVecs() metricVecs {
	c := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osprey_collect_objects_" + name, Help: help}, []string{"source"})
	}
	return metricVecs{
		listed:     c("listed_total", "Objects found that were not read yet."),
		read:       c("read_total", "Objects read whole and recorded in the checkpoint."),
		failed:     c("failed_total", "Objects given up after their retries; tried again on the next run."),
		retries:    c("retries_total", "Handler failures that were retried."),
		bytes:      c("bytes_total", "Bytes read from objects, retries included."),
		listErrors: c("list_errors_total", "Failed listings of an S3 prefix or scans of the paths."),
	}
}

func (v metricVecs) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{v.listed, v.read, v.failed, v.retries, v.bytes, v.listErrors} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (v metricVecs) of(source string) metrics {
	return metrics{
		listed: v.listed.WithLabelValues(source), read: v.read.WithLabelValues(source),
		failed: v.failed.WithLabelValues(source), retries: v.retries.WithLabelValues(source),
		bytes: v.bytes.WithLabelValues(source), listErrors: v.listErrors.WithLabelValues(source),
	}
}

// lagGauge reports how far behind a source is: the age of the oldest
// object listed but not read yet, 0 when none waits.
func lagGauge(source string, oldest func() time.Time) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "osprey_collect_objects_lag_seconds",
		Help:        "Age of the oldest object listed but not read yet; 0 when none waits.",
		ConstLabels: prometheus.Labels{"source": source},
	}, func() float64 {
		t := oldest()
		if t.IsZero() {
			return 0
		}
		return time.Since(t).Seconds()
	})
}
