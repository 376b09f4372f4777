package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
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

// TestUpgradeFromVersion1 writes a session into a store of schema
// version 1 and reads it back after the later migrations.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	srv := testutil.Postgres(t)
	all := migrations
	migrations = migrations[:2]
	s, err := Open(ctx, srv.DSN)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	rec := storetest.UpgradeRecord()
	row, err := sqlstore.AppendRow(nil, &rec)
	if err != nil {
		t.Fatal(err)
	}
	cols := sqlstore.SessionColumns[:storetest.V1Columns]
	marks := make([]string, len(cols))
	for i := range marks {
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	_, err = s.SQL.ExecContext(ctx, "INSERT INTO sessions ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", row[:len(cols)]...)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, srv.DSN); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckUpgraded(t, s)
}
