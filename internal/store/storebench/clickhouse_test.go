package storebench

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/clickhouse"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func init() {
	backends = append(backends, backend{name: "clickhouse", open: func(b *testing.B) store.Store {
		srv := testutil.ClickHouse(b)
		st, err := clickhouse.Open(context.Background(), clickhouse.Options{Addr: []string{srv.Addr}})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}})
}
