package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/daemon"
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
}

type pipeOpts struct {
	output, out   string
	outputChanged bool
	// store loads the configured store (store.backend), or the embedded
	// one in storeDir when that is set.
	store    bool
	storeDir string
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

// Close flushes the sessions (the store's last batch included) and
// releases the rest.
func (p *pipe) Close() error {
	var errs []error
	if p.sessions != nil {
		errs = append(errs, p.sessions.Close())
	}
	if p.en != nil {
		errs = append(errs, p.en.Close())
	}
	if p.out != nil {
		errs = append(errs, p.out.Close())
	}
	return errors.Join(errs...)
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
