package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/clickhouse"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
)

// openStore opens the configured store (store.backend); dir, when set
// (--store DIR), selects the embedded DuckDB store in that directory. A
// reader (create false) gets an error rather than a new, empty store.
func openStore(ctx context.Context, cfg config.Config, dir string, create bool) (store.Store, error) {
	if dir != "" || cfg.Store.Backend == "duckdb" {
		if dir == "" {
			dir = cfg.Store.Path
		}
		if _, err := os.Stat(filepath.Join(dir, duckdb.File)); err != nil && !create {
			return nil, fmt.Errorf("no store in %s (load one with osprey read --store %s FILE...)", dir, dir)
		}
		threads := cfg.Store.DuckDB.Threads
		if threads == 0 && !create {
			threads = runtime.GOMAXPROCS(0) // nothing ingests here: every core to the queries
		}
		return duckdb.OpenWith(ctx, dir, duckdb.Options{Threads: threads, MemoryLimit: cfg.Store.DuckDB.MemoryLimit})
	}
	c := cfg.Store.ClickHouse
	return clickhouse.Open(ctx, clickhouse.Options{Addr: c.Addr, Database: c.Database, Username: c.Username,
		Password: c.Password, Cluster: c.Cluster})
}

// storeSink is the session sink that loads a store: a Writer that closes
// the store after its last flush, applying retention first.
type storeSink struct {
	*store.Writer
	st   store.Store
	cfg  config.Config
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	// inv, when set, is the device inventory saved to the store: what
	// changed, at every save interval of a sensor and on Close.
	inv    *devices.Inventory
	saved  time.Time
	saveMu sync.Mutex // saveInventory is called from the maintenance goroutine and pipe.flush
}

func newStoreSink(ctx context.Context, cfg config.Config, dir string, log *slog.Logger, inv *devices.Inventory) (*storeSink, error) {
	st, err := openStore(ctx, cfg, dir, true)
	if err != nil {
		return nil, err
	}
	w := store.NewWriter(st, store.WriterConfig{BatchSize: cfg.Store.BatchSize, Interval: cfg.Store.FlushInterval, Log: log})
	return &storeSink{Writer: w, st: st, cfg: cfg, log: log, inv: inv}, nil
}

// maintain, for long-running sensors, restores the inventory from the
// store, then applies store.retention every retainEvery and saves changed
// devices every devices.save_interval (never for osprey read: an old
// capture is not old data to drop).
func (s *storeSink) maintain(ctx context.Context, retainEvery time.Duration) {
	if s.inv != nil {
		if err := restoreDevices(ctx, s.st, s.inv, s.cfg.Sensor.Tenant, s.cfg.Devices.MaxDevices); err != nil {
			s.log.Warn("restore devices from the store", "error", err)
		}
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	r := s.cfg.Store.Retention
	retain := func() {
		if err := s.st.Retain(ctx, time.Now(), store.Retention{Sessions: r.Sessions, Rollups: r.Rollups, Metrics: r.Metrics, Findings: r.Findings}); err != nil {
			s.log.Warn("store retention", "error", err)
		}
	}
	go func() {
		defer close(s.done)
		retainTick := time.NewTicker(retainEvery)
		defer retainTick.Stop()
		save := time.NewTicker(s.cfg.Devices.SaveInterval)
		defer save.Stop()
		retain()
		for {
			select {
			case <-retainTick.C:
				retain()
			case <-save.C:
				if err := s.saveInventory(ctx); err != nil {
					s.log.Warn("save devices", "error", err)
				}
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (s *storeSink) Close() error {
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	err := s.saveInventory(context.Background())
	if werr := s.Writer.Close(); err == nil {
		err = werr
	}
	if cerr := s.st.Close(); err == nil {
		err = cerr
	}
	return err
}

// saveInventory saves the devices that changed since the last save.
func (s *storeSink) saveInventory(ctx context.Context) error {
	if s.inv == nil {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	return saveDevices(ctx, s.st, s.inv, &s.saved)
}

var _ pipeline.SessionSink = (*storeSink)(nil)
