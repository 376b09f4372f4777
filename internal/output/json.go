// Package output writes sessions for people and other tools: JSON lines
// (the Session contract, docs/schema.md), Zeek's conn.log format for Zeek
// tooling (zeek-cut, RITA), and a counting sink that writes nothing. It
// also reads conn.log back (ParseZeekConn), for fidelity tests against
// Zeek's own output.
//
// The writers implement pipeline.SessionSink; each is meant for one
// goroutine at a time (the pipeline serialises calls to a sink).
package output

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// JSONWriter writes one Session per line, as encoding/json renders
// schema.Session; times are RFC 3339 with nanoseconds, in UTC.
type JSONWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
	n   uint64
}

// NewJSON writes JSON lines to w, buffered; Close flushes.
func NewJSON(w io.Writer) *JSONWriter {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // URLs and user agents stay readable
	return &JSONWriter{w: bw, enc: enc}
}

// WriteSessions implements pipeline.SessionSink.
func (j *JSONWriter) WriteSessions(_ context.Context, batch []schema.Session) error {
	for i := range batch {
		// A copy, so the caller's times keep their location.
		s := batch[i]
		s.Start, s.End = s.Start.UTC(), s.End.UTC()
		if err := j.enc.Encode(&s); err != nil {
			return fmt.Errorf("json output: session %s seq %d: %w", s.UID, s.Seq, err)
		}
		j.n++
	}
	return nil
}

// Count is the number of sessions written.
func (j *JSONWriter) Count() uint64 { return j.n }

// Close flushes buffered lines; it does not close the underlying writer.
func (j *JSONWriter) Close() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("json output: flush: %w", err)
	}
	return nil
}

// Discard counts sessions and writes nothing (--output none), so that a
// benchmark measures the sensor and not the encoder.
type Discard struct {
	N uint64 // sessions received
}

// NewDiscard returns a counting sink.
func NewDiscard() *Discard { return &Discard{} }

// WriteSessions implements pipeline.SessionSink.
func (d *Discard) WriteSessions(_ context.Context, batch []schema.Session) error {
	d.N += uint64(len(batch))
	return nil
}

// Count is the number of sessions received.
func (d *Discard) Count() uint64 { return d.N }

// Close implements pipeline.SessionSink.
func (d *Discard) Close() error { return nil }
