package objects

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// follow watches the patterns' directories until ctx ends. File events
// make files candidates at once; a rescan every poll catches what events
// miss (network file systems, a full event queue, directories created
// before their watch was set).
func (f *fileSet) follow(ctx context.Context, r *run) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		f.log.Warn("no file events; the paths are rescanned at each poll", "err", err)
	} else {
		defer w.Close()
	}
	var events chan fsnotify.Event
	var errs chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	f.rescan(r, w)
	// Checking four times per settle period bounds the extra wait to a
	// quarter of it.
	check := time.NewTicker(min(max(f.settle/4, 10*time.Millisecond), time.Second))
	defer check.Stop()
	rescan := time.NewTicker(f.poll)
	defer rescan.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			f.event(r, w, ev)
		case err := <-errs:
			f.log.Warn("file events", "err", err)
			f.rescan(r, w) // the queue may have overflowed: events were lost
		case <-check.C:
			if !f.promote(ctx, r) {
				return nil
			}
		case <-rescan.C:
			f.rescan(r, w)
		}
	}
}

// rescan walks the patterns and makes candidates of the files to read.
func (f *fileSet) rescan(r *run, w *fsnotify.Watcher) {
	found, err := f.scan(w)
	f.health.report(f.log, f.m, filesSource, err)
	if err := f.prune(r.cp, found); err != nil {
		f.log.Warn("checkpoint", "err", err)
	}
	now := time.Now()
	for p, st := range found {
		f.consider(r.cp, p, st, now)
	}
}

// event handles one file event; only creation and writes matter, and a
// new directory is walked, as files may be in it before its watch is.
func (f *fileSet) event(r *run, w *fsnotify.Watcher, ev fsnotify.Event) {
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
		return
	}
	fi, err := os.Stat(ev.Name)
	if err != nil {
		return
	}
	now := time.Now()
	if fi.IsDir() {
		if !f.entered(ev.Name) {
			return
		}
		found := map[string]stamp{}
		if err := f.walk(ev.Name, w, found); err != nil {
			f.log.Warn("new directory", "dir", ev.Name, "err", err)
		}
		for p, st := range found {
			f.consider(r.cp, p, st, now)
		}
		return
	}
	if fi.Mode().IsRegular() && f.covered(ev.Name) {
		f.consider(r.cp, ev.Name, stampOf(fi), now)
	}
}

// consider makes the file a candidate unless it is read, being read or
// given up at this stamp; a changed stamp starts its settle period anew.
func (f *fileSet) consider(cp *checkpoint, path string, st stamp, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.wantedLocked(cp, path, st) {
		delete(f.pending, path)
		return
	}
	if c, ok := f.pending[path]; ok && c.st == st {
		return
	}
	f.pending[path] = candidate{st: st, since: now}
}

// promote submits the candidates that settled, in name order; false when
// ctx ended first.
func (f *fileSet) promote(ctx context.Context, r *run) bool {
	now := time.Now()
	type ready struct {
		path string
		st   stamp
	}
	var due []ready
	f.mu.Lock()
	for p, c := range f.pending {
		fi, err := os.Stat(p)
		switch {
		case err != nil || !fi.Mode().IsRegular():
			delete(f.pending, p) // removed or renamed away
		case stampOf(fi) != c.st:
			f.pending[p] = candidate{st: stampOf(fi), since: now}
		case now.Sub(c.since) >= f.settle || now.Sub(fi.ModTime()) >= f.settle:
			delete(f.pending, p)
			f.active[p] = c.st
			due = append(due, ready{p, c.st})
		}
	}
	f.mu.Unlock()
	slices.SortFunc(due, func(a, b ready) int { return strings.Compare(a.path, b.path) })
	for _, d := range due {
		if !f.submit(ctx, r, d.path, d.st) {
			return false
		}
	}
	return true
}
