// Package enrich names both ends of every session: the asset inventory
// (files and EC2), CIDR ranges with their tags and segments (files and
// AWS ip-ranges.json), GeoIP/ASN databases and threat-intelligence feeds
// (docs/enrichment.md). Each source reloads while the enricher runs; a
// lookup reads the current version of each through an atomic pointer, so
// reloads never stop or lose records, and a source that fails to load
// keeps its last good version.
package enrich

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/osprey-ndr/osprey/internal/enrich/assets"
	"github.com/osprey-ndr/osprey/internal/enrich/geo"
	"github.com/osprey-ndr/osprey/internal/enrich/intel"
	"github.com/osprey-ndr/osprey/internal/enrich/netmap"
)

// Config lists the sources. Files are read at New and again when they
// change; EC2 is asked again every EC2Interval.
type Config struct {
	Assets      []string // YAML, JSON or CSV inventories
	EC2         *assets.EC2Config
	AWS         aws.Config // credentials and region for EC2
	EC2Interval time.Duration
	CIDRs       []string // YAML, JSON or CSV range files, applied in order
	AWSIPRanges []string // AWS ip-ranges.json files, applied before CIDRs
	GeoIP       []string // MMDB files: a City or Country database and an ASN database
	Intel       []intel.FeedConfig
	// Poll is how often files are checked for changes besides the file
	// system's change events (which some file systems lack).
	Poll time.Duration
}

// Enabled reports whether any source is configured.
func (c *Config) Enabled() bool {
	return len(c.Assets)+len(c.CIDRs)+len(c.AWSIPRanges)+len(c.GeoIP)+len(c.Intel) > 0 || c.EC2 != nil
}

// Enricher fills the enrichment fields of sessions and device metrics.
// Its lookups are safe for concurrent use.
type Enricher struct {
	cfg     Config
	log     *slog.Logger
	sources []*source

	names atomic.Pointer[names] // assets and ranges
	geo   atomic.Pointer[geo.DB]
	intel atomic.Pointer[intel.Set]

	// The parts the combined versions are built from, by source order,
	// so that one file's reload rebuilds from the others' last good
	// versions.
	mu     sync.Mutex
	snaps  []*assets.Snapshot
	inv    *assets.Inventory
	ranges [][]netmap.Range
	nets   *netmap.Map
	feeds  []*intel.Feed
}

// New loads every source once; a source that fails at start is an error.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Enricher, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Minute
	}
	if cfg.EC2Interval <= 0 {
		cfg.EC2Interval = 5 * time.Minute
	}
	e := &Enricher{cfg: cfg, log: log}
	e.addSources()
	e.nets = netmap.NewMap() // unmatched space is still internet or unknown-private
	e.names.Store(buildNames(nil, e.nets, nil))
	var errs []error
	for _, s := range e.sources {
		if err := s.load(ctx); err != nil {
			errs = append(errs, err)
			continue
		}
		s.stats.Reloads, s.stats.Loaded = 1, time.Now()
		for _, p := range s.paths {
			s.stamps[p] = stampOf(p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// addSources declares one source per file (or per feed, or EC2), each
// with its loader.
func (e *Enricher) addSources() {
	add := func(name string, paths []string, interval time.Duration, load func(context.Context) error) {
		e.sources = append(e.sources, &source{name: name, paths: paths, interval: interval, load: load, stamps: map[string]stamp{}})
	}
	for _, p := range e.cfg.Assets {
		i := slot(&e.snaps)
		add("assets "+p, []string{p}, 0, func(context.Context) error {
			snap, rejected, err := assets.LoadFile(p)
			if err != nil {
				return err
			}
			e.warnRejected(p, len(rejected), rejected)
			return e.setAssets(i, snap)
		})
	}
	if ec2 := e.cfg.EC2; ec2 != nil {
		i := slot(&e.snaps)
		add("ec2", nil, e.cfg.EC2Interval, func(ctx context.Context) error {
			snap, err := assets.LoadEC2(ctx, e.cfg.AWS, *ec2)
			if err != nil {
				return err
			}
			return e.setAssets(i, snap)
		})
	}
	for _, p := range e.cfg.AWSIPRanges {
		i := slot(&e.ranges)
		add("aws-ip-ranges "+p, []string{p}, 0, func(context.Context) error {
			r, err := netmap.LoadAWSIPRanges(p)
			if err != nil {
				return err
			}
			return e.setRanges(i, r)
		})
	}
	for _, p := range e.cfg.CIDRs {
		i := slot(&e.ranges)
		add("cidrs "+p, []string{p}, 0, func(context.Context) error {
			r, rejected, err := netmap.LoadFile(p)
			if err != nil {
				return err
			}
			e.warnRejected(p, len(rejected), rejected)
			return e.setRanges(i, r)
		})
	}
	if len(e.cfg.GeoIP) > 0 {
		add("geoip", e.cfg.GeoIP, 0, func(context.Context) error {
			db, err := geo.Open(e.cfg.GeoIP...)
			if err != nil {
				return err
			}
			if old := e.geo.Swap(db); old != nil {
				old.Close()
			}
			return nil
		})
	}
	for _, fc := range e.cfg.Intel {
		i := slot(&e.feeds)
		add("intel "+fc.Name, []string{fc.Path}, 0, func(context.Context) error {
			f, err := intel.LoadFeed(fc)
			if err != nil {
				return err
			}
			n, first := f.Rejected()
			e.warnRejected(fc.Path, n, first)
			return e.setFeed(i, f)
		})
	}
}

// slot appends an empty part to parts and returns its index.
func slot[T any](parts *[]T) int {
	var zero T
	*parts = append(*parts, zero)
	return len(*parts) - 1
}

func (e *Enricher) warnRejected(path string, n int, first []error) {
	if n > 0 {
		e.log.Warn("enrichment source: entries rejected", "path", path, "rejected", n, "first", errors.Join(first...))
	}
}

func (e *Enricher) setAssets(i int, snap *assets.Snapshot) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.snaps[i] = snap
	e.inv = assets.NewInventory(e.snaps...)
	e.names.Store(buildNames(e.inv, e.nets, e.snaps))
	return nil
}

func (e *Enricher) setRanges(i int, r []netmap.Range) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ranges[i] = r
	e.nets = netmap.NewMap(e.ranges...)
	e.names.Store(buildNames(e.inv, e.nets, e.snaps))
	return nil
}

func (e *Enricher) setFeed(i int, f *intel.Feed) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.feeds[i] = f
	var loaded []*intel.Feed
	for _, f := range e.feeds {
		if f != nil {
			loaded = append(loaded, f)
		}
	}
	e.intel.Store(intel.NewSet(loaded...))
	return nil
}

// Run reloads the sources as they change until ctx ends.
func (e *Enricher) Run(ctx context.Context) error {
	return watch(ctx, e.log, e.sources, e.cfg.Poll)
}

// Stats returns each source's reload counters.
func (e *Enricher) Stats() []SourceStats {
	out := make([]SourceStats, len(e.sources))
	for i, s := range e.sources {
		s.mu.Lock()
		out[i] = s.stats
		out[i].Name = s.name
		s.mu.Unlock()
	}
	return out
}

// Close releases the GeoIP databases.
func (e *Enricher) Close() error {
	if db := e.geo.Swap(nil); db != nil {
		return db.Close()
	}
	return nil
}
