package deliver

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons (osprey_output_dropped_total{reason}).
const (
	DropQueueFull       = "queue_full"        // oldest records dropped to make room
	DropTooLarge        = "too_large"         // one record larger than queue.max_bytes
	DropEncode          = "encode"            // the encoder (template) failed
	DropQueueError      = "queue_error"       // the queue could not write (disk full, I/O error)
	DropDeadLetterError = "dead_letter_error" // a failed record could not be written to the dead-letter file
)

// Failure reasons (osprey_output_failed_total{reason}): records sent to
// the dead-letter file.
const (
	FailRejected  = "rejected"  // the receiver refused them for good (4xx)
	FailExhausted = "exhausted" // retry.max_attempts failures in a row
)

// Metrics are the delivery metrics of every output, labelled by output;
// one per Prometheus registry.
type Metrics struct {
	queued, sent, retried *prometheus.CounterVec
	failed, dropped       *prometheus.CounterVec
	mu                    sync.Mutex
	outputs               []*Output
	depth, bytes, lag     *prometheus.Desc
	events                *prometheus.Desc
}

// NewMetrics registers the delivery metrics on reg; a nil reg keeps them
// unregistered (tests, one-off commands).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osprey_output_" + name, Help: help}, append([]string{"output"}, labels...))
	}
	m := &Metrics{
		queued:  c("queued_total", "Records accepted into the output's queue."),
		sent:    c("sent_total", "Records the receiver accepted."),
		retried: c("retried_total", "Records sent again after a failed attempt."),
		failed:  c("failed_total", "Records written to the dead-letter file: refused by the receiver, or failed retry.max_attempts times.", "reason"),
		dropped: c("dropped_total", "Records lost before delivery, by reason (queue_full, too_large, encode, queue_error, dead_letter_error).", "reason"),
		depth:   prometheus.NewDesc("osprey_output_queue_depth", "Records waiting in the output's queue, the batch being sent included.", []string{"output"}, nil),
		bytes:   prometheus.NewDesc("osprey_output_queue_bytes", "Size of the records waiting in the output's queue.", []string{"output"}, nil),
		lag:     prometheus.NewDesc("osprey_output_lag_seconds", "Age of the oldest record in the output's queue; 0 when it is empty.", []string{"output"}, nil),
		events:  prometheus.NewDesc("osprey_output_events_total", "Events of the output's own kind: syslog messages truncated, OCSF files rotated and pruned.", []string{"output", "event"}, nil),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.queued, m.sent, m.retried, m.failed, m.dropped, gauges{m}} {
			if err := reg.Register(col); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *Metrics) add(o *Output) {
	m.mu.Lock()
	m.outputs = append(m.outputs, o)
	m.mu.Unlock()
}

// gauges reads queue depth and lag, and the destinations' own counts,
// at scrape time.
type gauges struct{ m *Metrics }

func (g gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.m.depth
	ch <- g.m.bytes
	ch <- g.m.lag
	ch <- g.m.events
}

func (g gauges) Collect(ch chan<- prometheus.Metric) {
	g.m.mu.Lock()
	outs := append([]*Output(nil), g.m.outputs...)
	g.m.mu.Unlock()
	now := time.Now()
	for _, o := range outs {
		n, size := o.q.Len()
		lag := 0.0
		if t := o.q.Oldest(); !t.IsZero() {
			lag = max(now.Sub(t).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(g.m.depth, prometheus.GaugeValue, float64(n), o.cfg.Name)
		ch <- prometheus.MustNewConstMetric(g.m.bytes, prometheus.GaugeValue, float64(size), o.cfg.Name)
		ch <- prometheus.MustNewConstMetric(g.m.lag, prometheus.GaugeValue, lag, o.cfg.Name)
		if c, ok := o.dst.(Counter); ok {
			for event, n := range c.Counts() {
				ch <- prometheus.MustNewConstMetric(g.m.events, prometheus.CounterValue, float64(n), o.cfg.Name, event)
			}
		}
	}
}

// outputMetrics are one output's counters.
type outputMetrics struct {
	queued, sent, retried prometheus.Counter
	failed                map[string]prometheus.Counter
	dropped               map[string]prometheus.Counter
}

func (m *Metrics) of(name string) outputMetrics {
	om := outputMetrics{
		queued: m.queued.WithLabelValues(name), sent: m.sent.WithLabelValues(name), retried: m.retried.WithLabelValues(name),
		failed: map[string]prometheus.Counter{}, dropped: map[string]prometheus.Counter{},
	}
	for _, r := range []string{FailRejected, FailExhausted} {
		om.failed[r] = m.failed.WithLabelValues(name, r)
	}
	for _, r := range []string{DropQueueFull, DropTooLarge, DropEncode, DropQueueError, DropDeadLetterError} {
		om.dropped[r] = m.dropped.WithLabelValues(name, r)
	}
	return om
}
