package clickhouse

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
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
}
