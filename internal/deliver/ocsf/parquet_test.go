package ocsf

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// TestParquetReadsAsTheJSON: every test session and finding, written as
// Parquet (by a writer used before) and read back by another
// implementation (DuckDB's reader),
// holds what its JSON event holds — nested the same, nulls for what the
// JSON leaves out, "unmapped" as strings of JSON — in time order.
func TestParquetReadsAsTheJSON(t *testing.T) {
	enc := testEncoder()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sessions, findings := testSessions(), testFindings(t)
	var files parquetFiles
	other := func(k deliver.Kind) []*deliver.Record {
		if k == deliver.KindSession {
			f := findings["raised"]
			return []*deliver.Record{{Kind: deliver.KindFinding, Data: encode(t, enc, findingEvent(&f))}}
		}
		s := sessions["tls closed"]
		return []*deliver.Record{{Kind: deliver.KindSession, Data: encode(t, enc, sessionEvent(&s))}}
	}
	for _, tc := range []struct {
		class  string
		events []*deliver.Event
	}{
		{"network_activity", func() (evs []*deliver.Event) {
			for _, name := range sortedKeys(sessions) {
				s := sessions[name]
				evs = append(evs, sessionEvent(&s))
			}
			return evs
		}()},
		{"detection_finding", func() (evs []*deliver.Event) {
			for _, name := range sortedKeys(findings) {
				f := findings[name]
				evs = append(evs, findingEvent(&f))
			}
			return evs
		}()},
	} {
		t.Run(tc.class, func(t *testing.T) {
			var recs []*deliver.Record
			var want []map[string]any
			for _, ev := range tc.events {
				b := encode(t, enc, ev)
				recs = append(recs, &deliver.Record{Kind: ev.Kind, Data: b})
				want = append(want, normalise(t, b, true))
			}
			slices.SortStableFunc(want, func(a, b map[string]any) int { return cmpTime(a["time"], b["time"]) })
			// The second file of one writer, after one of the other class.
			var buf bytes.Buffer
			for _, r := range [][]*deliver.Record{recs, other(recs[0].Kind), recs} {
				buf.Reset()
				if err := files.write(&buf, r); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(t.TempDir(), tc.class+".parquet")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query("SELECT to_json(t)::VARCHAR FROM read_parquet(?) AS t", path)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []map[string]any
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				got = append(got, normalise(t, []byte(s), false))
			}
			if len(got) != len(tc.events) {
				t.Fatalf("%d rows read, want %d", len(got), len(tc.events))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parquet read back (-JSON event +Parquet row):\n%s", diff)
			}
		})
	}
}

// normalise decodes an event and drops what both forms may hold
// differently: nulls and empty lists (the JSON omits them), and the
// unmapped values, kept as their JSON (as writeParquet stores them).
func normalise(t *testing.T, b []byte, fromJSON bool) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if u, ok := m["unmapped"].(map[string]any); ok && fromJSON {
		s, err := unmappedStrings(u)
		if err != nil {
			t.Fatal(err)
		}
		m["unmapped"] = any(mapAny(s))
	}
	return dropEmpty(m).(map[string]any)
}

func mapAny(s map[string]string) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

func dropEmpty(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x = dropEmpty(x); x == nil {
				delete(v, k)
			} else {
				v[k] = x
			}
		}
		if len(v) == 0 {
			return nil
		}
	case []any:
		if len(v) == 0 {
			return nil
		}
		for i := range v {
			v[i] = dropEmpty(v[i])
		}
	}
	return v
}

func cmpTime(a, b any) int {
	x, y := a.(float64), b.(float64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
