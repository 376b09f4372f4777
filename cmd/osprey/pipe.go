package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/daemon"
	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/enrich"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// pipe is the back half that the long-running commands (sensor, run)
// share: enrichment, then an output and/or the store with the device
// inventory, one Prometheus registry and the health endpoint.
type pipe struct {
	// sessions is safe for concurrent writers; its batches are enriched
	// outside the lock.
	sessions pipeline.SessionSink
	// metrics goes to the store (nil without one); enriched too.
	metrics collect.MetricSink
	// sync returns once what was written is stored (a no-op without a
	// store).
	sync   func(context.Context) error
	reg    *prometheus.Registry
	health *daemon.Health
	en     *enrich.Enricher
	out    interface{ Close() error }
	// outs are the configured outputs (nil without any); they stop
	// after the sessions, so that the last findings are queued.
	outs *outputs
	// stopDetect ends the detection's clock and policy reloads.
	stopDetect context.CancelFunc
	// findings queues the engine's findings for the store, and
	// saveDevices saves the changed devices (nil without them): flush
	// waits for both.
	findings    *storeFindings
	saveDevices func(context.Context) error
	// st and det, with a store, are what the API serves: the store's
	// queries and the live engine's findings (nil without them).
	st  store.Store
	det *detection
}

type pipeOpts struct {
	output, out   string
	outputChanged bool
	// store loads the configured store (store.backend), or the embedded
	// one in storeDir when that is set.
	store    bool
	storeDir string
	// holdClock leaves the detection's wall clock stopped until
	// startClock: osprey demo loads records of the past hours first, and
	// a tick at the present in their midst would move the engine past
	// them.
	holdClock bool
}

func newPipe(ctx context.Context, cfg config.Config, log *slog.Logger, o pipeOpts) (p *pipe, err error) {
	p = &pipe{reg: prometheus.NewRegistry(), sync: func(context.Context) error { return nil }}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.store && !o.outputChanged {
		o.output = "none"
	}
	w, err := openOut(o.out)
	if err != nil {
		return p, err
	}
	p.out = w
	sink, err := newSink(o.output, w, cfg)
	if err != nil {
		return p, err
	}
	dataDir := o.storeDir
	if dataDir == "" {
		dataDir = cfg.Store.Path
	}
	if p.outs, err = newOutputs(cfg, nil, dataDir, p.reg, log, func() *enrich.Enricher { return p.en }); err != nil {
		return p, err
	}
	if p.outs != nil && p.outs.Wants(deliver.KindSession) {
		sink = pipeline.Tee(sink, p.outs.sessions())
	}
	var inv *devices.Inventory
	if o.store {
		if cfg.Devices.Enabled {
			if inv, err = newInventory(cfg); err != nil {
				return p, err
			}
			sink = pipeline.Tee(sink, inv)
			p.reg.MustRegister(devices.NewCollector(inv))
		}
		ss, err := newStoreSink(ctx, cfg, o.storeDir, log, inv)
		if err != nil {
			return p, fmt.Errorf("store: %w", err)
		}
		ss.maintain(ctx, time.Hour)
		sink = pipeline.Tee(sink, ss)
		p.metrics = metricStore{ss.st}
		p.sync = ss.Writer.Sync
		p.st = ss.st
		if inv != nil {
			p.saveDevices = ss.saveInventory
		}
		if cfg.Detect.Enabled {
			p.findings = newStoreFindings(detect.NewStoreSink(ss.st, 0))
			var findings detect.FindingSink = p.findings
			if p.outs != nil {
				findings = detect.Tee(findings, p.outs.findings())
			}
			det, err := newDetection(cfg, findings, p.reg, log)
			if err != nil {
				sink.Close()
				return p, err
			}
			p.det = det
			// First, so that its last findings are stored before the store closes.
			sink = pipeline.Tee(det, sink)
			p.metrics = metricTee{p.metrics, det}
			if !o.holdClock {
				p.startClock(ctx, cfg.Detect.TickEvery)
			}
		}
	}
	if p.outs != nil && p.outs.Wants(deliver.KindMetric) {
		if p.metrics == nil {
			p.metrics = p.outs.metrics()
		} else {
			p.metrics = metricTee{p.metrics, p.outs.metrics()}
		}
	}
	if p.outs != nil {
		// Not the daemon's context: its end must not cut the drain short.
		p.outs.Start(context.WithoutCancel(ctx))
	}
	p.sessions = pipeline.Locked(sink)
	if p.en, err = newEnricher(ctx, cfg, log); err != nil {
		return p, err
	}
	if p.en != nil {
		// Outside the lock: shards and collectors enrich their batches in parallel.
		p.sessions = enrich.Sink(p.sessions, p.en)
		if p.metrics != nil {
			p.metrics = enrich.MetricSink(p.metrics, p.en)
		}
		p.reg.MustRegister(enrich.NewCollector(p.en))
		go p.en.Run(ctx)
	}
	p.health = daemon.NewHealth(p.reg)
	return p, nil
}

// startClock moves the detection on with the wall clock until the pipe
// closes (detection.live).
func (p *pipe) startClock(ctx context.Context, every time.Duration) {
	if p.det == nil || p.stopDetect != nil {
		return
	}
	dctx, cancel := context.WithCancel(ctx)
	p.stopDetect = cancel
	go p.det.live(dctx, every)
}

// flush returns once what was written so far is in the store: the
// sessions, the findings the engine has written out and the devices.
func (p *pipe) flush(ctx context.Context) error {
	if err := p.sync(ctx); err != nil {
		return err
	}
	if p.findings != nil {
		if err := p.findings.Sync(ctx); err != nil {
			return err
		}
	}
	if p.saveDevices != nil {
		return p.saveDevices(ctx)
	}
	return nil
}

// component is what the long-running commands start: a packet sensor or
// a collector.
type component interface {
	Run(ctx context.Context) error
}

// serve starts the health endpoint, runs the parts until ctx ends or one
// fails (which stops the others), then closes the pipe, so that every
// part has flushed before the store closes.
func (p *pipe) serve(ctx context.Context, listen string, log *slog.Logger, parts []component) error {
	if err := p.health.Start(listen); err != nil {
		p.Close()
		return fmt.Errorf("health endpoint %s: %w", listen, err)
	}
	log.Info("health endpoint", "address", "http://"+p.health.Addr()+"/healthz")
	defer p.health.Stop()
	grp, gctx := errgroup.WithContext(ctx)
	for _, c := range parts {
		grp.Go(func() error { return c.Run(gctx) })
	}
	p.health.SetReady(true)
	err := grp.Wait()
	p.health.SetReady(false)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close flushes the sessions (the store's last batch included) and
// releases the rest.
func (p *pipe) Close() error {
	var errs []error
	if p.stopDetect != nil {
		p.stopDetect()
	}
	if p.sessions != nil {
		errs = append(errs, p.sessions.Close())
	}
	if p.outs != nil {
		errs = append(errs, p.outs.Close()) // drains for up to each output's drain_timeout
	}
	if p.en != nil {
		errs = append(errs, p.en.Close())
	}
	if p.out != nil {
		errs = append(errs, p.out.Close())
	}
	return errors.Join(errs...)
}

// storeFindings upserts findings into the store on a goroutine of its
// own. Detection runs inside the session pipeline, behind the packet
// sensors: a findings upsert that waits on the store (hundreds of
// milliseconds, seconds at times, while sessions load) would hold up the
// outputs' copy of the finding, the sessions behind it and, once the
// sensors' queues fill, the packets. Batches are copied; Close writes
// what is queued before closing the store sink.
type storeFindings struct {
	sink detect.FindingSink
	ch   chan []schema.Finding
	done chan struct{}
	err  atomic.Pointer[error]
	// queued and written count batches, for Sync.
	queued, written atomic.Int64
}

func newStoreFindings(sink detect.FindingSink) *storeFindings {
	s := &storeFindings{sink: sink, ch: make(chan []schema.Finding, 256), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for b := range s.ch {
			// What queued up behind a slow commit goes in one upsert, a
			// finding's latest state only (detect.StoreSink).
			n := int64(1)
		more:
			for {
				select {
				case next, ok := <-s.ch:
					if !ok {
						break more
					}
					b, n = append(b, next...), n+1
				default:
					break more
				}
			}
			if err := sink.WriteFindings(context.Background(), b); err != nil {
				s.err.Store(&err)
			}
			s.written.Add(n)
		}
	}()
	return s
}

// WriteFindings queues the batch; it returns the store's last error, once.
func (s *storeFindings) WriteFindings(_ context.Context, batch []schema.Finding) error {
	s.queued.Add(1)
	s.ch <- slices.Clone(batch)
	if err := s.err.Swap(nil); err != nil {
		return *err
	}
	return nil
}

// Sync waits until the batches queued before it are written.
func (s *storeFindings) Sync(ctx context.Context) error {
	n := s.queued.Load()
	for s.written.Load() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func (s *storeFindings) Close() error {
	close(s.ch)
	<-s.done
	err := s.sink.Close()
	if e := s.err.Swap(nil); e != nil {
		err = errors.Join(*e, err)
	}
	return err
}

// metricStore writes device metrics straight to the store: collectors
// batch them already, and the store's writes are idempotent per batch.
type metricStore struct{ st store.Store }

func (m metricStore) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error {
	_, err := m.st.WriteMetrics(ctx, batch)
	return err
}

// Close does nothing: the store closes with the session writer.
func (metricStore) Close() error { return nil }

// metricTee writes device metrics to the store and to detection; both
// close with the sessions.
type metricTee []collect.MetricSink

func (t metricTee) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error {
	var errs []error
	for _, s := range t {
		errs = append(errs, s.WriteMetrics(ctx, batch))
	}
	return errors.Join(errs...)
}

func (metricTee) Close() error { return nil }
