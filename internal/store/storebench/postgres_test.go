package storebench

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/postgres"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func init() {
	backends = append(backends, backend{"postgres", func(b *testing.B) store.Store {
		srv := testutil.Postgres(b)
		st, err := postgres.Open(context.Background(), srv.DSN)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}})
}
