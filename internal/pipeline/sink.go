// Package pipeline joins the stages after metering. Stages talk through
// SessionSink so that a durable stream can later sit between sensors and
// the rest of the pipeline without changing either side.
package pipeline

import (
	"context"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// SessionSink receives batches of sessions. The slice and its elements
// belong to the caller once WriteSessions returns; a sink that keeps them
// must copy. An error means the batch was not accepted.
type SessionSink interface {
	WriteSessions(ctx context.Context, batch []schema.Session) error
	// Close flushes whatever the sink buffers.
	Close() error
}

// Stamp sets the tenant and sensor of records that came without them
// (collectors that know neither) and passes the batch on.
func Stamp(next SessionSink, tenant, sensor string) SessionSink {
	return &stamped{next: next, tenant: tenant, sensor: sensor}
}

type stamped struct {
	next           SessionSink
	tenant, sensor string
}

func (s *stamped) WriteSessions(ctx context.Context, batch []schema.Session) error {
	for i := range batch {
		if batch[i].Tenant == "" {
			batch[i].Tenant = s.tenant
		}
		if batch[i].Sensor == "" {
			batch[i].Sensor = s.sensor
		}
	}
	return s.next.WriteSessions(ctx, batch)
}

func (s *stamped) Close() error { return s.next.Close() }
