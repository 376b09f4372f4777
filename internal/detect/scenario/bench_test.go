package scenario

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// BenchmarkAllDetectors feeds the scenario's traffic (DefaultConfig:
// two days of 36 devices and VMs, incidents included) through the
// engine with every behavioural detector on and the scenario's policy,
// and reports sessions per second; run it with -cpu 1 for the figure
// per core. Generation is outside the timer.
func BenchmarkAllDetectors(b *testing.B) {
	sc, err := Generate(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var batches [][]schema.Session
	n := 0
	for batch := range sc.Sessions() {
		// The engine takes batches as the pipeline writes them.
		for len(batch) > 0 {
			k := min(len(batch), 512)
			batches = append(batches, batch[:k])
			n += k
			batch = batch[k:]
		}
	}
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
			if err := e.WriteSessions(context.Background(), batch); err != nil {
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
