package duckdb

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// BenchmarkIngest is rows per second into DuckDB, batches of 50 000,
// with rollups and the idempotency lookup included.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	gen := storetest.NewGenerator(1)
	rows := 0
	for b.Loop() {
		b.StopTimer()
		batch := gen.Records(ingestBatch)
		b.StartTimer()
		n, err := st.WriteSessions(ctx, batch)
		if err != nil || n != len(batch) {
			b.Fatalf("%d of %d written: %v", n, len(batch), err)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

var ingestBatch = func() int {
	if n, err := strconv.Atoi(os.Getenv("OSPREY_INGEST_BATCH")); err == nil && n > 0 {
		return n
	}
	return 50000
}()
