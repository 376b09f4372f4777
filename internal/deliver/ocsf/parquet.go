package ocsf

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// parquetFiles writes records of one class, as Encoder wrote them, as a
// Parquet file of that class's OCSF attributes, nested as in the JSON
// (the parquet tags of objects.go), sorted by time, zstd-compressed:
// the layout AWS Security Lake asks of a custom source. "unmapped"
// becomes a map of strings (unmappedStrings). A writer is kept a class:
// building one (its schema, by reflection) takes milliseconds.
type parquetFiles struct {
	sessions *parquet.GenericWriter[networkActivity]
	findings *parquet.GenericWriter[detectionFinding]
}

func (p *parquetFiles) write(w io.Writer, recs []*deliver.Record) error {
	switch recs[0].Kind {
	case deliver.KindSession:
		return writeRows(&p.sessions, w, recs, func(e *networkActivity) (int64, error) {
			var err error
			e.UnmappedParquet, err = unmappedStrings(e.Unmapped)
			return e.Time, err
		})
	case deliver.KindFinding:
		return writeRows(&p.findings, w, recs, func(e *detectionFinding) (int64, error) {
			var err error
			e.UnmappedParquet, err = unmappedStrings(e.Unmapped)
			return e.Time, err
		})
	}
	return fmt.Errorf("ocsf: no Parquet layout for record kind %d", recs[0].Kind)
}

// writeRows decodes the records into T (prep fills what JSON does not
// and gives the event's time) and writes them to w in time order with
// *pw, made on first use.
func writeRows[T any](pw **parquet.GenericWriter[T], w io.Writer, recs []*deliver.Record, prep func(*T) (int64, error)) error {
	type row struct {
		t int64
		v T
	}
	rows := make([]row, len(recs))
	for i, r := range recs {
		if r.Kind != recs[0].Kind {
			return fmt.Errorf("ocsf: a Parquet object holds one class; record %d is of another", i)
		}
		if err := json.Unmarshal(r.Data, &rows[i].v); err != nil {
			return fmt.Errorf("ocsf: record %d: %w", i, err)
		}
		var err error
		if rows[i].t, err = prep(&rows[i].v); err != nil {
			return fmt.Errorf("ocsf: record %d: %w", i, err)
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.t, b.t) })
	if *pw == nil {
		*pw = parquet.NewGenericWriter[T](w, parquet.Compression(&parquet.Zstd))
	} else {
		(*pw).Reset(w)
	}
	for i := range rows {
		// One row a call: parquet-go v0.32.1 writes the rows of one call
		// that follow a set optional attribute of a nested object as set
		// to "" rather than absent (TestParquetReadsAsTheJSON).
		if _, err := (*pw).Write([]T{rows[i].v}); err != nil {
			return fmt.Errorf("ocsf: parquet: %w", err)
		}
	}
	if err := (*pw).Close(); err != nil {
		return fmt.Errorf("ocsf: parquet: %w", err)
	}
	return nil
}

// unmappedStrings is "unmapped" with strings as they are and other
// values as their JSON: Parquet has no column of any type, and the keys
// stay queryable.
func unmappedStrings(u map[string]any) (map[string]string, error) {
	if len(u) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(u))
	for k, v := range u {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = string(b)
	}
	return out, nil
}
