package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Suppression stops reports from raising findings: those of Detector
// whose Rule is Rule (any rule when empty) and whose entities include
// all of Entities, in Tenant (any tenant when empty), until Expires
// (never when zero). Suppressed reports are counted in Hits.
type Suppression struct {
	ID       string    `yaml:"id" json:"id"`
	Tenant   string    `yaml:"tenant,omitempty" json:"tenant,omitempty"`
	Detector string    `yaml:"detector" json:"detector"`
	Rule     string    `yaml:"rule,omitempty" json:"rule,omitempty"`
	Entities []string  `yaml:"entities,omitempty" json:"entities,omitempty"`
	Verdict  string    `yaml:"verdict" json:"verdict"` // false_positive or benign_positive: the state it gives findings
	Note     string    `yaml:"note,omitempty" json:"note,omitempty"`
	Finding  string    `yaml:"finding,omitempty" json:"finding,omitempty"` // the finding whose verdict made it
	Created  time.Time `yaml:"created" json:"created"`
	Expires  time.Time `yaml:"expires,omitempty" json:"expires,omitzero"`
	Hits     uint64    `yaml:"hits" json:"hits"`
}

// matches says whether the suppression is in force at t for a finding.
func (s *Suppression) matches(tenant, detector, rule string, entities []string, t time.Time) bool {
	if s.Detector != detector || (s.Tenant != "" && s.Tenant != tenant) || (s.Rule != "" && s.Rule != rule) {
		return false
	}
	if !s.Expires.IsZero() && !t.Before(s.Expires) {
		return false
	}
	for _, want := range s.Entities {
		if !slices.Contains(entities, want) {
			return false
		}
	}
	return true
}

// suppressionID is the same for two suppressions that match the same
// findings, so adding one twice replaces it.
func suppressionID(s *Suppression) string {
	h := sha256.New()
	for _, f := range []string{s.Tenant, s.Detector, s.Rule, strings.Join(s.Entities, "\x00")} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// suppressions is the engine's set, by detector so that a report is
// only checked against its own detector's.
type suppressions struct {
	path       string
	byDetector map[string][]*Suppression
}

func (ss *suppressions) match(tenant, detector, rule string, entities []string, t time.Time) *Suppression {
	for _, s := range ss.byDetector[detector] {
		if s.matches(tenant, detector, rule, entities, t) {
			return s
		}
	}
	return nil
}

// put adds s, or replaces the suppression with its id.
func (ss *suppressions) put(s *Suppression) {
	list := ss.byDetector[s.Detector]
	for i, old := range list {
		if old.ID == s.ID {
			list[i] = s
			return
		}
	}
	ss.byDetector[s.Detector] = append(list, s)
}

func (ss *suppressions) all() []Suppression {
	var out []Suppression
	for _, list := range ss.byDetector {
		for _, s := range list {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Suppression) int { return a.Created.Compare(b.Created) })
	return out
}

// normalise checks a suppression and gives it its id.
func normalise(s *Suppression) error {
	if s.Detector == "" {
		return errors.New("detector: empty")
	}
	if s.Verdict != FalsePositive && s.Verdict != BenignPositive {
		return fmt.Errorf("verdict: %q, want %s or %s", s.Verdict, FalsePositive, BenignPositive)
	}
	s.Entities = sortedUnique(s.Entities)
	s.ID = suppressionID(s)
	return nil
}

// Suppress adds a suppression (or replaces the one with the same match),
// closes the open findings it matches and saves the set. It returns the
// suppression with its id.
func (e *Engine) Suppress(ctx context.Context, s Suppression) (Suppression, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.addSuppression(s)
	return s, errors.Join(err, e.flush(ctx))
}

// addSuppression closes the open findings s matches in its verdict's
// state, the verdicted finding itself included.
func (e *Engine) addSuppression(s Suppression) (Suppression, error) {
	if err := normalise(&s); err != nil {
		return s, fmt.Errorf("suppression: %w", err)
	}
	if s.Created.IsZero() {
		s.Created = e.now
	}
	e.sups.put(&s)
	e.closeMatching(&s)
	return s, e.sups.save()
}

// closeMatching closes the open findings s matches in its verdict's state.
func (e *Engine) closeMatching(s *Suppression) {
	for el := e.lru.Front(); el != nil; {
		t := el.Value.(*tracked)
		el = el.Next()
		if s.matches(t.tenant, t.detector, t.rule, t.entities, e.now) {
			t.ev.Verdict, t.ev.Note, t.ev.Suppression = s.Verdict, s.Note, s.ID
			e.close(t, s.Verdict)
		}
	}
}

// RemoveSuppression deletes a suppression by id and saves the set.
func (e *Engine) RemoveSuppression(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for det, list := range e.sups.byDetector {
		for i, s := range list {
			if s.ID == id {
				e.sups.byDetector[det] = slices.Delete(list, i, i+1)
				return e.sups.save()
			}
		}
	}
	return fmt.Errorf("remove suppression %s: no such suppression", id)
}

// Suppressions lists the suppressions, oldest first, with their hits.
func (e *Engine) Suppressions() []Suppression {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sups.all()
}

// ApplySuppressions returns the stored findings that sups close, in the
// state of the matching suppression's verdict and with the verdict in
// their evidence, ready for Store.UpsertFindings: a verdict applies to
// history as well as to later reports. A suppression applies to findings
// first seen before it expires; findings already verdicted are left as
// they are.
func ApplySuppressions(stored []schema.Finding, sups []Suppression) ([]schema.Finding, error) {
	var changed []schema.Finding
	for _, f := range stored {
		if f.State != StateActive && f.State != StateAcknowledged && f.State != StateCleared {
			continue
		}
		for i := range sups {
			s := &sups[i]
			if !s.matches(f.Tenant, f.Detector, f.Rule, f.Entities, f.Time) {
				continue
			}
			ev, err := setEvidence(f.Evidence, map[string]string{
				"state": s.Verdict, "verdict": s.Verdict, "note": s.Note, "suppression": s.ID,
			})
			if err != nil {
				return nil, fmt.Errorf("finding %s: %w", f.ID, err)
			}
			f.State, f.Evidence = s.Verdict, ev
			changed = append(changed, f)
			break
		}
	}
	return changed, nil
}

// setEvidence sets fields of a stored evidence object, keeping the rest
// (evidence written by an older version may hold fields this one lacks).
func setEvidence(raw json.RawMessage, fields map[string]string) (json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
	}
	for k, v := range fields {
		if v == "" {
			continue
		}
		b, _ := json.Marshal(v)
		obj[k] = b
	}
	return json.Marshal(obj)
}

// AcknowledgeStored is Acknowledge, or a true-positive Verdict, for a
// stored finding the engine no longer holds: an open finding becomes
// acknowledged; verdict and note, when given, go into its evidence.
func AcknowledgeStored(f schema.Finding, verdict, note string) (schema.Finding, error) {
	if verdict != "" && verdict != TruePositive {
		return f, fmt.Errorf("acknowledge %s: verdict %q: only %s acknowledges (the others suppress)", f.ID, verdict, TruePositive)
	}
	if f.State != StateActive && f.State != StateAcknowledged {
		return f, fmt.Errorf("acknowledge %s: it is %s, not open", f.ID, f.State)
	}
	ev, err := setEvidence(f.Evidence, map[string]string{"state": StateAcknowledged, "verdict": verdict, "note": note})
	if err != nil {
		return f, fmt.Errorf("finding %s: %w", f.ID, err)
	}
	f.State, f.Evidence = StateAcknowledged, ev
	return f, nil
}
