package detect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// suppressionFile is the YAML form of Config.SuppressionFile.
type suppressionFile struct {
	Suppressions []Suppression `yaml:"suppressions"`
}

// loadSuppressions reads the file at path; a missing file is an empty set.
func loadSuppressions(path string) (*suppressions, error) {
	ss := &suppressions{path: path, byDetector: map[string][]*Suppression{}}
	if path == "" {
		return ss, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ss, nil
	}
	if err != nil {
		return nil, fmt.Errorf("suppression_file: %w", err)
	}
	var f suppressionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("suppression_file %s: %w", path, err)
	}
	for i := range f.Suppressions {
		s := &f.Suppressions[i]
		if err := normalise(s); err != nil {
			return nil, fmt.Errorf("suppression_file %s: suppressions[%d]: %w", path, i, err)
		}
		ss.put(s)
	}
	return ss, nil
}

// save writes the set atomically: a crash leaves the old file or the new.
func (ss *suppressions) save() error {
	if ss.path == "" {
		return nil
	}
	data, err := yaml.Marshal(suppressionFile{Suppressions: ss.all()})
	if err != nil {
		return fmt.Errorf("save suppressions: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(ss.path), ".suppressions-*")
	if err != nil {
		return fmt.Errorf("save suppressions: %w", err)
	}
	_, err = tmp.Write(data)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), ss.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save suppressions to %s: %w", ss.path, err)
	}
	return nil
}

// SuppressionFor is the suppression an analyst's false- or
// benign-positive verdict on a stored finding makes: its detector, rule
// and entities, from now for lifetime (forever when zero).
func SuppressionFor(f schema.Finding, verdict, note string, now time.Time, lifetime time.Duration) (Suppression, error) {
	s := Suppression{Tenant: f.Tenant, Detector: f.Detector, Rule: f.Rule, Entities: f.Entities,
		Verdict: verdict, Note: note, Finding: f.ID, Created: now}
	if lifetime > 0 {
		s.Expires = now.Add(lifetime)
	}
	if err := normalise(&s); err != nil {
		return s, fmt.Errorf("suppression: %w", err)
	}
	return s, nil
}

// AddToSuppressionFile adds s to the file at path (or replaces the one
// with its id), for a process other than the engine's — the engine
// picks the change up with ReloadSuppressions.
func AddToSuppressionFile(path string, s Suppression) error {
	ss, err := loadSuppressions(path)
	if err != nil {
		return err
	}
	if err := normalise(&s); err != nil {
		return fmt.Errorf("suppression: %w", err)
	}
	ss.put(&s)
	return ss.save()
}

// ReadSuppressionFile lists the suppressions of the file at path.
func ReadSuppressionFile(path string) ([]Suppression, error) {
	ss, err := loadSuppressions(path)
	if err != nil {
		return nil, err
	}
	return ss.all(), nil
}

// ReloadSuppressions reads the suppression file again, after another
// process changed it: the file's set replaces the engine's (hits counted
// in memory are kept), and the open findings a new suppression matches
// are closed at once.
func (e *Engine) ReloadSuppressions(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	fresh, err := loadSuppressions(e.cfg.SuppressionFile)
	if err != nil {
		return err
	}
	old := map[string]*Suppression{}
	for _, list := range e.sups.byDetector {
		for _, s := range list {
			old[s.ID] = s
		}
	}
	e.sups = fresh
	for _, list := range fresh.byDetector {
		for _, s := range list {
			if prev, ok := old[s.ID]; ok {
				s.Hits = max(s.Hits, prev.Hits)
				continue
			}
			e.closeMatching(s)
		}
	}
	return e.flush(ctx)
}
