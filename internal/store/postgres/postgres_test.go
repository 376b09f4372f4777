package postgres

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func TestConformance(t *testing.T) {
	srv := testutil.Postgres(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), srv.DSN)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
