package defender

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// things remembers, for each thing, the last report id it had accepted
// and when, so that a replayed or reordered report (AWS: report_id must
// increase) and a report too soon after the last one are turned away.
// Memory is bounded: past max things, the one that reported least
// recently is forgotten, and its next report is taken whatever its id.
type things struct {
	mu          sync.Mutex
	max         int
	minInterval time.Duration
	byName      map[string]*list.Element // of *thingState
	lru         list.List                // front: most recent
	evicted     uint64
}

type thingState struct {
	name   string
	lastID int64
	lastAt time.Time
}

// admission is what admit changed, for revert.
type admission struct {
	thing      string
	id, prevID int64
	prevAt     time.Time
	hadState   bool
}

func newThings(max int, minInterval time.Duration) *things {
	return &things{max: max, minInterval: minInterval, byName: make(map[string]*list.Element)}
}

// admit accepts report id from thing at now if id is greater than the
// last accepted and min_report_interval has passed, and records it.
func (t *things) admit(thing string, id int64, now time.Time) (admission, *ReportError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := admission{thing: thing, id: id}
	if e, ok := t.byName[thing]; ok {
		s := e.Value.(*thingState)
		if id <= s.lastID {
			return a, &ReportError{Code: CodeDuplicateReportID,
				Message: fmt.Sprintf("%d is not greater than %d, the last report_id accepted from %s", id, s.lastID, thing)}
		}
		if since := now.Sub(s.lastAt); since < t.minInterval {
			return a, &ReportError{Code: CodeThrottled,
				Message: fmt.Sprintf("%s reported %s ago; one report per %s is taken", thing, since.Round(time.Second), t.minInterval)}
		}
		a.prevID, a.prevAt, a.hadState = s.lastID, s.lastAt, true
		s.lastID, s.lastAt = id, now
		t.lru.MoveToFront(e)
		return a, nil
	}
	if t.lru.Len() >= t.max {
		old := t.lru.Back()
		delete(t.byName, old.Value.(*thingState).name)
		t.lru.Remove(old)
		t.evicted++
	}
	t.byName[thing] = t.lru.PushFront(&thingState{name: thing, lastID: id, lastAt: now})
	return a, nil
}

// revert undoes an admission whose metrics were not stored, so that the
// device may send the same report again; a later admission stands.
func (t *things) revert(a admission) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byName[a.thing]
	if !ok || e.Value.(*thingState).lastID != a.id {
		return
	}
	if a.hadState {
		s := e.Value.(*thingState)
		s.lastID, s.lastAt = a.prevID, a.prevAt
		return
	}
	delete(t.byName, a.thing)
	t.lru.Remove(e)
}

// stats returns how many things are tracked and how many were forgotten.
func (t *things) stats() (tracked int, evicted uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len(), t.evicted
}
