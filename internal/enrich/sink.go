package enrich

import (
	"context"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Sink enriches each batch in place and passes it on: it is the first
// stage after the meter, so that the device inventory, the outputs and
// the store all see named endpoints.
func Sink(next pipeline.SessionSink, e *Enricher) pipeline.SessionSink {
	return &sink{next: next, e: e}
}

type sink struct {
	next pipeline.SessionSink
	e    *Enricher
}

func (s *sink) WriteSessions(ctx context.Context, batch []schema.Session) error {
	for i := range batch {
		s.e.Session(&batch[i])
	}
	return s.next.WriteSessions(ctx, batch)
}

func (s *sink) Close() error { return s.next.Close() }

// MetricSink sets each device metric's asset and passes the batch on.
func MetricSink(next collect.MetricSink, e *Enricher) collect.MetricSink {
	return &metricSink{next: next, e: e}
}

type metricSink struct {
	next collect.MetricSink
	e    *Enricher
}

func (s *metricSink) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error {
	for i := range batch {
		s.e.Metric(&batch[i])
	}
	return s.next.WriteMetrics(ctx, batch)
}

func (s *metricSink) Close() error { return s.next.Close() }
