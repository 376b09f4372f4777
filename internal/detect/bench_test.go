package detect

import (
	"context"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// BenchmarkEngine measures sessions through the engine with a trivial
// detector that reports one session in eight, all folding into a few
// findings: the cost is the engine's, not a detector's.
func BenchmarkEngine(b *testing.B) {
	entities := []string{"ip:10.0.0.5", "port:22"}
	keys := []string{"k0", "k1", "k2", "k3"}
	det := &fake{name: "trivial", on: func(s *schema.Session, report func(Report)) {
		if s.Seq%8 == 0 {
			report(Report{Time: s.End, Rule: "r", Severity: Low, Entities: entities, DedupeKey: keys[s.Seq/8%4]})
		}
	}}
	e := newEngine(b, DefaultConfig(), &memSink{}, det)
	batch := make([]schema.Session, 1024)
	for i := range batch {
		batch[i] = session("C", 0, 22)
		batch[i].Seq = uint32(i)
	}
	ctx := context.Background()
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			now = now.Add(time.Millisecond)
			batch[i].End = now
		}
		if err := e.WriteSessions(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "sessions/s")
	e.Close()
}
