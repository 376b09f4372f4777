package detect

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Finding states (schema.Finding.State). Active and acknowledged
// findings are open; the others are final for that finding id.
const (
	StateActive         = "active"
	StateAcknowledged   = "acknowledged"
	StateCleared        = "cleared"
	StateFalsePositive  = "false_positive"
	StateBenignPositive = "benign_positive"
)

// Evidence is the JSON in schema.Finding.Evidence.
type Evidence struct {
	Summary   string    `json:"summary"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     uint64    `json:"count"` // reports folded into the finding
	// Sessions are the first and the last record ids reported, at most
	// Config.MaxSessions; SessionsOmitted counts those in between.
	Sessions        []string           `json:"sessions,omitempty"`
	SessionsOmitted uint64             `json:"sessions_omitted,omitempty"`
	Values          map[string]float64 `json:"values,omitempty"` // of the latest report
	State           string             `json:"state"`
	Verdict         string             `json:"verdict,omitempty"`
	Note            string             `json:"note,omitempty"`
	// Suppression is the id of the suppression that closed the finding.
	Suppression string `json:"suppression,omitempty"`
	// Evicted says the finding was cleared early to bound memory
	// (Config.MaxActive), not after its quiet time.
	Evicted bool `json:"evicted,omitempty"`
}

// key is what folds reports into one finding: a dedupe key is the
// detector's own, so two detectors never fold into each other.
type key struct {
	tenant, detector, dedupe string
}

// tracked is a finding the engine holds in memory while it is open.
type tracked struct {
	key
	id        string
	rule      string
	severity  Severity
	entities  []string
	technique string
	ev        Evidence
	// head and tail keep the first and the latest session ids; tail is a
	// ring starting at tailAt once full.
	head, tail []string
	tailAt     int

	touched     time.Time // engine time of the latest report: clearing and LRU order
	lastWritten time.Time
	dirty       bool // changed since last written
	closed      bool // cleared, verdicted or evicted: no longer in the engine's maps
	elem        *list.Element
}

// findingID is stable across reruns of the same input: the same
// detector, tenant and dedupe key first reported at the same time.
func findingID(k key, first time.Time) string {
	h := sha256.New()
	for _, s := range []string{k.tenant, k.detector, k.dedupe, first.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func newTracked(k key, r *Report) *tracked {
	t := &tracked{
		key: k, id: findingID(k, r.Time), rule: r.Rule, severity: r.Severity,
		entities: sortedUnique(r.Entities), technique: r.Technique,
		ev: Evidence{FirstSeen: r.Time, LastSeen: r.Time, State: StateActive},
	}
	return t
}

// fold adds one report: counts it, keeps the latest summary and values
// and the highest severity seen, and adds its entities.
func (t *tracked) fold(r *Report, maxSessions int) {
	t.ev.Count++
	t.addEntities(r.Entities)
	if r.Time.After(t.ev.LastSeen) {
		t.ev.LastSeen = r.Time
	}
	if r.Summary != "" {
		t.ev.Summary = r.Summary
	}
	if r.Values != nil {
		// Copied: the detector may reuse its map after the call.
		if t.ev.Values == nil {
			t.ev.Values = make(map[string]float64, len(r.Values))
		}
		clear(t.ev.Values)
		for name, v := range r.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) { // JSON has no NaN or infinity
				t.ev.Values[name] = v
			}
		}
	}
	if severityRank(r.Severity) > severityRank(t.severity) {
		t.severity = r.Severity
	}
	for _, s := range r.Sessions {
		t.addSession(s, maxSessions)
	}
}

// maxEntities bounds a finding's entities as repeats add theirs.
const maxEntities = 32

// addEntities adds the entities a repeat names that the finding lacks
// (a device's next new destination), up to maxEntities. The slice is
// replaced, never changed: findings already emitted share it.
func (t *tracked) addEntities(es []string) {
	var add []string
	for _, e := range es {
		if len(t.entities)+len(add) >= maxEntities {
			break
		}
		if _, found := slices.BinarySearch(t.entities, e); !found && !slices.Contains(add, e) {
			add = append(add, e)
		}
	}
	if len(add) > 0 {
		t.entities = sortedUnique(append(slices.Clone(t.entities), add...))
	}
}

func (t *tracked) addSession(s string, maxSessions int) {
	half := maxSessions / 2
	switch {
	case len(t.head) < maxSessions-half:
		t.head = append(t.head, s)
	case len(t.tail) < half:
		t.tail = append(t.tail, s)
	default:
		t.tail[t.tailAt] = s
		t.tailAt = (t.tailAt + 1) % half
		t.ev.SessionsOmitted++
	}
}

// finding renders the record as the sinks receive it.
func (t *tracked) finding() schema.Finding {
	ev := t.ev
	ev.Sessions = make([]string, 0, len(t.head)+len(t.tail))
	ev.Sessions = append(ev.Sessions, t.head...)
	ev.Sessions = append(ev.Sessions, t.tail[t.tailAt:]...)
	ev.Sessions = append(ev.Sessions, t.tail[:t.tailAt]...)
	raw, err := json.Marshal(ev)
	if err != nil {
		panic(err) // strings, times and finite floats only (fold drops the others)
	}
	return schema.Finding{
		ID: t.id, Tenant: t.tenant, Time: t.ev.FirstSeen, Detector: t.detector,
		Rule: t.rule, Severity: string(t.severity), Entities: t.entities,
		Evidence: raw, State: t.ev.State, DedupeKey: t.dedupe, Technique: t.technique,
	}
}

func severityRank(s Severity) int {
	switch s {
	case Info:
		return 1
	case Low:
		return 2
	case Medium:
		return 3
	case High:
		return 4
	case Critical:
		return 5
	}
	return 0
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(s)))
}
