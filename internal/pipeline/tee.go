package pipeline

import (
	"context"
	"errors"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Tee writes every batch to each sink in turn (an output and a store,
// say); the first error stops the batch.
func Tee(sinks ...SessionSink) SessionSink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return tee(sinks)
}

type tee []SessionSink

func (t tee) WriteSessions(ctx context.Context, batch []schema.Session) error {
	for _, s := range t {
		if err := s.WriteSessions(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

func (t tee) Close() error {
	var errs []error
	for _, s := range t {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
