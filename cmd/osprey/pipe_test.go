package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// recordingFindings keeps what it is given; it fails while fail is set.
type recordingFindings struct {
	mu     sync.Mutex
	got    []string
	fail   error
	closed bool
}

func (r *recordingFindings) WriteFindings(_ context.Context, b []schema.Finding) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for _, f := range b {
		r.got = append(r.got, f.ID)
	}
	return nil
}

func (r *recordingFindings) Close() error { r.closed = true; return nil }

// TestStoreFindings: findings reach the store sink in order, from a
// batch the caller reuses at once; Close writes the queue first; a
// store error comes back from a later write.
func TestStoreFindings(t *testing.T) {
	rec := &recordingFindings{}
	s := newStoreFindings(rec)
	batch := make([]schema.Finding, 1)
	for i := range 100 {
		batch[0] = schema.Finding{ID: fmt.Sprint(i)}
		if err := s.WriteFindings(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 100 || rec.got[0] != "0" || rec.got[99] != "99" || !rec.closed {
		t.Fatalf("store got %d findings (%v…), closed %v", len(rec.got), rec.got[:min(3, len(rec.got))], rec.closed)
	}

	boom := errors.New("store down")
	rec = &recordingFindings{fail: boom}
	s = newStoreFindings(rec)
	s.WriteFindings(context.Background(), batch)
	if err := s.Sync(context.Background()); err != nil { // the failed write is done
		t.Fatal(err)
	}
	if err := s.WriteFindings(context.Background(), batch); !errors.Is(err, boom) {
		t.Errorf("the write after a store error returned %v", err)
	}
	s.Close()
}
