package clickhouse

import (
	"context"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func TestConformance(t *testing.T) {
	srv := testutil.ClickHouse(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), Options{Addr: []string{srv.Addr}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestDistributed runs the conformance suite on two servers as two shards
// of a cluster behind Distributed tables, and checks that both shards
// hold part of the sessions.
func TestDistributed(t *testing.T) {
	shards := testutil.ClickHouseCluster(t, 2)
	o := Options{Addr: []string{shards[0].Addr, shards[1].Addr}, Cluster: "osprey_cluster"}
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	var total uint64
	for i, sh := range shards {
		s, err := Open(context.Background(), Options{Addr: []string{sh.Addr}, Cluster: o.Cluster})
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		if err := s.SQL.QueryRow("SELECT count() FROM sessions_local").Scan(&n); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if n == 0 {
			t.Errorf("shard %d holds no sessions", i)
		}
		total += n
	}
	t.Logf("sessions per shard sum to %d", total)
	o.Database = "osprey_upgrade"
	testUpgrade(t, o)
}

func TestUpgradeFromVersion1(t *testing.T) {
	testUpgrade(t, Options{Addr: []string{testutil.ClickHouse(t).Addr}})
}

// testUpgrade writes a session into a store of schema version 1 and
// reads it back after the later migrations.
func testUpgrade(t *testing.T, o Options) {
	ctx := context.Background()
	all := migrations
	migrations = migrations[:2]
	s, err := Open(ctx, o)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	rec := storetest.UpgradeRecord()
	row, err := sqlstore.AppendRow(nil, &rec)
	if err != nil {
		t.Fatal(err)
	}
	row[4] = boolU8(rec.Final)
	cols := sqlstore.SessionColumns[:storetest.V1Columns]
	b, err := s.native.PrepareBatch(ctx, "INSERT INTO sessions ("+strings.Join(cols, ", ")+")")
	if err == nil {
		if err = b.Append(row[:len(cols)]...); err == nil {
			err = b.Send()
		}
	}
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckUpgraded(t, s)
}
