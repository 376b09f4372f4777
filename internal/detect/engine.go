package detect

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Engine runs detectors over sessions and device metrics and keeps the
// findings they report. It is a pipeline.SessionSink and a
// collect.MetricSink; calls are serialised, so detectors see one session
// at a time in the order the engine receives them.
type Engine struct {
	cfg       Config
	detectors []Detector
	names     []string       // the detectors' names, asked once
	reporters []func(Report) // one per detector, built once so reporting does not allocate
	tickers   []int          // indexes of the detectors that are Tickers
	metricDet []int          // and of the MetricDetectors
	sink      FindingSink
	m         *metrics

	mu       sync.Mutex
	now      time.Time // the latest session or metric time seen
	nextTick time.Time
	open     map[key]*tracked
	byID     map[string]*tracked
	lru      list.List // of *tracked, least recently reported first
	dirty    []*tracked
	out      []schema.Finding // to write at the end of the current call
	sups     *suppressions
	closed   bool
}

// Option adds an optional dependency to New.
type Option func(*options)

type options struct {
	reg prometheus.Registerer
}

// WithRegisterer registers the engine's metrics on reg.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// New builds an engine; it loads the suppression file if one is
// configured and it exists.
func New(cfg Config, detectors []Detector, sink FindingSink, opts ...Option) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("detect: no finding sink")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e := &Engine{
		cfg: cfg, detectors: detectors, sink: sink,
		open: map[key]*tracked{}, byID: map[string]*tracked{},
	}
	for i, d := range detectors {
		e.names = append(e.names, d.Name())
		e.reporters = append(e.reporters, func(r Report) { e.handle(i, &r) })
		if _, ok := d.(Ticker); ok {
			e.tickers = append(e.tickers, i)
		}
		if _, ok := d.(MetricDetector); ok {
			e.metricDet = append(e.metricDet, i)
		}
	}
	var err error
	if e.m, err = newMetrics(o.reg, e.names); err != nil {
		return nil, fmt.Errorf("detect metrics: %w", err)
	}
	if o.reg != nil {
		if err := o.reg.Register(evictions{e}); err != nil {
			return nil, fmt.Errorf("detect metrics: %w", err)
		}
	}
	if e.sups, err = loadSuppressions(cfg.SuppressionFile); err != nil {
		return nil, err
	}
	return e, nil
}

// WriteSessions feeds every session of the batch to every detector.
func (e *Engine) WriteSessions(ctx context.Context, batch []schema.Session) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	for i := range batch {
		s := &batch[i]
		t := s.End
		if t.IsZero() {
			t = s.Start
		}
		e.advance(t)
		for d, det := range e.detectors {
			det.Session(s, e.reporters[d])
		}
	}
	e.m.sessions.Add(float64(len(batch)))
	return e.flush(ctx)
}

// WriteMetrics feeds device metrics to the MetricDetectors.
func (e *Engine) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	for i := range batch {
		m := &batch[i]
		e.advance(m.Time)
		for _, d := range e.metricDet {
			e.detectors[d].(MetricDetector).Metric(m, e.reporters[d])
		}
	}
	return e.flush(ctx)
}

// Advance moves the engine's time to now when the input is quiet: a live
// engine whose traffic stopped would otherwise never tick, clear or
// write updates. Offline reading never calls it, so only session time
// counts there. A time before the latest one seen is ignored.
func (e *Engine) Advance(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	e.advance(now)
	return e.flush(ctx)
}

// Close lets Finishers report what is pending, ticks the detectors a
// last time, writes every finding changed since it was last written,
// saves the suppressions and closes the sink.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if !e.now.IsZero() {
		for i, d := range e.detectors {
			if f, ok := d.(Finisher); ok {
				f.Finish(e.now, e.reporters[i])
			}
		}
		e.tick()
	}
	for _, t := range e.dirty {
		if t.dirty && !t.closed {
			e.emit(t)
		}
	}
	e.dirty = nil
	return errors.Join(e.flush(context.Background()), e.sups.save(), e.sink.Close())
}

var errClosed = errors.New("detect: engine closed")

// advance moves session time forward (never back: late records do not
// rewind windows) and ticks when a tick is due.
func (e *Engine) advance(t time.Time) {
	if !t.After(e.now) {
		return
	}
	e.now = t
	if e.nextTick.IsZero() {
		e.nextTick = t.Add(e.cfg.TickEvery)
		return
	}
	if t.Before(e.nextTick) {
		return
	}
	e.tick()
	e.nextTick = t.Add(e.cfg.TickEvery)
}

// tick lets the Tickers close their windows, then clears quiet findings
// and queues the due updates.
func (e *Engine) tick() {
	e.m.ticks.Inc()
	for _, d := range e.tickers {
		e.detectors[d].(Ticker).Tick(e.now, e.reporters[d])
	}
	e.clearQuiet()
	kept := e.dirty[:0]
	for _, t := range e.dirty {
		switch {
		case !t.dirty || t.closed:
		case e.now.Sub(t.lastWritten) >= e.cfg.UpdateEvery:
			e.emit(t)
		default:
			kept = append(kept, t)
		}
	}
	clear(e.dirty[len(kept):])
	e.dirty = kept
}

// flush writes what the current call raised or changed, in one batch.
func (e *Engine) flush(ctx context.Context) error {
	e.m.active.Set(float64(len(e.open)))
	if len(e.out) == 0 {
		return nil
	}
	err := e.sink.WriteFindings(ctx, e.out)
	clear(e.out)
	e.out = e.out[:0]
	if err != nil {
		e.m.sinkErrors.Inc()
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}
