package behave

import (
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// tally is what one key did in its current window: the distinct members
// (hosts, ports) it touched, up to the threshold that matters, how many
// attempts and how many of them went unanswered.
type tally[M comparable] struct {
	start    time.Time
	seen     map[M]struct{}
	events   int
	failed   int
	examples []ref
	fired    bool
}

// windows keeps a tally per key. A key's window opens with its first
// event and lasts window; the first event past it opens the next (a
// tumbling window per key). That costs one timestamp per key instead of
// one per event, at the price of missing a burst split across two
// windows by less than the threshold in each.
type windows[K, M comparable] struct {
	window  time.Duration
	maxKeys int
	limit   int // members kept per key: counting past the threshold changes nothing
	keys    map[K]*tally[M]
	free    []*tally[M] // expired tallies kept for reuse; never more than maxKeys in all
	evicted uint64
	sweep   sweeper
}

func newWindows[K, M comparable](window time.Duration, maxKeys, limit int) *windows[K, M] {
	return &windows[K, M]{window: window, maxKeys: maxKeys, limit: limit,
		keys: make(map[K]*tally[M]), sweep: sweeper{every: window}}
}

// add counts one event of key k touching member m at time t.
func (w *windows[K, M]) add(k K, m M, s *schema.Session, t time.Time) *tally[M] {
	c := w.keys[k]
	switch {
	case c == nil:
		switch {
		case len(w.keys) >= w.maxKeys:
			c = evictOne(w.keys)
			w.evicted++
		case len(w.free) > 0:
			c = w.free[len(w.free)-1]
			w.free = w.free[:len(w.free)-1]
		default:
			c = &tally[M]{seen: make(map[M]struct{})}
		}
		c.reset(t)
		w.keys[k] = c
	case t.Sub(c.start) > w.window:
		c.reset(t)
	}
	c.events++
	if unanswered(s) {
		c.failed++
	}
	if _, ok := c.seen[m]; !ok && len(c.seen) < w.limit {
		c.seen[m] = struct{}{}
		c.examples = addExample(c.examples, s)
	}
	return c
}

// expire drops the keys whose window closed before now.
func (w *windows[K, M]) expire(now time.Time) {
	if !w.sweep.due(now) {
		return
	}
	w.free = expire(w.keys, w.free, func(c *tally[M]) bool { return now.Sub(c.start) > w.window })
}

// reset opens a new window at t, keeping the map and slice for reuse.
func (c *tally[M]) reset(t time.Time) {
	clear(c.seen)
	*c = tally[M]{start: t, seen: c.seen, examples: c.examples[:0]}
}
