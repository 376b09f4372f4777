package duckdb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

func TestTimeSpans(t *testing.T) {
	for _, tc := range []struct {
		name string
		ends []int64    // minutes
		want [][2]int64 // minutes
	}{
		{"in order", []int64{4, 1, 2, 3}, [][2]int64{{1, 4}}},
		{"one late", []int64{100, 3, 101}, [][2]int64{{3, 3}, {100, 101}}},
		{"at most maxSpans, the closest joined", []int64{0, 100, 200, 300, 400, 500, 600, 700, 703, 705},
			[][2]int64{{0, 0}, {100, 100}, {200, 200}, {300, 300}, {400, 400}, {500, 500}, {600, 600}, {700, 705}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recs []*store.Record
			for _, m := range tc.ends {
				r := &store.Record{}
				r.End = time.UnixMicro(m * minuteUs)
				recs = append(recs, r)
			}
			var got [][2]int64
			for _, sp := range timeSpans(recs) {
				got = append(got, [2]int64{sp[0] / minuteUs, sp[1] / minuteUs})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("spans (-want +got):\n%s", d)
			}
		})
	}
}

// TestStringColumns stores a string column as an ENUM in one batch (few
// values) and as VARCHAR in the next (more than enumMax), and a coded
// column's new strings in the dictionary.
func TestStringColumns(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen := storetest.NewGenerator(3)
	for _, distinct := range []int{3, 2 * enumMax} {
		batch := gen.Records(4 * enumMax)
		for i := range batch {
			batch[i].Tenant = fmt.Sprintf("t%d", i%distinct)
			batch[i].Sensor = fmt.Sprintf("s%d", i%distinct)
		}
		if n, err := st.WriteSessions(ctx, batch); err != nil || n != len(batch) {
			t.Fatalf("%d distinct: %d of %d written: %v", distinct, n, len(batch), err)
		}
	}
	for _, q := range []string{
		"SELECT count(DISTINCT tenant) FROM sessions WHERE tenant LIKE 't%'",
		"SELECT count(DISTINCT s.value) FROM sessions JOIN strings AS s ON s.code = sensor WHERE s.value LIKE 's%'",
	} {
		var n int
		if err := st.SQL.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 2*enumMax {
			t.Errorf("%s: %d, %v; want %d", q, n, err, 2*enumMax)
		}
	}
}

// TestDictionary: the codes handed out for a batch whose transaction
// fails are stored with the next batch, and a reopened store reads the
// same strings back.
func TestDictionary(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	gen := storetest.NewGenerator(5)
	failed := gen.Records(10)
	for i := range failed {
		failed[i].App = "lost-app"
	}
	st.SQL.ExecContext(ctx, "ALTER TABLE rollup_app RENAME TO rollup_app_gone")
	if _, err := st.WriteSessions(ctx, failed); err == nil {
		t.Fatal("write without rollup_app succeeded")
	}
	if _, err := st.SQL.ExecContext(ctx, "ALTER TABLE rollup_app_gone RENAME TO rollup_app"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteSessions(ctx, gen.Records(10)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.WriteSessions(ctx, failed); err != nil || n != len(failed) {
		t.Fatalf("%d of %d written again: %v", n, len(failed), err)
	}
	want := append([]string(nil), st.strings.strs...)
	st.Close()
	if st, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if d := cmp.Diff(want, st.strings.strs); d != "" {
		t.Errorf("strings after reopening (-before +after):\n%s", d)
	}
	e, err := filter.Parse(`app = "lost-app"`)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Search(ctx, store.SearchQuery{Scope: store.Scope{Tenant: failed[0].Tenant}, Filter: e, Limit: 100})
	if err != nil || len(page.Sessions) != len(failed) {
		t.Fatalf("%d sessions of lost-app, %v; want %d", len(page.Sessions), err, len(failed))
	}
}

// TestSessionColumns: each column is either a string (text) or set by a
// typed setter, never both, and is named after sqlstore's column, an
// address as its two UBIGINT halves.
func TestSessionColumns(t *testing.T) {
	var names []string
	for i, c := range sessionColumns {
		if (c.text == nil) == (c.set == nil) || (c.set != nil) != (c.typ != 0) {
			t.Errorf("column %d %s: text %v, set %v, type %d", i, c.name, c.text != nil, c.set != nil, c.typ)
		}
		name, half := strings.CutSuffix(c.name, "_hi")
		if !half {
			name, half = strings.CutSuffix(c.name, "_lo")
		}
		if half != sqlstore.AddrColumns[name] || half && c.typ != duckdb.TYPE_UBIGINT {
			t.Errorf("column %d %s: an address half %v, type %d", i, c.name, half, c.typ)
		}
		if !strings.HasSuffix(c.name, "_lo") {
			names = append(names, name)
		}
	}
	if !slices.Equal(names, sqlstore.SessionColumns) {
		t.Errorf("columns %v, want %v", names, sqlstore.SessionColumns)
	}
}

// TestCanceledWrite: a write canceled half-way stores nothing and leaves
// the store's write connections usable.
func TestCanceledWrite(t *testing.T) {
	st, err := Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen := storetest.NewGenerator(5)
	for i := range 2 * stagers { // every write connection at least once
		ctx, cancel := context.WithCancel(context.Background())
		recs := gen.Records(200_000)
		time.AfterFunc(time.Duration(i+1)*200*time.Millisecond, cancel)
		if _, err := st.WriteSessions(ctx, recs); err == nil {
			t.Log("the write ended before its cancel")
		}
		cancel()
	}
	var before int
	if err := st.SQL.QueryRow("SELECT count(*) FROM sessions").Scan(&before); err != nil {
		t.Fatal(err)
	}
	for range 2 * stagers {
		recs := gen.Records(1000)
		if n, err := st.WriteSessions(context.Background(), recs); err != nil || n != len(recs) {
			t.Fatalf("after canceled writes: %d of %d stored: %v", n, len(recs), err)
		}
	}
	var after int
	if err := st.SQL.QueryRow("SELECT count(*) FROM sessions").Scan(&after); err != nil || after != before+2*stagers*1000 {
		t.Fatalf("%d sessions, want %d (%v)", after, before+2*stagers*1000, err)
	}
}

// TestUniqueRecords drops repeated ids, first kept, also when every id
// hashes alike.
func TestUniqueRecords(t *testing.T) {
	rec := func(tenant, uid string, seq uint32, bytes uint64) store.Record {
		var r store.Record
		r.Tenant, r.UID, r.Seq, r.OrigBytes = tenant, uid, seq, bytes
		return r
	}
	batch := []store.Record{rec("a", "u1", 0, 1), rec("a", "u1", 1, 2), rec("b", "u1", 0, 3), rec("a", "u1", 0, 4),
		rec("a", "u2", 0, 5), rec("b", "u1", 0, 6), rec("a", "u1", 1, 7), rec("a", "u2", 0, 8)}
	want := []uint64{1, 2, 3, 5}
	for _, collide := range []bool{false, true} {
		if collide {
			defer func(h func(recordID) uint64) { idHash = h }(idHash)
			idHash = func(recordID) uint64 { return 7 }
		}
		var got []uint64
		for _, r := range uniqueRecords(batch) {
			got = append(got, r.OrigBytes)
		}
		if !slices.Equal(got, want) {
			t.Errorf("colliding hashes %v: kept %v, want %v", collide, got, want)
		}
	}
}
