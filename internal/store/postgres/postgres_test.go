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

// TestConcurrentWrites: two batches written at once (the store.Writer's
// two flushers) add to the same rollup rows — the same devices, minutes
// and hours — and must not deadlock on them.
func TestConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	srv := testutil.Postgres(t)
	s, err := Open(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, batches, size = 2, 4, 25000
	errs := make(chan error, writers)
	for w := range writers {
		gen := storetest.NewGenerator(uint64(w + 1)) // the same span of time
		go func() {
			for range batches {
				recs := gen.Records(size)
				for i := range recs {
					recs[i].UID = strconv.Itoa(w) + recs[i].UID // other uids
				}
				if _, err := s.WriteSessions(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*batches*size {
		t.Fatalf("%d sessions stored, want %d", n, writers*batches*size)
	}
}
