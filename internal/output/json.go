// Package output writes sessions for people and other tools: JSON lines
// (the Session contract, docs/schema.md) and Zeek's conn.log format.
package output

import (
	"bufio"
	"context"
	"encoding/json"
	"io"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// JSONWriter writes one Session per line.
type JSONWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
	n   uint64
}

// NewJSON writes JSON lines to w.
func NewJSON(w io.Writer) *JSONWriter {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONWriter{w: bw, enc: enc}
}

// WriteSessions implements pipeline.SessionSink.
func (j *JSONWriter) WriteSessions(_ context.Context, batch []schema.Session) error {
	for i := range batch {
		if err := j.enc.Encode(&batch[i]); err != nil {
			return err
		}
	}
	j.n += uint64(len(batch))
	return nil
}

// Close flushes buffered lines; it does not close the underlying writer.
func (j *JSONWriter) Close() error { return j.w.Flush() }

// Discard counts sessions and writes nothing (osprey read --output none).
type Discard struct{ N uint64 }

// NewDiscard returns a counting sink.
func NewDiscard() *Discard { return &Discard{} }

// WriteSessions implements pipeline.SessionSink.
func (d *Discard) WriteSessions(_ context.Context, batch []schema.Session) error {
	d.N += uint64(len(batch))
	return nil
}

// Close implements pipeline.SessionSink.
func (d *Discard) Close() error { return nil }
