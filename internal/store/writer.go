package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// WriterConfig tunes a Writer.
type WriterConfig struct {
	BatchSize int           // flush at this many records (default: the store's BatchSizer, else 50 000)
	Interval  time.Duration // and at least this often (default: the store's BatchSizer, else 1 s)
	Buffers   int           // full batches queued before producers block (default: 200 000 records' worth, at least 2)
	Flushers  int           // batches written at once (default 2: one staged while one commits)
	Retry     time.Duration // first wait after a failed flush, doubling to 30 s (default 200 ms)
	Grace     time.Duration // how long Close keeps retrying (default 10 s)
	Log       *slog.Logger
}

// Writer is the session sink in front of a Store: it batches records,
// flushes on size or time from a goroutine of its own, and applies
// backpressure — WriteSessions blocks while Buffers batches wait — rather
// than dropping or growing without bound. A failed flush is retried with
// the same batch (stores are idempotent by record id) until it lands or
// the writer is closed.
type Writer struct {
	st     Store
	cfg    WriterConfig
	deltas Deltas

	mu      sync.Mutex
	pending []Record
	queue   chan queued
	// Batches are numbered as they are queued; open holds those not
	// stored yet and landed is closed (and replaced) whenever one is, so
	// that Sync can wait for the batches before it.
	lastID  uint64
	open    map[uint64]struct{}
	landed  chan struct{}
	done    chan struct{} // closed when every flusher has stopped
	tick    chan struct{} // closed to stop the interval flushes
	ticked  chan struct{}
	err     error // flush errors given up on at Close
	written uint64
	stop    context.CancelFunc
	ctx     context.Context
}

// BatchSizer is a Store that writes batches of some size best, and
// would have a partial batch wait up to FlushInterval for more.
type BatchSizer interface {
	BatchSize() int
	FlushInterval() time.Duration
}

// NewWriter starts a writer; Close flushes and stops it.
func NewWriter(st Store, cfg WriterConfig) *Writer {
	bs, sized := st.(BatchSizer)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 50000
		if sized {
			cfg.BatchSize = bs.BatchSize()
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
		if sized {
			cfg.Interval = bs.FlushInterval()
		}
	}
	if cfg.Buffers <= 0 {
		cfg.Buffers = max(2, (200000+cfg.BatchSize-1)/cfg.BatchSize)
	}
	if cfg.Flushers <= 0 {
		cfg.Flushers = 2
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 200 * time.Millisecond
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &Writer{st: st, cfg: cfg, queue: make(chan queued, cfg.Buffers), done: make(chan struct{}),
		tick: make(chan struct{}), ticked: make(chan struct{}), ctx: ctx, stop: stop,
		open: map[uint64]struct{}{}, landed: make(chan struct{})}
	w.deltas.Previous = st.Previous
	var wg sync.WaitGroup
	for range cfg.Flushers {
		wg.Go(func() {
			for b := range w.queue {
				w.flush(b.recs)
				w.mu.Lock()
				delete(w.open, b.id)
				close(w.landed)
				w.landed = make(chan struct{})
				w.mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(w.done) }()
	go w.every()
	return w
}

// WriteSessions queues a batch; it blocks while the queue is full
// (backpressure) until ctx ends.
func (w *Writer) WriteSessions(ctx context.Context, batch []schema.Session) error {
	w.mu.Lock()
	for i := range batch {
		r, err := w.deltas.Record(ctx, &batch[i])
		if err != nil {
			w.mu.Unlock()
			return fmt.Errorf("store writer: %w", err)
		}
		w.pending = append(w.pending, r)
	}
	var full queued
	if len(w.pending) >= w.cfg.BatchSize {
		full = w.take(make([]Record, 0, w.cfg.BatchSize))
	}
	w.mu.Unlock()
	if full.recs == nil {
		return nil
	}
	select {
	case w.queue <- full:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queued is a numbered batch of records on its way to the store.
type queued struct {
	id   uint64
	recs []Record
}

// take makes the pending records a batch, numbered and open, and starts
// pending anew as next; w.mu is held. With nothing pending the batch is
// empty and takes no number.
func (w *Writer) take(next []Record) queued {
	if len(w.pending) == 0 {
		return queued{}
	}
	w.lastID++
	b := queued{id: w.lastID, recs: w.pending}
	w.open[b.id] = struct{}{}
	w.pending = next
	return b
}

// Sync returns once every record written before it is stored, or ctx
// ends: a collector that must not mark its input read before the
// records are safe (a flow-log object's checkpoint) calls it first.
func (w *Writer) Sync(ctx context.Context) error {
	w.mu.Lock()
	b := w.take(nil)
	mark := w.lastID
	w.mu.Unlock()
	if b.recs != nil {
		select {
		case w.queue <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		w.mu.Lock()
		waiting := false
		for id := range w.open {
			if id <= mark {
				waiting = true
				break
			}
		}
		landed, err := w.landed, w.err
		w.mu.Unlock()
		if !waiting {
			return err
		}
		select {
		case <-landed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// every queues what is pending each interval, so that records reach
// the store within about one interval however slowly they come.
func (w *Writer) every() {
	defer close(w.ticked)
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.mu.Lock()
			b := w.take(nil)
			w.mu.Unlock()
			if b.recs != nil {
				w.queue <- b
			}
		case <-w.tick:
			return
		}
	}
}

// flush writes one batch, retrying with backoff until it lands or the
// writer is told to give up (Close after its final attempt).
func (w *Writer) flush(b []Record) {
	wait := w.cfg.Retry
	for len(b) > 0 {
		n, err := w.st.WriteSessions(w.ctx, b)
		if err == nil {
			w.mu.Lock()
			w.written += uint64(n)
			w.mu.Unlock()
			return
		}
		if w.ctx.Err() != nil {
			w.mu.Lock()
			w.err = errors.Join(w.err, fmt.Errorf("store writer: %d records not stored: %w", len(b), err))
			w.mu.Unlock()
			return
		}
		w.cfg.Log.Warn("store write failed; retrying", "records", len(b), "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-w.ctx.Done():
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// Written is how many new records have been stored.
func (w *Writer) Written() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// Close flushes what is pending and stops. It returns an error naming how
// many records could not be stored; none is lost silently.
func (w *Writer) Close() error {
	close(w.tick)
	<-w.ticked
	w.mu.Lock()
	last := w.take(nil)
	w.mu.Unlock()
	if last.recs != nil {
		w.queue <- last
	}
	close(w.queue)
	select {
	case <-w.done:
	case <-time.After(w.cfg.Grace):
		w.stop() // the retrying flush gives up and records the loss
		<-w.done
	}
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
