package detect

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// JSONSink writes findings as JSON lines, one schema.Finding per line.
// It keeps the latest state of each finding and writes them all at
// Close, ordered by time then id: a file given to `osprey read
// --findings` holds the final deduplicated set, not every update.
type JSONSink struct {
	w     io.Writer
	byID  map[string]int
	final []schema.Finding
}

// NewJSONSink writes to w at Close; closing w is the caller's.
func NewJSONSink(w io.Writer) *JSONSink {
	return &JSONSink{w: w, byID: map[string]int{}}
}

// WriteFindings keeps the latest state of each finding.
func (j *JSONSink) WriteFindings(_ context.Context, batch []schema.Finding) error {
	for _, f := range batch {
		if i, ok := j.byID[f.ID]; ok {
			j.final[i] = f
			continue
		}
		j.byID[f.ID] = len(j.final)
		j.final = append(j.final, f)
	}
	return nil
}

// Close writes the findings.
func (j *JSONSink) Close() error {
	slices.SortFunc(j.final, func(a, b schema.Finding) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	enc := json.NewEncoder(j.w)
	for i := range j.final {
		if err := enc.Encode(&j.final[i]); err != nil {
			return fmt.Errorf("write findings: %w", err)
		}
	}
	j.final, j.byID = nil, nil
	return nil
}

// FindingStore is the part of store.Store the store sink needs.
type FindingStore interface {
	UpsertFindings(ctx context.Context, batch []schema.Finding) error
}

// StoreSink batches findings into Store.UpsertFindings. Within a batch
// only a finding's latest state is kept, since upserts replace by id.
type StoreSink struct {
	st    FindingStore
	size  int
	byID  map[string]int
	batch []schema.Finding
}

// NewStoreSink upserts in batches of size findings, and at Close; a
// size of 0 upserts what each WriteFindings call brings at once, as a
// live engine wants (it writes once per batch of sessions). It does not
// close the store, which the caller shares with other writers.
func NewStoreSink(st FindingStore, size int) *StoreSink {
	return &StoreSink{st: st, size: max(size, 0), byID: map[string]int{}}
}

// WriteFindings adds to the batch and upserts it once full.
func (s *StoreSink) WriteFindings(ctx context.Context, batch []schema.Finding) error {
	for _, f := range batch {
		if i, ok := s.byID[f.ID]; ok {
			s.batch[i] = f
			continue
		}
		s.byID[f.ID] = len(s.batch)
		s.batch = append(s.batch, f)
		if s.size > 0 && len(s.batch) >= s.size {
			if err := s.flush(ctx); err != nil {
				return err
			}
		}
	}
	if s.size == 0 {
		return s.flush(ctx)
	}
	return nil
}

// Close upserts what is left.
func (s *StoreSink) Close() error { return s.flush(context.Background()) }

func (s *StoreSink) flush(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	// On error the batch is kept and retried with the next flush: the
	// states it holds are not written anywhere else.
	if err := s.st.UpsertFindings(ctx, s.batch); err != nil {
		return fmt.Errorf("upsert findings: %w", err)
	}
	clear(s.byID)
	clear(s.batch)
	s.batch = s.batch[:0]
	return nil
}

// Tee writes findings to every sink in turn and closes them all.
func Tee(sinks ...FindingSink) FindingSink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return tee(sinks)
}

type tee []FindingSink

func (t tee) WriteFindings(ctx context.Context, batch []schema.Finding) error {
	var errs []error
	for _, s := range t {
		errs = append(errs, s.WriteFindings(ctx, batch))
	}
	return errors.Join(errs...)
}

func (t tee) Close() error {
	var errs []error
	for _, s := range t {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
