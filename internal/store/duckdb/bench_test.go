package duckdb

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// BenchmarkIngest is rows per second into DuckDB, batches of a row group
// (OSPREY_INGEST_BATCH), with rollups, the idempotency lookup and a
// final checkpoint included: without it the compression of what was
// written would be left out. rows/cpu-s divides by the process's CPU
// time (user and system), the figure per core.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	gen := storetest.NewGenerator(1)
	rows := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		batch := gen.Records(ingestBatch)
		b.StartTimer()
		start := cpuTime(b)
		n, err := st.WriteSessions(ctx, batch)
		if err != nil || n != len(batch) {
			b.Fatalf("%d of %d written: %v", n, len(batch), err)
		}
		rows += n
		cpu += cpuTime(b) - start
	}
	start, wall := cpuTime(b), time.Now()
	if _, err := st.SQL.ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	cpu += cpuTime(b) - start
	b.ReportMetric(float64(rows)/(b.Elapsed()+time.Since(wall)).Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
}

// BenchmarkIngestFloor is DuckDB's own share of BenchmarkIngest: the
// same batch copied from a table already in DuckDB into sessions, one
// transaction a batch, with the final checkpoint — what no change on the
// Go side can beat.
func BenchmarkIngestFloor(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.WriteSessions(ctx, storetest.NewGenerator(1).Records(ingestBatch)); err != nil {
		b.Fatal(err)
	}
	c, err := st.SQL.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "CREATE TEMP TABLE batch AS SELECT * FROM sessions"); err != nil {
		b.Fatal(err)
	}
	rows := 0
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime(b)
		if _, err := c.ExecContext(ctx, "BEGIN; INSERT INTO sessions SELECT * FROM batch; COMMIT"); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - start
		rows += ingestBatch
	}
	start, wall := cpuTime(b), time.Now()
	if _, err := c.ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	cpu += cpuTime(b) - start
	b.ReportMetric(float64(rows)/(b.Elapsed()+time.Since(wall)).Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var ingestBatch = func() int {
	if n, err := strconv.Atoi(os.Getenv("OSPREY_INGEST_BATCH")); err == nil && n > 0 {
		return n
	}
	return RowGroup
}()
