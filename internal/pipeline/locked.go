package pipeline

import (
	"context"
	"sync"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Locked makes a sink safe for concurrent writers (several meter shards or
// several sensors sharing one output) by serialising calls.
func Locked(s SessionSink) SessionSink {
	if l, ok := s.(*locked); ok {
		return l
	}
	return &locked{sink: s}
}

type locked struct {
	mu   sync.Mutex
	sink SessionSink
}

func (l *locked) WriteSessions(ctx context.Context, batch []schema.Session) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sink.WriteSessions(ctx, batch)
}

func (l *locked) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sink.Close()
}
