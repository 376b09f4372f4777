package flowlog

import (
	"context"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// memSink keeps every session it is given, as a sink that stores them
// must (copies of the elements; their Flow pointers stay valid because
// each batch has its own Flow slab).
type memSink struct {
	got     []schema.Session
	batches int
}

func (m *memSink) WriteSessions(_ context.Context, b []schema.Session) error {
	m.got = append(m.got, b...)
	m.batches++
	return nil
}

func (m *memSink) Close() error { return nil }

type memRejects struct{ got []collect.BadInput }

func (m *memRejects) Reject(b collect.BadInput) { m.got = append(m.got, b) }

// readString runs a Reader with cfg over text and returns what came out.
func readString(t *testing.T, cfg Config, text string) ([]schema.Session, []collect.BadInput, Stats) {
	t.Helper()
	sink, rej := &memSink{}, &memRejects{}
	r, err := New(cfg, sink, rej)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Read(context.Background(), "test.log", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, st, sink, rej)
	return sink.got, rej.got, st
}

// checkStats holds every input to the accounting rule: each unit is a
// record, a reject or skipped, and the counts match what was delivered.
func checkStats(t *testing.T, st Stats, sink *memSink, rej *memRejects) {
	t.Helper()
	if st.Lines != st.Records+st.Rejected+st.Skipped {
		t.Errorf("stats %+v: lines != records + rejected + skipped", st)
	}
	if uint64(len(sink.got)) != st.Records || uint64(len(rej.got)) != st.Rejected {
		t.Errorf("stats %+v, but %d sessions and %d rejects delivered", st, len(sink.got), len(rej.got))
	}
}
