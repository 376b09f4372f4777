package detect

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Verdicts an analyst gives a finding.
const (
	TruePositive   = "true_positive"
	FalsePositive  = "false_positive"
	BenignPositive = "benign_positive"
)

// ErrUnknownFinding is returned for an id the engine does not hold open:
// never raised, or already cleared, verdicted or evicted. Such findings
// are changed in the store directly.
var ErrUnknownFinding = errors.New("detect: finding not open in the engine")

// handle takes one report from detector d: it folds it into its open
// finding, or raises a new one unless a suppression matches.
func (e *Engine) handle(d int, r *Report) {
	e.m.reports[d].Inc()
	if r.Time.IsZero() {
		r.Time = e.now // a Tick report without a time of its own
	}
	k := key{tenant: r.Tenant, detector: e.names[d], dedupe: r.DedupeKey}
	if k.dedupe == "" {
		k.dedupe = r.Rule + "|" + strings.Join(sortedUnique(r.Entities), ",")
	}
	if r.Clear {
		if t, ok := e.open[k]; ok {
			e.close(t, StateCleared)
			e.m.cleared.Inc()
		}
		return
	}
	if t, ok := e.open[k]; ok {
		t.fold(r, e.cfg.MaxSessions)
		e.touch(t)
		return
	}
	if s := e.sups.match(r.Tenant, k.detector, r.Rule, r.Entities, r.Time); s != nil {
		s.Hits++
		e.m.suppressed.Inc()
		return
	}
	if len(e.open) >= e.cfg.MaxActive {
		e.evict()
	}
	t := newTracked(k, r)
	t.fold(r, e.cfg.MaxSessions)
	t.elem = e.lru.PushBack(t)
	t.touched = e.now
	e.open[k] = t
	e.byID[t.id] = t
	e.m.raised(k.detector, t.severity)
	e.emit(t)
}

// touch marks a repeat: most recently reported, and to be written at
// the next due update.
func (e *Engine) touch(t *tracked) {
	t.touched = e.now
	e.lru.MoveToBack(t.elem)
	if !t.dirty {
		t.dirty = true
		e.dirty = append(e.dirty, t)
	}
}

// emit queues the finding's current state for the sink.
func (e *Engine) emit(t *tracked) {
	t.dirty = false
	t.lastWritten = e.now
	e.out = append(e.out, t.finding())
}

// close writes a finding's final state and forgets it.
func (e *Engine) close(t *tracked, state string) {
	t.ev.State = state
	e.emit(t)
	t.closed = true
	e.lru.Remove(t.elem)
	delete(e.open, t.key)
	delete(e.byID, t.id)
}

// clearQuiet clears the findings not reported for their ClearAfter. The
// LRU is in the order of touched, so the walk stops at the first
// finding too recent for even the shortest ClearAfter.
func (e *Engine) clearQuiet() {
	shortest := e.cfg.minClearAfter()
	for el := e.lru.Front(); el != nil; {
		t := el.Value.(*tracked)
		el = el.Next()
		quiet := e.now.Sub(t.touched)
		if quiet < shortest {
			return
		}
		if quiet >= e.cfg.clearAfter(t.detector) {
			e.close(t, StateCleared)
			e.m.cleared.Inc()
		}
	}
}

// evict clears the least recently reported finding early, marked as
// evicted: memory stays bounded, a later report opens a new occurrence as
// after any clearing, and the store holds no finding active forever.
func (e *Engine) evict() {
	t := e.lru.Front().Value.(*tracked)
	t.ev.Evicted = true
	e.close(t, StateCleared)
	e.m.evicted.Inc()
}

// Acknowledge marks an open finding as seen by an analyst. It stays open:
// repeats still count, and it clears after quiet like an active one.
func (e *Engine) Acknowledge(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.byID[id]
	if !ok {
		return fmt.Errorf("acknowledge %s: %w", id, ErrUnknownFinding)
	}
	if t.ev.State == StateActive {
		t.ev.State = StateAcknowledged
		e.emit(t)
	}
	return e.flush(ctx)
}

// Verdict records an analyst's verdict on an open finding. A true
// positive acknowledges it; a false or benign positive closes it in that
// state and becomes a suppression (Config.SuppressFor long) of later
// reports and of the other open findings it matches.
func (e *Engine) Verdict(ctx context.Context, id, verdict, note string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.byID[id]
	if !ok {
		return fmt.Errorf("verdict on %s: %w", id, ErrUnknownFinding)
	}
	if err := checkVerdict(verdict); err != nil {
		return fmt.Errorf("verdict on %s: %w", id, err)
	}
	t.ev.Verdict, t.ev.Note = verdict, note
	switch verdict {
	case TruePositive:
		t.ev.State = StateAcknowledged
		e.emit(t)
	default: // false or benign positive
		s := Suppression{
			Tenant: t.tenant, Detector: t.detector, Rule: t.rule, Entities: t.entities,
			Verdict: verdict, Note: note, Finding: t.id, Created: e.now,
		}
		if e.cfg.SuppressFor > 0 {
			s.Expires = e.now.Add(e.cfg.SuppressFor)
		}
		// Flushed even when saving the suppressions failed: the finding
		// is closed in memory either way.
		_, err := e.addSuppression(s)
		return errors.Join(err, e.flush(ctx))
	}
	return e.flush(ctx)
}

func checkVerdict(v string) error {
	if v != TruePositive && v != FalsePositive && v != BenignPositive {
		return fmt.Errorf("verdict %q is not %s, %s or %s", v, TruePositive, FalsePositive, BenignPositive)
	}
	return nil
}
