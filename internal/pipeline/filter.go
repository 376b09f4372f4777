package pipeline

import (
	"context"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Filter passes on only the sessions keep accepts (osprey read --filter).
// It reuses one batch slice; the sink it feeds must copy what it keeps,
// as SessionSink requires anyway.
func Filter(next SessionSink, keep func(*schema.Session) bool) SessionSink {
	return &filtered{next: next, keep: keep}
}

type filtered struct {
	next  SessionSink
	keep  func(*schema.Session) bool
	batch []schema.Session
}

func (f *filtered) WriteSessions(ctx context.Context, batch []schema.Session) error {
	f.batch = f.batch[:0]
	for i := range batch {
		if f.keep(&batch[i]) {
			f.batch = append(f.batch, batch[i])
		}
	}
	if len(f.batch) == 0 {
		return nil
	}
	return f.next.WriteSessions(ctx, f.batch)
}

func (f *filtered) Close() error { return f.next.Close() }
