package deliver

import (
	"path/filepath"
	"testing"
)

// BenchmarkQueuePut is the queue's write throughput: batches of 100
// finding-sized records (600 bytes), one transaction and fsync each.
func BenchmarkQueuePut(b *testing.B) {
	q, err := OpenQueue(filepath.Join(b.TempDir(), "q.db"), 1<<30, 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	batch := make([]Record, 100)
	data := make([]byte, 600)
	b.SetBytes(int64(len(batch) * len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = Record{Kind: KindFinding, Data: data}
		}
		if _, err := q.Put(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkQueueCycle puts, peeks and acknowledges batches of 100: the
// queue's share of every delivered record.
func BenchmarkQueueCycle(b *testing.B) {
	q, err := OpenQueue(filepath.Join(b.TempDir(), "q.db"), 1<<30, 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	batch := make([]Record, 100)
	data := make([]byte, 600)
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = Record{Kind: KindFinding, Data: data}
		}
		if _, err := q.Put(batch); err != nil {
			b.Fatal(err)
		}
		got, err := q.Peek(100, 1<<30)
		if err != nil || len(got) != 100 {
			b.Fatal(len(got), err)
		}
		if err := q.Ack(got); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}
