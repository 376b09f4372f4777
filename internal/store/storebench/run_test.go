package storebench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// backends are measured in this order; the peers register themselves in
// their own files.
var backends = []backend{{name: "duckdb", open: func(b *testing.B) store.Store {
	st, err := duckdb.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return st
}}}

const runs = 40

// minBusy is the least time the reads under ingest run.
const minBusy = 30 * time.Second

// only narrows the run to some backends (OSPREY_BENCH_ONLY=clickhouse,…),
// for investigating one; ratios and the concurrent run need duckdb.
func only() []backend {
	names := os.Getenv("OSPREY_BENCH_ONLY")
	if names == "" {
		return backends
	}
	var out []backend
	for _, be := range backends {
		if strings.Contains(","+names+",", ","+be.name+",") {
			out = append(out, be)
		}
	}
	return out
}

func BenchmarkDashboard(b *testing.B) {
	n := rows()
	backends := only()
	type result struct {
		ingest   float64
		p50, p95 []time.Duration
	}
	results := map[string]*result{}
	var duck store.Store
	var end time.Time
	for _, be := range backends {
		st := be.open(b)
		r := &result{}
		r.ingest, end = load(b, st, n)
		if be.loaded != nil {
			be.loaded(b, st)
		}
		for _, q := range dashboard(end) {
			p50, p95 := latency(b, st, q, runs)
			r.p50, r.p95 = append(r.p50, p50), append(r.p95, p95)
		}
		results[be.name] = r
		if be.name == "duckdb" {
			duck = st
			continue
		}
		st.Close()
	}
	if duck != nil {
		defer duck.Close()
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\n%d sessions\t", n)
	for _, be := range backends {
		fmt.Fprintf(w, "%s P50\t%s P95\t", be.name, be.name)
	}
	for _, be := range backends[1:] {
		fmt.Fprintf(w, "%s/duckdb P95\t", be.name)
	}
	fmt.Fprintln(w)
	for i, q := range dashboard(end) {
		fmt.Fprintf(w, "%s\t", q.name)
		for _, be := range backends {
			fmt.Fprintf(w, "%s\t%s\t", ms(results[be.name].p50[i]), ms(results[be.name].p95[i]))
		}
		for _, be := range backends[1:] {
			if d := results["duckdb"]; d != nil {
				fmt.Fprintf(w, "%.1f×\t", float64(results[be.name].p95[i])/float64(d.p95[i]))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "ingest rows/s (per core: ÷ 2 cores)\t")
	for _, be := range backends {
		fmt.Fprintf(w, "%.0f\t\t", results[be.name].ingest)
	}
	fmt.Fprintln(w)
	w.Flush()
	if duck != nil {
		b.ReportMetric(results["duckdb"].ingest, "duckdb-rows/s")
		// The reads are a live dashboard's over the last 24 h, ragged at
		// the minute. The writer goes on from the loaded records at their
		// density (a day of data holds as many rows whatever the rate) and
		// each round of reads ends its day at the newest record accepted,
		// so that what is being written is read, as in a deployment.
		qs := dashboard(end.Add(-30 * time.Minute))
		idle := make([]time.Duration, len(qs))
		for i, q := range qs {
			_, idle[i] = latency(b, duck, q, runs)
		}
		rate := 200000.0
		if r, err := strconv.ParseFloat(os.Getenv("OSPREY_BENCH_RATE"), 64); err == nil && r > 0 {
			rate = r
		}
		// As fast as the writer goes up to the rate, then at half what it
		// reached: the second is a rate the machine sustains with CPU to
		// spare, as a deployment would be sized.
		gen := storetest.NewGenerator(99) // one stream: the second run's records follow the first's
		gen.Every, gen.UIDs = spacing(n), "L"
		gen.From(end)
		reached := readUnderIngest(b, duck, gen, idle, rate)
		readUnderIngest(b, duck, gen, idle, reached/2)
	}
}

// readUnderIngest compares DuckDB's read P95 idle with the same while a
// writer ingests as fast as it can up to rate rows/s, and returns the
// rate it stored while the reads ran.
func readUnderIngest(b *testing.B, st store.Store, gen *storetest.Generator, idle []time.Duration, rate float64) float64 {
	ctx, cancel := context.WithCancel(context.Background())
	// Through a store.Writer, as the pipeline writes: batches of the
	// store's own size. Its queue may hold seconds of records when the
	// reads stop: Close waits for them.
	w := store.NewWriter(st, store.WriterConfig{Grace: 10 * time.Minute})
	var written atomic.Int64 // accepted by the writer, for the pace
	var newest atomic.Int64  // the last accepted record's end, µs
	done := make(chan struct{})
	go func() {
		defer close(done)
		sessions := make([]schema.Session, 0, 20000)
		start := time.Now()
		for ctx.Err() == nil {
			sessions = sessions[:0]
			for _, r := range gen.Records(20000) {
				sessions = append(sessions, r.Session)
			}
			if err := w.WriteSessions(ctx, sessions); err != nil && ctx.Err() == nil {
				b.Error(err)
				return
			}
			newest.Store(sessions[len(sessions)-1].End.UnixMicro())
			n := written.Add(int64(len(sessions)))
			if ahead := time.Duration(float64(n)/rate*float64(time.Second)) - time.Since(start); ahead > 0 {
				time.Sleep(ahead) // hold the rate
			}
		}
	}()
	// The reads start once the writer has stored its first batch (a
	// whole row group, seconds of records) and last at least minBusy, so
	// that the rate stored while they ran is the writer's steady one.
	for w.Written() == 0 {
		select {
		case <-done:
			b.Fatal("the writer stopped before storing a batch")
		case <-time.After(10 * time.Millisecond):
		}
	}
	stored0, start := w.Written(), time.Now()
	samples := make([][]time.Duration, len(idle))
	for len(samples[0]) == 0 || time.Since(start) < minBusy {
		for i, q := range dashboard(time.UnixMicro(newest.Load())) {
			samples[i] = append(samples[i], durations(b, st, q, runs)...)
		}
	}
	busy := make([]time.Duration, len(idle))
	for i := range idle {
		_, busy[i] = percentiles(samples[i])
	}
	stored := float64(w.Written()-stored0) / time.Since(start).Seconds()
	cancel()
	<-done
	if err := w.Close(); err != nil {
		b.Error(err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\nduckdb read P95 while ingesting %.0f rows/s (up to %.0f)\tidle\tingesting\tratio\t\n", stored, rate)
	for i, q := range dashboard(time.Time{}) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\t\n", q.name, ms(idle[i]), ms(busy[i]), float64(busy[i])/float64(idle[i]))
	}
	tw.Flush()
	return stored
}
