// Package storebench measures the stores side by side in one run (make
// bench): ingest rows/s, the P50/P95 of five dashboard queries at 10 M
// sessions on DuckDB, ClickHouse and PostgreSQL, and DuckDB's read P95
// while ingesting. OSPREY_BENCH_ROWS changes the size (default 10 M).
package storebench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// backend is a store under test; open returns it empty, and loaded (when
// set) is what its administrator would run after a bulk load.
type backend struct {
	name   string
	open   func(b *testing.B) store.Store
	loaded func(b *testing.B, st store.Store)
}

// query is one dashboard question.
type query struct {
	name string
	run  func(ctx context.Context, st store.Store) error
}

func rows() int {
	if n, err := strconv.Atoi(os.Getenv("OSPREY_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

const batch = 50000

// dashboard is the five queries of the issue, over the last 24 h of the
// generated data. The device and address are among the busiest.
func dashboard(end time.Time) []query {
	day := store.Scope{Tenant: "default", Range: store.Range{Since: end.Add(-24 * time.Hour).Truncate(time.Minute), Until: end.Truncate(time.Minute)}}
	byIP, _ := filter.Parse(`src.ip = 10.1.0.7 or dst.ip = 10.1.0.7`)
	ip, _ := filter.Parse(`src.ip = 10.3.0.9`)
	return []query{
		{"top talkers 24h", func(ctx context.Context, st store.Store) error {
			_, err := st.Top(ctx, store.TopQuery{Scope: day, Dimension: "device", By: store.Bytes, Limit: 10})
			return err
		}},
		{"device series 24h", func(ctx context.Context, st store.Store) error {
			_, err := st.Series(ctx, store.SeriesQuery{Scope: day, Filter: byIP, Dimension: "app", By: store.Bytes, Step: 5 * time.Minute})
			return err
		}},
		{"segment matrix 24h", func(ctx context.Context, st store.Store) error {
			_, err := st.Matrix(ctx, store.MatrixQuery{Scope: day, By: "segment", Measure: store.Bytes})
			return err
		}},
		{"search by IP", func(ctx context.Context, st store.Store) error {
			_, err := st.Search(ctx, store.SearchQuery{Scope: day, Filter: ip, Limit: 100})
			return err
		}},
		{"app breakdown 24h", func(ctx context.Context, st store.Store) error {
			_, err := st.Top(ctx, store.TopQuery{Scope: day, Dimension: "app", By: store.Bytes, Limit: 20})
			return err
		}},
	}
}

// load writes n generated records through a store.Writer, as the
// pipeline does, and returns rows/s over the whole load (generating the
// records, about 1.5 µs each, included).
func load(b *testing.B, st store.Store, n int) (float64, time.Time) {
	gen := storetest.NewGenerator(7)
	gen.Every = spacing(n)
	return write(b, st, gen, n)
}

// spacing is the time between n loaded records: they span two days.
func spacing(n int) time.Duration { return 24 * time.Hour / time.Duration(n) * 2 }

// write stores n records of gen through a store.Writer and returns rows/s
// and the last record's end.
func write(b testing.TB, st store.Store, gen *storetest.Generator, n int) (float64, time.Time) {
	ctx := context.Background()
	// A long grace: on a busy machine the run is slow rather than failing.
	w := store.NewWriter(st, store.WriterConfig{Grace: 10 * time.Minute}) // the store's own batch size
	start := time.Now()
	var end time.Time
	sessions := make([]schema.Session, 0, batch)
	for done := 0; done < n; done += batch {
		recs := gen.Records(min(batch, n-done))
		sessions = sessions[:0]
		for i := range recs {
			sessions = append(sessions, recs[i].Session)
		}
		if err := w.WriteSessions(ctx, sessions); err != nil {
			b.Fatal(err)
		}
		end = recs[len(recs)-1].End
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if w.Written() != uint64(n) {
		b.Fatalf("%d of %d records stored", w.Written(), n)
	}
	return float64(n) / time.Since(start).Seconds(), end
}

// latency runs q repeatedly and returns its P50 and P95.
func latency(b *testing.B, st store.Store, q query, runs int) (p50, p95 time.Duration) {
	return percentiles(durations(b, st, q, runs))
}

// durations runs q runs times, after two warm-up runs, and returns how
// long each took.
func durations(b *testing.B, st store.Store, q query, runs int) []time.Duration {
	ctx := context.Background()
	var ds []time.Duration
	for i := range runs + 2 {
		start := time.Now()
		if err := q.run(ctx, st); err != nil {
			b.Fatalf("%s: %v", q.name, err)
		}
		if i >= 2 {
			ds = append(ds, time.Since(start))
		}
	}
	return ds
}

func percentiles(ds []time.Duration) (p50, p95 time.Duration) {
	ds = slices.Sorted(slices.Values(ds))
	return ds[len(ds)/2], ds[(len(ds)*95+99)/100-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
