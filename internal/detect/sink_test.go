package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestJSONSinkWritesTheFinalSet(t *testing.T) {
	var buf bytes.Buffer
	e := newEngine(t, DefaultConfig(), NewJSONSink(&buf), scanner())
	other := session("D1", 90*time.Second, 22)
	other.Orig.IP = netip.MustParseAddr("10.0.0.7")
	for i, off := range []time.Duration{0, 30 * time.Second, 61 * time.Second, 2 * time.Minute} {
		write(t, e, session("C"+string(rune('a'+i)), off, 22))
	}
	write(t, e, other)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "findings.jsonl")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("findings.jsonl (-want +got), rerun with -update if intended:\n%s", diff)
	}
	// One line per finding, each a schema.Finding in its final state.
	var n int
	for line := range bytes.Lines(buf.Bytes()) {
		var f schema.Finding
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d lines, want 2 (one per finding, not per update)", n)
	}
}

type fakeStore struct {
	batches [][]schema.Finding
	fail    error
}

func (s *fakeStore) UpsertFindings(_ context.Context, b []schema.Finding) error {
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, append([]schema.Finding(nil), b...))
	return nil
}

func TestStoreSinkBatches(t *testing.T) {
	st := &fakeStore{}
	sink := NewStoreSink(st, 2)
	ctx := context.Background()
	f := func(id, state string) schema.Finding { return schema.Finding{ID: id, State: state} }
	// a's second state replaces its first within the batch.
	if err := sink.WriteFindings(ctx, []schema.Finding{f("a", StateActive), f("a", StateCleared), f("b", StateActive), f("c", StateActive)}); err != nil {
		t.Fatal(err)
	}
	st.fail = errors.New("store down")
	if err := sink.Close(); err == nil {
		t.Error("Close hid the store's error")
	}
	st.fail = nil
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	want := [][]schema.Finding{{f("a", StateCleared), f("b", StateActive)}, {f("c", StateActive)}}
	if diff := cmp.Diff(want, st.batches); diff != "" {
		t.Errorf("upserts (-want +got), c retried after the failure:\n%s", diff)
	}
}

func TestStoreSinkLiveAndTee(t *testing.T) {
	st := &fakeStore{}
	var buf bytes.Buffer
	sink := Tee(NewStoreSink(st, 0), NewJSONSink(&buf))
	ctx := context.Background()
	f := func(id, state string) schema.Finding { return schema.Finding{ID: id, State: state} }
	for _, b := range [][]schema.Finding{{f("a", StateActive)}, {f("a", StateCleared), f("b", StateActive)}} {
		if err := sink.WriteFindings(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]schema.Finding{{f("a", StateActive)}, {f("a", StateCleared), f("b", StateActive)}}
	if diff := cmp.Diff(want, st.batches); diff != "" {
		t.Errorf("size 0 upserts each call at once (-want +got):\n%s", diff)
	}
	if buf.Len() != 0 {
		t.Error("the JSON sink wrote before Close")
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("JSON sink wrote %d findings at Close, want 2:\n%s", n, buf.String())
	}
}
