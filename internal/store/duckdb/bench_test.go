package duckdb

import (
	"context"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// BenchmarkIngest is rows per second into DuckDB, batches of a row group
// (OSPREY_INGEST_BATCH), with rollups, the idempotency lookup and a
// final checkpoint included: without it the compression of what was
// written would be left out. rows/cpu-s divides by the process's CPU
// time (user and system), the figure per core.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	st := benchStore(b, 0)
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
// Go side can beat. OSPREY_INGEST_SET is a SET statement run first (to
// measure a DuckDB setting: disabled_compression_methods, threads).
func BenchmarkIngestFloor(b *testing.B) {
	ctx := context.Background()
	st := benchStore(b, ingestBatch)
	c, err := st.SQL.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if set := os.Getenv("OSPREY_INGEST_SET"); set != "" {
		if _, err := c.ExecContext(ctx, set); err != nil {
			b.Fatal(err)
		}
	}
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

// benchStore is a store on disk holding n generated records, closed
// when the benchmark ends.
func benchStore(b *testing.B, n int) *Store {
	st, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if n > 0 {
		if _, err := st.WriteSessions(context.Background(), storetest.NewGenerator(1).Records(n)); err != nil {
			b.Fatal(err)
		}
	}
	return st
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

// BenchmarkLiveMinute is a live dashboard's reads over the last day
// while records arrive at 40 000 a second: the minute under way holds
// 1.8 M of them (45 s), the hour before 300 000. Rolled up to the newest
// record, the reads take no more than with the minute empty; until
// 2026-12-05 the rollups stopped at the newest record's minute and each
// read summed that minute's sessions (an application breakdown 58 ms
// instead of 1.8). "apps, ragged" is the same day to the microsecond, as
// `osprey query --since 24h` asks it: whole minutes from the rollups, the
// seconds at its ends from sessions.
func BenchmarkLiveMinute(b *testing.B) {
	ctx := context.Background()
	st := benchStore(b, 0)
	gen := storetest.NewGenerator(3)
	write := func(n int) time.Time {
		for n > 0 {
			batch := gen.Records(min(n, RowGroup))
			if _, err := st.WriteSessions(ctx, batch); err != nil {
				b.Fatal(err)
			}
			n -= len(batch)
		}
		return gen.Records(1)[0].End
	}
	gen.Every = 12 * time.Millisecond // the hour before
	write(300_000)
	gen.Every = 25 * time.Microsecond // 40 000 a second
	gen.From(gen.Records(1)[0].End.Truncate(time.Minute).Add(time.Minute))
	end := write(1_800_000)
	day := store.Scope{Tenant: "default", Range: store.Range{Since: end.Truncate(time.Minute).Add(-23 * time.Hour), Until: end.Truncate(time.Minute).Add(time.Minute)}}
	ragged := store.Scope{Tenant: "default", Range: store.Range{Since: end.Add(-24 * time.Hour), Until: end}} // --since 24h
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"apps", func() error {
			_, err := st.Top(ctx, store.TopQuery{Scope: day, Dimension: "app", By: store.Bytes, Limit: 20})
			return err
		}},
		{"devices", func() error {
			_, err := st.Top(ctx, store.TopQuery{Scope: day, Dimension: "device", By: store.Bytes, Limit: 10})
			return err
		}},
		{"matrix", func() error {
			_, err := st.Matrix(ctx, store.MatrixQuery{Scope: day, By: "segment", Measure: store.Bytes})
			return err
		}},
		{"apps, ragged", func() error {
			_, err := st.Top(ctx, store.TopQuery{Scope: ragged, Dimension: "app", By: store.Bytes, Limit: 20})
			return err
		}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueryFloor is what DuckDB takes to answer a question that
// reads nothing: a range where zone maps skip every row group. Nothing
// a query does costs less, so it bounds how fast any dashboard query can
// be (docs/benchmarks.md: the P95 target against PostgreSQL).
func BenchmarkQueryFloor(b *testing.B) {
	ctx := context.Background()
	st := benchStore(b, RowGroup)
	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	empty := store.Scope{Tenant: "default", Range: store.Range{Since: far, Until: far.Add(time.Minute)}}
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"SELECT 1", func() error { var one int; return st.SQL.QueryRowContext(ctx, "SELECT 1").Scan(&one) }},
		{"count of sessions in an empty minute", func() error {
			var n int
			return st.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE tenant = ? AND end_us >= ? AND end_us < ?",
				"default", far.UnixMicro(), far.Add(time.Minute).UnixMicro()).Scan(&n)
		}},
		{"search of an empty minute", func() error {
			_, err := st.Search(ctx, store.SearchQuery{Scope: empty, Limit: 100})
			return err
		}},
		{"application breakdown of an empty minute", func() error {
			_, err := st.Top(ctx, store.TopQuery{Scope: empty, Dimension: "app", By: store.Bytes, Limit: 20})
			return err
		}},
	} {
		b.Run(q.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds()), "p95-µs")
		})
	}
}
