package main

import (
	"context"
	"runtime"
	"testing"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
)

// A command that ingests leaves the Go side a core; one that only reads
// gives DuckDB all of them; store.duckdb.threads overrides both.
func TestStoreThreads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.DefaultConfig()
	for _, tc := range []struct {
		create  bool
		threads int
		want    int
	}{{true, 0, duckdb.DefaultThreads()}, {false, 0, runtime.GOMAXPROCS(0)}, {false, 3, 3}} {
		cfg.Store.DuckDB.Threads = tc.threads
		st, err := openStore(ctx, cfg, dir, tc.create)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = st.(*duckdb.Store).SQL.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&n)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("create %v, store.duckdb.threads %d: DuckDB has %d threads, want %d", tc.create, tc.threads, n, tc.want)
		}
	}
}
