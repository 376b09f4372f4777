package storebench

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/postgres"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func init() {
	backends = append(backends, backend{name: "postgres", open: func(b *testing.B) store.Store {
		srv := testutil.Postgres(b)
		st, err := postgres.Open(context.Background(), srv.DSN)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}, loaded: func(b *testing.B, st store.Store) {
		// Fresh statistics, as after any bulk load: in a run without
		// them (autovacuum had not caught up) a search by address took
		// 0.7 s at P95 instead of a few milliseconds.
		if _, err := st.(*postgres.Store).SQL.ExecContext(context.Background(), "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}})
}
