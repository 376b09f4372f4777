package sessionfile_test

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb/sessionfile"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// benchBatch is the batch the DuckDB store's BenchmarkIngest writes.
const benchBatch = 50000

// benchBatches are a few batches of the benchmark stream, made once:
// generating them costs more than writing them.
func benchBatches(n int) [][]*store.Record {
	gen := storetest.NewGenerator(1)
	out := make([][]*store.Record, n)
	for i := range out {
		out[i] = pointers(gen.Records(benchBatch))
	}
	return out
}

// BenchmarkWrite is rows per CPU-second (user and system time of the
// process: the figure per core, whatever else runs on the machine) into
// files of one batch each, fsync and rename included; and the bytes a
// row takes on disk.
func BenchmarkWrite(b *testing.B) {
	batches := benchBatches(4)
	dir := b.TempDir()
	var w sessionfile.Writer
	var rows, size int64
	var cpu time.Duration
	i := 0
	for b.Loop() {
		start := cpuTime(b)
		info, err := w.Write(filepath.Join(dir, fmt.Sprintf("%d.parquet", i%8)), batches[i%len(batches)])
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - start
		rows, size = rows+int64(info.Rows), size+info.Bytes
		i++
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(size)/float64(rows), "bytes/row")
}

// BenchmarkConcat joins eight files of one batch each, as compaction
// would.
func BenchmarkConcat(b *testing.B) {
	dir := b.TempDir()
	var w sessionfile.Writer
	var srcs []string
	for i, batch := range benchBatches(8) {
		src := filepath.Join(dir, fmt.Sprintf("src%d.parquet", i))
		if _, err := w.Write(src, batch); err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	var rows, size int64
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime(b)
		info, err := sessionfile.Concat(filepath.Join(dir, "dst.parquet"), srcs)
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - start
		rows, size = rows+int64(info.Rows), size+info.Bytes
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
