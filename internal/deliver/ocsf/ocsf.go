// Package ocsf is the OCSF output (type: ocsf): findings as Detection
// Finding (2004) and sessions as Network Activity (4001) events of the
// Open Cybersecurity Schema Framework 1.3.0, as JSON lines, to rotated
// files or to objects in S3 or an S3-compatible store laid out as AWS
// Security Lake lays out its sources (docs/outputs-ocsf.md).
package ocsf

import (
	"context"
	"fmt"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Destination is a deliver.Destination writing OCSF events to files or
// S3.
type Destination struct {
	enc  *Encoder
	sink sink
	done written
}

// sink writes the records of one group (one file path or one S3 key
// prefix) at once.
type sink interface {
	// group names the group a record goes to.
	group(r *deliver.Record) string
	write(ctx context.Context, group string, recs []*deliver.Record) error
	close() error
}

// New builds the destination (the S3 client reads the environment and
// shared AWS files; nothing is contacted, no file is opened); cfg must
// be valid.
func New(cfg Config) (*Destination, error) {
	d := &Destination{enc: NewEncoder(cfg), done: written{}}
	switch cfg.Destination {
	case "file":
		d.sink = newFileSink(cfg.File)
	case "s3":
		s, err := newS3Sink(cfg.S3)
		if err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
		d.sink = s
	default:
		return nil, fmt.Errorf("destination: must be file or s3, got %q", cfg.Destination)
	}
	return d, nil
}

// Encoder renders events as OCSF JSON.
func (d *Destination) Encoder() deliver.Encoder { return d.enc }

// Send writes the batch, one write per group (file, or class and day
// for S3), and returns how many records from its front are written.
func (d *Destination) Send(ctx context.Context, batch []deliver.Record) (int, error) {
	return d.done.send(ctx, batch, d.sink)
}

var _ deliver.Counter = (*Destination)(nil)

// Counts are the files rotated and pruned (deliver.Counter); none for S3.
func (d *Destination) Counts() map[string]uint64 {
	if c, ok := d.sink.(interface{ counts() map[string]uint64 }); ok {
		return c.counts()
	}
	return nil
}

// Close closes the files being written.
func (d *Destination) Close() error { return d.sink.close() }

// written holds the sequence numbers of records a failed Send had
// already written beyond the front it could report: groups are written
// one after another, so a failure in one leaves later groups written
// while earlier records are still unsent. The retry skips them, which
// makes a partial failure cost no duplicates within the process (across
// a restart delivery is at least once).
type written map[uint64]struct{}

func (w written) send(ctx context.Context, batch []deliver.Record, s sink) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	// Records before the batch have left the queue (acknowledged or
	// dead-lettered): forget them.
	for seq := range w {
		if seq < batch[0].Seq {
			delete(w, seq)
		}
	}
	var order []string
	groups := map[string][]*deliver.Record{}
	for i := range batch {
		r := &batch[i]
		if _, ok := w[r.Seq]; ok {
			continue
		}
		g := s.group(r)
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r)
	}
	var firstErr error
	for _, g := range order {
		if ctx.Err() != nil {
			if firstErr == nil {
				firstErr = ctx.Err()
			}
			break
		}
		if err := s.write(ctx, g, groups[g]); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, r := range groups[g] {
			w[r.Seq] = struct{}{}
		}
	}
	n := 0
	for ; n < len(batch); n++ {
		if _, ok := w[batch[n].Seq]; !ok {
			break
		}
		delete(w, batch[n].Seq)
	}
	return n, firstErr
}

var _ deliver.Destination = (*Destination)(nil)
