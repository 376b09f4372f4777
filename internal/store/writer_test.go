package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// flaky is a Store whose writes fail until told otherwise, and that can
// block, to see the Writer retry and push back.
type flaky struct {
	Store
	mu      sync.Mutex
	fail    bool
	gate    chan struct{} // when set, each write waits for a token
	ids     map[string]bool
	batches int
}

func (f *flaky) WriteSessions(ctx context.Context, b []Record) (int, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches++
	if f.fail {
		return 0, errors.New("server away")
	}
	n := 0
	for _, r := range b {
		if k := r.UID + "/" + string(rune('0'+r.Seq)); !f.ids[k] {
			f.ids[k] = true
			n++
		}
	}
	return n, nil
}

func (f *flaky) Previous(context.Context, *schema.Session) (Counters, bool, error) {
	return Counters{}, false, nil
}

func sessions(n int, prefix string) []schema.Session {
	out := make([]schema.Session, n)
	for i := range out {
		out[i] = schema.Session{UID: prefix + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)), Final: true}
	}
	return out
}

func TestWriterRetriesUntilStored(t *testing.T) {
	f := &flaky{fail: true, ids: map[string]bool{}}
	w := NewWriter(f, WriterConfig{BatchSize: 10, Interval: time.Hour, Retry: time.Millisecond})
	if err := w.WriteSessions(context.Background(), sessions(25, "x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	f.mu.Lock()
	tries := f.batches
	f.fail = false
	f.mu.Unlock()
	if tries < 2 {
		t.Fatalf("%d write attempts while the store failed; want retries", tries)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Written(); got != 25 {
		t.Fatalf("%d records stored, want 25", got)
	}
}

// sized is a store with a batch size of its own.
type sized struct{ flaky }

func (*sized) BatchSize() int               { return 7 }
func (*sized) FlushInterval() time.Duration { return 3 * time.Second }

// TestWriterStoreBatchSize: without a configured size or interval the
// writer batches as the store asks; configured ones win.
func TestWriterStoreBatchSize(t *testing.T) {
	for _, c := range []struct{ config, batches int }{{0, 3}, {10, 2}} { // 20 records
		f := &sized{flaky{ids: map[string]bool{}}}
		w := NewWriter(f, WriterConfig{BatchSize: c.config, Interval: time.Hour})
		for i := range 20 {
			if err := w.WriteSessions(context.Background(), sessions(1, string(rune('A'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if f.batches != c.batches || w.Written() != 20 {
			t.Errorf("batch size %d configured: %d records in %d batches, want 20 in %d", c.config, w.Written(), f.batches, c.batches)
		}
	}
	// The flush interval likewise.
	for _, c := range []struct{ config, want time.Duration }{{0, 3 * time.Second}, {time.Minute, time.Minute}} {
		w := NewWriter(&sized{flaky{ids: map[string]bool{}}}, WriterConfig{Interval: c.config})
		if w.cfg.Interval != c.want {
			t.Errorf("interval %v configured: %v, want %v", c.config, w.cfg.Interval, c.want)
		}
		w.Close()
	}
}

func TestWriterBackpressure(t *testing.T) {
	f := &flaky{gate: make(chan struct{}), ids: map[string]bool{}}
	w := NewWriter(f, WriterConfig{BatchSize: 10, Buffers: 1, Interval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var err error
	for i := 0; err == nil && i < 10; i++ { // one batch in flight, one queued, then blocked
		err = w.WriteSessions(ctx, sessions(10, string(rune('A'+i))))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a full queue did not block the producer: %v", err)
	}
	close(f.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWriterSync: Sync returns only once everything written before it is
// stored — a full batch held by a slow store and the pending remainder —
// and waits while the store fails.
func TestWriterSync(t *testing.T) {
	f := &flaky{gate: make(chan struct{}), ids: map[string]bool{}}
	w := NewWriter(f, WriterConfig{BatchSize: 10, Interval: time.Hour, Retry: time.Millisecond})
	defer w.Close()
	if err := w.WriteSessions(context.Background(), sessions(10, "s")); err != nil { // a full batch
		t.Fatal(err)
	}
	if err := w.WriteSessions(context.Background(), sessions(5, "r")); err != nil { // pending
		t.Fatal(err)
	}
	synced := make(chan error, 1)
	go func() { synced <- w.Sync(context.Background()) }()
	f.gate <- struct{}{} // one of the two batches lands
	select {
	case err := <-synced:
		t.Fatalf("Sync returned (%v) with a batch still unwritten", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.gate <- struct{}{}
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if got := w.Written(); got != 15 {
		t.Fatalf("%d records stored at Sync, want 15", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	w.WriteSessions(ctx, sessions(3, "t"))
	if err := w.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync with the store blocked: %v, want the context's deadline", err)
	}
	close(f.gate)
}

func TestWriterCloseReportsLoss(t *testing.T) {
	f := &flaky{fail: true, ids: map[string]bool{}}
	w := NewWriter(f, WriterConfig{BatchSize: 100, Interval: time.Hour, Retry: time.Millisecond, Grace: 20 * time.Millisecond})
	w.WriteSessions(context.Background(), sessions(5, "y"))
	if err := w.Close(); err == nil {
		t.Fatal("Close returned no error for records never stored")
	}
}

func TestDeltas(t *testing.T) {
	ctx := context.Background()
	stored := Counters{OrigBytes: 100, RespBytes: 10, OrigPkts: 5, RespPkts: 2}
	d := Deltas{Previous: func(_ context.Context, s *schema.Session) (Counters, bool, error) {
		return stored, s.UID == "old" && s.Seq == 3, nil
	}}
	s := schema.Session{UID: "new", OrigBytes: 50, OrigPkts: 3}
	r, _ := d.Record(ctx, &s)
	if r.Delta.OrigBytes != 50 {
		t.Fatalf("first record delta %+v", r.Delta)
	}
	s.Seq, s.OrigBytes, s.OrigPkts, s.Final = 1, 80, 4, true
	if r, _ = d.Record(ctx, &s); r.Delta.OrigBytes != 30 || r.Delta.OrigPkts != 1 {
		t.Fatalf("second record delta %+v, want 30 bytes 1 packet", r.Delta)
	}
	old := schema.Session{UID: "old", Seq: 3, OrigBytes: 150, RespBytes: 10, OrigPkts: 7, RespPkts: 2}
	if r, _ = d.Record(ctx, &old); r.Delta != (Counters{OrigBytes: 50, OrigPkts: 2}) {
		t.Fatalf("delta after a restart %+v, want from the stored record", r.Delta)
	}
}
