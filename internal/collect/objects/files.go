package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// filesSource labels the local files in metrics.
const filesSource = "files"

// fileSet is the configured paths. Followed, a file is read once its
// size and modification time have held still for the settle period, or
// its modification time is that old already: a file renamed into place
// is complete, one copied in place is complete once its writer pauses
// longer than any write takes.
type fileSet struct {
	patterns     []pattern
	settle, poll time.Duration
	m            metrics
	log          *slog.Logger
	health       listHealth

	mu      sync.Mutex
	pending map[string]candidate // seen, waiting to settle
	active  map[string]stamp     // queued or being read
	failed  map[string]stamp     // given up in this run at this stamp
}

type candidate struct {
	st    stamp
	since time.Time // when st was first seen
}

func newFileSet(cfg Config, m metrics, log *slog.Logger) (*fileSet, error) {
	f := &fileSet{settle: cfg.Settle, poll: cfg.Poll, m: m, log: log}
	for i, p := range cfg.Paths {
		pat, err := newPattern(p)
		if err != nil {
			return nil, fmt.Errorf("paths[%d]: %w", i, err)
		}
		f.patterns = append(f.patterns, pat)
	}
	return f, nil
}

func stampOf(fi fs.FileInfo) stamp { return stamp{Size: fi.Size(), MTime: fi.ModTime().UnixNano()} }

func (f *fileSet) covered(path string) bool {
	return slices.ContainsFunc(f.patterns, func(p pattern) bool { return p.covers(path) })
}

func (f *fileSet) entered(dir string) bool {
	return slices.ContainsFunc(f.patterns, func(p pattern) bool { return p.enters(dir) })
}

func (f *fileSet) list(ctx context.Context, r *run) error {
	f.mu.Lock()
	f.pending, f.active, f.failed = map[string]candidate{}, map[string]stamp{}, map[string]stamp{}
	f.mu.Unlock()
	if r.follow {
		return f.follow(ctx, r)
	}
	found, err := f.scan(nil)
	f.health.report(f.log, f.m, filesSource, err)
	if err != nil {
		r.listFailed(filesSource, err)
	}
	if err := f.prune(r.cp, found); err != nil {
		return err
	}
	paths := make([]string, 0, len(found))
	for p, st := range found {
		if f.wanted(r.cp, p, st) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		if !f.submit(ctx, r, p, found[p]) {
			return nil
		}
	}
	return nil
}

// scan walks the patterns and returns the files they cover; with w, it
// also watches every directory it enters (adding a watch twice is a
// no-op). Unreadable parts are skipped and reported in the error.
func (f *fileSet) scan(w *fsnotify.Watcher) (map[string]stamp, error) {
	found := map[string]stamp{}
	var errs []error
	for _, p := range f.patterns {
		errs = append(errs, f.walk(p.static, w, found))
		if fi, err := os.Stat(p.static); w != nil && err == nil && !fi.IsDir() {
			f.watch(w, filepath.Dir(p.static)) // a file named alone is followed through its directory
		}
	}
	return found, errors.Join(errs...)
}

// walk adds the covered files under root to found.
func (f *fileSet) walk(root string, w *fsnotify.Watcher, found map[string]stamp) error {
	var errs []error
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if w != nil && errors.Is(err, fs.ErrNotExist) {
				return nil // a followed path may appear later
			}
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() {
			if !f.entered(path) {
				return filepath.SkipDir
			}
			if w != nil {
				f.watch(w, path)
			}
			return nil
		}
		if !f.covered(path) {
			return nil
		}
		fi, err := os.Stat(path) // follows a symbolic link
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		found[path] = stampOf(fi)
		return nil
	})
	return errors.Join(append(errs, err)...)
}

func (f *fileSet) watch(w *fsnotify.Watcher, dir string) {
	if err := w.Add(dir); err != nil {
		f.log.Warn("cannot watch directory; it is rescanned at each poll", "dir", dir, "err", err)
	}
}

// wanted reports whether a file at st is still to be read.
func (f *fileSet) wanted(cp *checkpoint, path string, st stamp) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wantedLocked(cp, path, st)
}

// wantedLocked is wanted with f.mu held, which settle also holds while
// it records a file read: a file is never seen neither active nor read.
func (f *fileSet) wantedLocked(cp *checkpoint, path string, st stamp) bool {
	var done bool
	cp.view(func() {
		s, ok := cp.files[path]
		done = ok && s == st
	})
	a, active := f.active[path]
	g, given := f.failed[path]
	return !done && !(active && a == st) && !(given && g == st)
}

// prune forgets files that are gone from under the patterns, so the
// checkpoint does not grow with every file ever read.
func (f *fileSet) prune(cp *checkpoint, found map[string]stamp) error {
	return cp.update(func() bool {
		changed := false
		for p := range cp.files {
			if _, ok := found[p]; ok || !f.covered(p) {
				continue
			}
			if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
				delete(cp.files, p)
				changed = true
			}
		}
		return changed
	})
}

// submit queues the file at st.
func (f *fileSet) submit(ctx context.Context, r *run, path string, st stamp) bool {
	f.mu.Lock()
	f.active[path] = st
	f.mu.Unlock()
	obj := Object{Name: path, Path: path, Size: st.Size, ModTime: time.Unix(0, st.MTime), src: localFile{}, bytes: f.m.bytes}
	return r.submit(ctx, job{obj: obj, m: f.m, settle: func(err error) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.active, path)
		if err != nil {
			f.failed[path] = st
			return nil
		}
		return r.cp.update(func() bool {
			r.cp.files[path] = st
			return true
		})
	}})
}

func (f *fileSet) oldest() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var t time.Time
	note := func(st stamp) {
		if m := time.Unix(0, st.MTime); t.IsZero() || m.Before(t) {
			t = m
		}
	}
	for _, c := range f.pending {
		note(c.st)
	}
	for _, st := range f.active {
		note(st)
	}
	return t
}

// localFile opens files where they are.
type localFile struct{}

func (localFile) open(_ context.Context, o Object) (io.ReadCloser, error) {
	return os.Open(o.Path)
}

func (localFile) openFile(_ context.Context, o Object) (*os.File, func() error, error) {
	f, err := os.Open(o.Path)
	return f, func() error { return nil }, err
}
