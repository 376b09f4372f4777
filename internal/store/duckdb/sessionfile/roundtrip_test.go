// The tests compare with the DuckDB store, which will import this
// package: they are outside it, so that no import cycle arises.
package sessionfile_test

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/duckdb/sessionfile"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// testRecords are records of every shape the store keeps: the
// conformance data (IPv4 and IPv6, interim records, mirrors, VLANs,
// tags, geo, intel, L7 and flow metadata), the benchmark stream, and a
// few edge cases the generators do not make: lists of several elements,
// tunnel parents, records ending at the same microsecond, counters past
// 2^63 and times before 1970. They come shuffled, so that Write has to
// sort them.
func testRecords(t testing.TB) []store.Record {
	recs := storetest.Records(context.Background(), storetest.Sessions(2000))
	recs = append(recs, storetest.NewGenerator(7).Records(6000)...)
	for i := range recs {
		r := &recs[i]
		switch i % 11 {
		case 0:
			r.VLANs = []uint16{10, 4094}
			r.TunnelParents = []string{"CParent1", "C" + r.UID}
		case 1:
			r.TunnelParents = []string{"CParent2"}
			r.Orig.Tags = []string{"a", "b", "c"}
		case 2:
			r.End = recs[i-1].End
		}
	}
	edge := recs[0]
	edge.UID, edge.OrigBytes, edge.Delta.OrigBytes, edge.MissedBytes = "Cedge", math.MaxUint64, math.MaxUint64-1, 1<<63
	edge.Start, edge.End = time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)
	recs = append(recs, edge)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

func pointers(recs []store.Record) []*store.Record {
	out := make([]*store.Record, len(recs))
	for i := range recs {
		out[i] = &recs[i]
	}
	return out
}

// openStore is a DuckDB store in a temporary directory.
func openStore(t testing.TB) *duckdb.Store {
	st, err := duckdb.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func strs(t testing.TB, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readParquet(paths ...string) string {
	return "read_parquet(['" + strings.Join(paths, "', '") + "'])"
}

// TestRoundTrip writes the same records through the DuckDB store and
// through Writer: DuckDB must read the file back as the very rows and
// column types of its sessions table.
func TestRoundTrip(t *testing.T) {
	recs := testRecords(t)
	st := openStore(t)
	if n, err := st.WriteSessions(context.Background(), recs); err != nil || n != len(recs) {
		t.Fatalf("%d of %d stored: %v", n, len(recs), err)
	}
	for _, tc := range []struct {
		name      string
		groupRows int
		groups    int
	}{
		{"one row group", 0, 1},
		{"row groups of 3000", 3000, (len(recs) + 2999) / 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.parquet")
			w := sessionfile.Writer{RowGroupRows: tc.groupRows}
			ptrs := pointers(recs)
			info, err := w.Write(path, ptrs)
			if err != nil {
				t.Fatal(err)
			}
			file := readParquet(path)
			db := st.SQL
			// The table's own order differs: migration 2 added intel last.
			table := "(SELECT " + sqlstore.ColumnList + " FROM sessions)"
			if n := count(t, db, "SELECT count(*) FROM (SELECT * FROM "+file+" EXCEPT ALL SELECT * FROM "+table+")"); n != 0 {
				t.Errorf("%d rows of the file are not in sessions", n)
			}
			if n := count(t, db, "SELECT count(*) FROM (SELECT * FROM "+table+" EXCEPT ALL SELECT * FROM "+file+")"); n != 0 {
				t.Errorf("%d rows of sessions are not in the file", n)
			}
			if n := count(t, db, "SELECT count(*) FROM "+file); n != len(recs) {
				t.Errorf("%d rows in the file, want %d", n, len(recs))
			}
			typesOf := func(from string) []string {
				return strs(t, db, "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM "+from+")")
			}
			if d := gocmp.Diff(typesOf(table), typesOf(file)); d != "" {
				t.Errorf("column types (-sessions +file):\n%s", d)
			}
			if n := count(t, db, "SELECT count(DISTINCT row_group_id) FROM parquet_metadata('"+path+"')"); n != tc.groups {
				t.Errorf("%d row groups, want %d", n, tc.groups)
			}
			// Every chunk has its least and greatest value, but for a list
			// column whose lists are all empty there.
			if cols := strs(t, db, "SELECT DISTINCT path_in_schema FROM parquet_metadata('"+path+"') "+
				"WHERE (stats_min_value IS NULL OR stats_max_value IS NULL) AND stats_null_count < num_values"); len(cols) > 0 {
				t.Errorf("columns without statistics: %v", cols)
			}
			statsFilter(t, db, path)

			// Rows are in end_us order, ties in the order given.
			want := slices.Clone(ptrs)
			slices.SortStableFunc(want, func(a, b *store.Record) int {
				return cmp.Compare(sqlstore.Micros(a.End), sqlstore.Micros(b.End))
			})
			var wantIDs []string
			for _, r := range want {
				wantIDs = append(wantIDs, fmt.Sprintf("%s/%s/%d", r.Tenant, r.UID, r.Seq))
			}
			gotIDs := strs(t, db, "SELECT concat_ws('/', tenant, uid, seq) FROM read_parquet('"+path+"', file_row_number = true) ORDER BY file_row_number")
			if !slices.Equal(wantIDs, gotIDs) {
				t.Error("rows are not in the stable order of end_us")
			}
			wantInfo := sessionfile.Info{Rows: len(recs), MinEndUs: sqlstore.Micros(want[0].End),
				MaxEndUs: sqlstore.Micros(want[len(want)-1].End), Bytes: info.Bytes}
			if info != wantInfo || info.Bytes < 1000 {
				t.Errorf("info %+v, want %+v", info, wantInfo)
			}
		})
	}
}

// statsFilter finds the least and the greatest value of each column
// that is not a list with a query DuckDB filters by the file's
// statistics: had a row group's statistics not covered them (for
// instance an unsigned column compared signed), it would skip the row.
func statsFilter(t *testing.T, db *sql.DB, path string) {
	t.Helper()
	for _, c := range sessionfile.Columns {
		if c.Type == sessionfile.VarcharList || c.Type == sessionfile.USmallintList {
			continue
		}
		for _, agg := range []string{"min", "max"} {
			var typ, v string
			if err := db.QueryRow("SELECT any_value(typeof("+c.Name+")), "+agg+"("+c.Name+")::VARCHAR FROM read_parquet(?)", path).
				Scan(&typ, &v); err != nil {
				t.Fatal(err)
			}
			literal := "'" + strings.ReplaceAll(v, "'", "''") + "'::" + typ
			if n := count(t, db, "SELECT count(*) FROM read_parquet(?) WHERE "+c.Name+" = "+literal, path); n == 0 {
				t.Errorf("%s = %s (its %s) found no row", c.Name, literal, agg)
			}
		}
	}
}
