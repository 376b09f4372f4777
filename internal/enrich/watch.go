package enrich

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long a burst of file events must go quiet before the
// files are read: writers often truncate, write and rename in steps.
const settle = 250 * time.Millisecond

// source is one file set or provider the enricher reads. load reads it
// and, on success only, swaps the new version in: a broken file leaves
// the last good version in force.
type source struct {
	name     string
	paths    []string
	interval time.Duration // reload this often even without a change (EC2); 0: on change only
	load     func(context.Context) error

	mu     sync.Mutex
	stamps map[string]stamp
	stats  SourceStats
}

// SourceStats say how a source's reloads went.
type SourceStats struct {
	Name      string
	Reloads   uint64 // successful loads, the first included
	Failures  uint64
	LastError string // of the last failed load, "" once one succeeds again
	Loaded    time.Time
}

// stamp tells a file's versions apart without reading it; os.Stat
// follows symbolic links, so a Kubernetes ConfigMap's swap of its data
// directory shows as a change of every file in it.
type stamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}
	}
	return stamp{fi.ModTime(), fi.Size()}
}

// reload loads the source and records the outcome.
func (s *source) reload(ctx context.Context, log *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.paths {
		s.stamps[p] = stampOf(p) // before reading: a change while loading triggers another
	}
	if err := s.load(ctx); err != nil {
		s.stats.Failures++
		s.stats.LastError = err.Error()
		log.Error("enrichment source not reloaded; the last good version stays in force", "source", s.name, "err", err)
		return
	}
	s.stats.Reloads++
	s.stats.LastError = ""
	s.stats.Loaded = time.Now()
	log.Info("enrichment source loaded", "source", s.name)
}

// changed reports whether a file of the source differs from when it
// was last loaded.
func (s *source) changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.paths {
		if stampOf(p) != s.stamps[p] {
			return true
		}
	}
	return false
}

// watch reloads sources until ctx ends: on a file event in a watched
// directory (files are watched through their directories, as editors and
// deployment tools replace files rather than write them in place), on
// poll (for file systems without change events) and on each source's
// interval.
func watch(ctx context.Context, log *slog.Logger, sources []*source, poll time.Duration) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer fw.Close()
	dirs := map[string]bool{}
	for _, s := range sources {
		for _, p := range s.paths {
			if d := filepath.Dir(p); !dirs[d] {
				dirs[d] = true
				if err := fw.Add(d); err != nil {
					log.Warn("cannot watch directory; its files are polled", "dir", d, "err", err)
				}
			}
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, s := range sources {
		if s.interval > 0 {
			wg.Go(func() {
				t := time.NewTicker(s.interval)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						s.reload(ctx, log)
					}
				}
			})
		}
	}
	check := func() {
		for _, s := range sources {
			if len(s.paths) > 0 && s.changed() {
				s.reload(ctx, log)
			}
		}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-fw.Events:
			quiet.Reset(settle)
		case err := <-fw.Errors:
			log.Warn("file watcher", "err", err)
		case <-quiet.C:
			check()
		case <-tick.C:
			check()
		}
	}
}
