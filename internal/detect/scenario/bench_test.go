package scenario

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
)

// BenchmarkAllDetectors feeds the scenario's records (DefaultConfig:
// two days of 36 devices and VMs, incidents included, and the metrics
// the agent devices report every five minutes) through the engine with
// every detector on — behavioural, policy, audits, profiles — and
// reports sessions per second; run it with -cpu 1 for the figure per
// core. Generation is outside the timer.
func BenchmarkAllDetectors(b *testing.B) {
	sc, err := Generate(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var batches []Batch
	n := 0
	for r := range sc.Records() {
		batch := r.Sessions
		if len(batch) == 0 {
			batches = append(batches, r)
			continue
		}
		// The engine takes batches as the pipeline writes them.
		for len(batch) > 0 {
			k := min(len(batch), 512)
			batches = append(batches, Batch{Sessions: batch[:k]})
			n += k
			batch = batch[k:]
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ds, err := Detectors(behave.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		e, err := detect.New(detect.DefaultConfig(), ds, &collect{})
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range batches {
			if err := e.WriteSessions(ctx, batch.Sessions); err != nil {
				b.Fatal(err)
			}
			if err := e.WriteMetrics(ctx, batch.Metrics); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/float64(b.N), "ns/session")
}
