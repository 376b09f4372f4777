package duckdb

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != len(migrations)-1 {
		t.Fatalf("schema version %d, want %d", v, len(migrations)-1)
	}
	s.Close()
	if s, err = Open(ctx, dir); err != nil { // reopening applies nothing twice
		t.Fatal(err)
	}
	if _, err := s.SQL.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (999)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err = Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("a store from a newer osprey opened: %v", err)
	}
}

var fuzzStore = sync.OnceValues(func() (*Store, error) {
	ctx := context.Background()
	s, err := Open(ctx, "") // in memory: fuzz workers leave nothing behind
	if err != nil {
		return nil, err
	}
	_, err = s.WriteSessions(ctx, storetest.Records(ctx, storetest.Sessions(150)))
	return s, err
})

// FuzzFilterSQL checks that every filter that parses selects in DuckDB
// exactly the sessions filter.Compile selects in memory.
func FuzzFilterSQL(f *testing.F) {
	for _, src := range storetest.Filters {
		f.Add(src)
	}
	sessions := storetest.Sessions(150)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := filter.Parse(src)
		if err != nil {
			return
		}
		st, err := fuzzStore()
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.Search(context.Background(), store.SearchQuery{Filter: e, Limit: 10000})
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		var got, want []string
		for _, s := range page.Sessions {
			got = append(got, s.UID+"/"+string(rune('0'+s.Seq)))
		}
		pred := filter.Compile(e)
		for i := range sessions {
			if s := &sessions[i]; s.Tenant == "" && pred(s) {
				want = append(want, s.UID+"/"+string(rune('0'+s.Seq)))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%q (%s): DuckDB selects %d sessions, filter.Compile %d", src, filter.String(e), len(got), len(want))
		}
	})
}

// TestUpgradeFromVersion1 writes a session into a store of schema
// version 1 and reads it back after the later migrations.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := migrations
	migrations = migrations[:2]
	s, err := Open(ctx, dir)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	row, err := sqlstore.AppendRow(nil, ptr(storetest.UpgradeRecord()))
	if err != nil {
		t.Fatal(err)
	}
	cols := sqlstore.SessionColumns[:storetest.V1Columns]
	_, err = s.SQL.ExecContext(ctx, "INSERT INTO sessions ("+strings.Join(cols, ", ")+") VALUES (?"+strings.Repeat(", ?", len(cols)-1)+")",
		row[:len(cols)]...)
	if err == nil { // copies in another tenant: migrations meet more than one row group
		_, err = s.SQL.ExecContext(ctx, "INSERT INTO sessions SELECT s.* REPLACE ('bulk' AS tenant, uid || i AS uid) FROM sessions s, range(130000) r(i)")
	}
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckUpgraded(t, s)
}

func ptr[T any](v T) *T { return &v }

func TestThreads(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		dir  string
		opt  Options
		want int
	}{{"", Options{Threads: 3}, 3}, {t.TempDir(), Options{}, DefaultThreads()}} {
		st, err := OpenWith(ctx, tc.dir, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.SQL.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if n != tc.want {
			t.Errorf("dir %q %+v: threads %d, want %d", tc.dir, tc.opt, n, tc.want)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	ctx := context.Background()
	limit := func(opt Options) string {
		st, err := OpenWith(ctx, t.TempDir(), opt)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var v string
		if err := st.SQL.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := limit(Options{MemoryLimit: "1GiB"}); got != "1.0 GiB" {
		t.Errorf("memory_limit %q with 1GiB, want 1.0 GiB", got)
	}
	if got := limit(Options{}); got == "1.0 GiB" {
		t.Errorf("memory_limit %q by default, want DuckDB's own", got)
	}
}
