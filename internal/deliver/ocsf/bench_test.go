package ocsf

import (
	"path/filepath"
	"testing"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// BenchmarkEncode: records/s through Encode, per class (the sessions
// carry TLS, geo and unmapped fields; the finding a full evidence).
func BenchmarkEncode(b *testing.B) {
	enc := testEncoder()
	s := testSessions()["tls closed"]
	f := testFindings(b)["repeated"]
	for name, ev := range map[string]*deliver.Event{"session": sessionEvent(&s), "finding": findingEvent(&f)} {
		b.Run(name, func(b *testing.B) {
			var buf []byte
			var err error
			for b.Loop() {
				if buf, err = enc.Encode(buf[:0], ev); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSend: records/s through Send in batches of 500 (the default
// batch.max_records), to a file (one fsync per batch, gzip of rotated
// files at 100 MiB) and to an in-process S3 (gofakes3; one object per
// class, gzipped JSON lines or Parquet).
func BenchmarkSend(b *testing.B) {
	const batch = 500
	recs := records(b, batch)
	run := func(b *testing.B, d *Destination) {
		defer d.Close()
		seq := uint64(0)
		for b.Loop() {
			for i := range recs {
				seq++
				recs[i].Seq = seq
			}
			if n, err := d.Send(b.Context(), recs); n != batch || err != nil {
				b.Fatalf("Send = %d, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("file", func(b *testing.B) {
		d, err := New(fileConfig(filepath.Join(b.TempDir(), "ocsf.jsonl")))
		if err != nil {
			b.Fatal(err)
		}
		run(b, d)
	})
	for _, format := range []string{"json", "parquet"} {
		b.Run("s3-"+format, func(b *testing.B) {
			f := newFakeS3(b)
			c := f.config()
			c.S3.Format = format
			d, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			run(b, d)
		})
	}
}
