package deliver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Output is one configured output: its route, encoder, queue and
// delivery loop. New opens the queue; Start begins delivering; Stop
// drains for up to drain_timeout and closes.
type Output struct {
	cfg     Config
	route   route
	enc     Encoder
	dst     Destination
	q       *Queue
	dead    deadLetter
	m       outputMetrics
	onError func(error)

	encMu  sync.Mutex
	encBuf []byte
	recs   []Record

	left int // records still queued when stopped

	draining chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// Options are what outputs share.
type Options struct {
	// DataDir holds the queues of outputs without queue.dir, each in
	// DataDir/<name>.
	DataDir string
	// Metrics exports the delivery metrics; nil keeps them unregistered.
	Metrics *Metrics
	// Tags resolves the tags of finding entities and metric devices for
	// the tags filter; nil knows only "tag:" entities and session tags.
	Tags TagsFunc
	// OnError hears of failed sends and dead-letter writes (already
	// counted), for a rate-limited log; nil ignores them.
	OnError func(error)
}

// NewOutput opens the output's queue (creating its directory) and
// dead-letter path; cfg must be valid. It starts nothing.
func NewOutput(cfg Config, enc Encoder, dst Destination, opts Options) (*Output, error) {
	dir := cfg.Queue.Dir
	if dir == "" {
		dir = filepath.Join(opts.DataDir, cfg.Name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("output %s: queue.dir: %w", cfg.Name, err)
	}
	q, err := OpenQueue(filepath.Join(dir, "queue.db"), cfg.Queue.MaxRecords, int64(cfg.Queue.MaxBytes))
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", cfg.Name, err)
	}
	m := opts.Metrics
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	o := &Output{
		cfg: cfg, route: newRoute(cfg, opts.Tags), enc: enc, dst: dst, q: q,
		dead:     deadLetter{path: cfg.DeadLetter, output: cfg.Name},
		m:        m.of(cfg.Name),
		onError:  opts.OnError,
		draining: make(chan struct{}), done: make(chan struct{}),
	}
	if o.dead.path == "" {
		o.dead.path = filepath.Join(dir, "dead-letter.jsonl")
	}
	if o.onError == nil {
		o.onError = func(error) {}
	}
	m.add(o)
	return o, nil
}

// Name is the output's name.
func (o *Output) Name() string { return o.cfg.Name }

// Left is how many records stayed queued when the output stopped.
func (o *Output) Left() int { return o.left }

// Wants says whether the output carries events of kind k.
func (o *Output) Wants(k Kind) bool { return o.route.kinds[k] }

// enqueue filters, encodes and queues events of one kind. A failure to
// queue is counted and returned.
func (o *Output) enqueue(events []Event) error {
	o.encMu.Lock()
	defer o.encMu.Unlock()
	o.encBuf, o.recs = o.encBuf[:0], o.recs[:0]
	var encErr error
	for i := range events {
		e := &events[i]
		if !o.route.match(e) {
			continue
		}
		start := len(o.encBuf)
		buf, err := o.enc.Encode(o.encBuf, e)
		if err != nil {
			o.m.dropped[DropEncode].Inc()
			encErr = fmt.Errorf("output %s: encode %s: %w", o.cfg.Name, e.Kind, err)
			o.encBuf = o.encBuf[:start]
			continue
		}
		o.encBuf = buf
		// Data points into encBuf, which may grow: fixed up below.
		o.recs = append(o.recs, Record{Kind: e.Kind, Data: o.encBuf[start:len(o.encBuf):len(o.encBuf)]})
	}
	if encErr != nil {
		o.onError(encErr)
	}
	if len(o.recs) == 0 {
		return nil
	}
	off := 0
	for i := range o.recs {
		n := len(o.recs[i].Data)
		o.recs[i].Data = o.encBuf[off : off+n]
		off += n
	}
	res, err := o.q.Put(o.recs)
	if err != nil {
		o.m.dropped[DropQueueError].Add(float64(len(o.recs)))
		return fmt.Errorf("output %s: %w", o.cfg.Name, err)
	}
	o.m.queued.Add(float64(len(o.recs) - res.TooLarge))
	o.m.dropped[DropQueueFull].Add(float64(res.Dropped))
	o.m.dropped[DropTooLarge].Add(float64(res.TooLarge))
	clear(o.recs) // no reference to encBuf outlives the call
	return nil
}

// Start launches the delivery loop; ctx ends it at once (what is queued
// stays queued), Stop ends it after draining.
func (o *Output) Start(ctx context.Context) {
	ctx, o.cancel = context.WithCancel(ctx)
	go func() {
		defer close(o.done)
		o.run(ctx)
	}()
}

// Stop lets the loop deliver what is queued for up to drain_timeout,
// then cancels the send under way (its records stay queued) and closes
// the destination and the queue.
func (o *Output) Stop() error {
	var err error
	o.stopOnce.Do(func() {
		close(o.draining)
		if o.cancel != nil {
			t := time.NewTimer(o.cfg.DrainTimeout)
			select {
			case <-o.done:
			case <-t.C:
			}
			t.Stop()
			o.cancel()
			<-o.done
		}
		o.left, _ = o.q.Len()
		err = errors.Join(o.dst.Close(), o.q.Close())
	})
	return err
}

func (o *Output) isDraining() bool {
	select {
	case <-o.draining:
		return true
	default:
		return false
	}
}

// run delivers batches until ctx ends, or until the queue is empty once
// draining.
func (o *Output) run(ctx context.Context) {
	maxBytes := int64(o.cfg.Batch.MaxBytes)
	for ctx.Err() == nil {
		// Read before peeking: records queued before the drain began are
		// then in the peek, so an empty one means done.
		draining := o.isDraining()
		batch, err := o.q.Peek(o.cfg.Batch.MaxRecords, maxBytes)
		if err != nil {
			o.onError(fmt.Errorf("output %s: %w", o.cfg.Name, err))
			if !sleep(ctx, o.cfg.Retry.MaxBackoff) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			if draining {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-o.q.Ready():
			case <-o.draining:
			}
			continue
		}
		// A batch that is not full waits up to max_wait after its first
		// record was queued (records waiting since before a restart go
		// at once).
		if wait := o.cfg.Batch.MaxWait - time.Since(batch[0].Queued); wait > 0 && len(batch) < o.cfg.Batch.MaxRecords && !o.isDraining() {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-o.q.Ready():
			case <-o.draining:
			}
			t.Stop()
			if time.Since(batch[0].Queued) < o.cfg.Batch.MaxWait && ctx.Err() == nil && !o.isDraining() {
				o.q.Release()
				continue // peek again: the batch has grown
			}
			batch, err = o.q.Peek(o.cfg.Batch.MaxRecords, maxBytes)
			if err != nil || len(batch) == 0 {
				continue
			}
		}
		o.deliver(ctx, batch)
		o.q.Release()
	}
}

// deliver sends one batch until every record is accepted or
// dead-lettered, or ctx ends (the rest stays queued).
func (o *Output) deliver(ctx context.Context, pending []Record) {
	failures, step := 0, 0
	for len(pending) > 0 {
		n, err := o.dst.Send(ctx, pending)
		n = min(max(n, 0), len(pending))
		if n > 0 {
			o.ack(pending[:n])
			o.m.sent.Add(float64(n))
			pending = pending[n:]
			failures, step = 0, 0
		}
		if err == nil {
			if len(pending) == 0 {
				return
			}
			err = fmt.Errorf("destination accepted %d of %d records without an error", n, n+len(pending))
		}
		if ctx.Err() != nil {
			return // stopping: the rest stays queued for the next start
		}
		err = fmt.Errorf("output %s: %w", o.cfg.Name, err)
		c, rejected, after := classify(err)
		switch c {
		case classPermanent:
			k := rejected
			if k <= 0 || k > len(pending) {
				k = len(pending)
			}
			o.fail(pending[:k], FailRejected, err, failures+1)
			pending = pending[k:]
			continue
		case classRetry:
			failures++
			if failures >= o.cfg.Retry.MaxAttempts {
				o.fail(pending, FailExhausted, err, failures)
				return
			}
		}
		o.onError(err)
		wait := backoff(o.cfg.Retry.InitialBackoff, o.cfg.Retry.MaxBackoff, step)
		step++
		if after > wait {
			wait = min(after, o.cfg.Retry.MaxBackoff)
		}
		if !sleep(ctx, wait) {
			return
		}
		o.m.retried.Add(float64(len(pending)))
	}
}

// fail writes records to the dead-letter file and removes them from the
// queue; if the file cannot be written they are dropped, and counted so.
func (o *Output) fail(recs []Record, reason string, cause error, attempts int) {
	if err := o.dead.write(recs, reason, cause, attempts); err != nil {
		o.onError(fmt.Errorf("output %s: %w", o.cfg.Name, err))
		o.m.dropped[DropDeadLetterError].Add(float64(len(recs)))
	} else {
		o.m.failed[reason].Add(float64(len(recs)))
		o.onError(fmt.Errorf("%d records to the dead-letter file %s: %w", len(recs), o.dead.path, cause))
	}
	o.ack(recs)
}

func (o *Output) ack(recs []Record) {
	// Acknowledgement failing leaves the records queued: they are sent
	// again (at least once), never lost.
	if err := o.q.Ack(recs); err != nil {
		o.onError(fmt.Errorf("output %s: %w", o.cfg.Name, err))
	}
}

// backoff is exponential backoff with full jitter: a uniform wait in
// [0, min(max, initial·2^step)), which spreads the retries of many
// senders (AWS Architecture Blog, "Exponential Backoff and Jitter").
func backoff(initial, maxWait time.Duration, step int) time.Duration {
	ceil := maxWait
	if step < 32 {
		if d := initial << step; d > 0 && d < maxWait {
			ceil = d
		}
	}
	return rand.N(ceil) + 1
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
