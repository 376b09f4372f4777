package deliver

import (
	"context"
	"errors"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Router fans events out to its outputs. It is a detect.FindingSink;
// Sessions and Metrics give the sinks for the other kinds. Writes only
// queue (one fsync per output and batch), so they are quick whatever
// the receivers do; they are safe for concurrent use. Closing a sink
// does nothing: the Router's own Close stops the outputs, once every
// writer is done.
type Router struct {
	outputs []*Output
	wants   [KindMetric + 1]bool
}

// NewRouter routes to outputs.
func NewRouter(outputs ...*Output) *Router {
	r := &Router{outputs: outputs}
	for _, o := range outputs {
		for k := KindFinding; k <= KindMetric; k++ {
			r.wants[k] = r.wants[k] || o.Wants(k)
		}
	}
	return r
}

// Wants says whether any output carries events of kind k.
func (r *Router) Wants(k Kind) bool { return r.wants[k] }

// Outputs are the router's outputs.
func (r *Router) Outputs() []*Output { return r.outputs }

// Start starts every output's delivery loop.
func (r *Router) Start(ctx context.Context) {
	for _, o := range r.outputs {
		o.Start(ctx)
	}
}

// Close drains and stops the outputs (in parallel: each waits up to its
// drain_timeout).
func (r *Router) Close() error {
	errs := make([]error, len(r.outputs))
	done := make(chan struct{})
	for i, o := range r.outputs {
		go func() { errs[i] = o.Stop(); done <- struct{}{} }()
	}
	for range r.outputs {
		<-done
	}
	return errors.Join(errs...)
}

func (r *Router) route(k Kind, events []Event) error {
	var errs []error
	for _, o := range r.outputs {
		if o.Wants(k) {
			errs = append(errs, o.enqueue(events))
		}
	}
	return errors.Join(errs...)
}

// WriteFindings queues findings for the outputs that carry them.
func (r *Router) WriteFindings(_ context.Context, batch []schema.Finding) error {
	if !r.wants[KindFinding] || len(batch) == 0 {
		return nil
	}
	events := make([]Event, len(batch))
	for i := range batch {
		events[i] = findingEvent(&batch[i])
	}
	return r.route(KindFinding, events)
}

// Sessions is the sink of sessions, for a pipeline.Tee.
func (r *Router) Sessions() SessionSink { return SessionSink{r} }

// Metrics is the sink of device metrics, for the collectors.
func (r *Router) Metrics() MetricSink { return MetricSink{r} }

// SessionSink is a pipeline.SessionSink into the router.
type SessionSink struct{ r *Router }

func (s SessionSink) WriteSessions(_ context.Context, batch []schema.Session) error {
	if !s.r.wants[KindSession] || len(batch) == 0 {
		return nil
	}
	events := make([]Event, len(batch))
	for i := range batch {
		events[i] = sessionEvent(&batch[i])
	}
	return s.r.route(KindSession, events)
}

// Close does nothing; the Router closes once.
func (SessionSink) Close() error { return nil }

// MetricSink is a collect.MetricSink into the router.
type MetricSink struct{ r *Router }

func (s MetricSink) WriteMetrics(_ context.Context, batch []schema.DeviceMetric) error {
	if !s.r.wants[KindMetric] || len(batch) == 0 {
		return nil
	}
	events := make([]Event, len(batch))
	for i := range batch {
		events[i] = metricEvent(&batch[i])
	}
	return s.r.route(KindMetric, events)
}

// Close does nothing; the Router closes once.
func (MetricSink) Close() error { return nil }
