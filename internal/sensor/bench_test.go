package sensor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/output"
	"github.com/osprey-ndr/osprey/internal/synth"
)

// BenchmarkReadPipeline is decode + meter (+ reading the pcap from the
// page cache) over a synthetic fleet capture, on one goroutine: the
// per-core figure of `osprey read --output none`, with the application
// decoders (dpi) and without.
func BenchmarkReadPipeline(b *testing.B) {
	for _, tc := range []struct {
		name       string
		vxlan, dpi bool
	}{{"plain/dpi", false, true}, {"plain/no-dpi", false, false}, {"vxlan/dpi", true, true}, {"vxlan/no-dpi", true, false}} {
		vxlan := tc.vxlan
		cfg := DefaultConfig()
		cfg.Meter.DPI = tc.dpi
		b.Run(tc.name, func(b *testing.B) {
			const packets = 200_000
			var buf bytes.Buffer
			if _, err := synth.WritePCAP(&buf, synth.Config{Packets: packets, Flows: 5000, VXLAN: vxlan, IPv6Share: 0.2, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "bench.pcap")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(buf.Len()))
			for b.Loop() {
				s, err := New(cfg, capture.NewFileSource([]string{path}, capture.FileOptions{}), output.NewDiscard(), false)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			perPacket := b.Elapsed().Seconds() / float64(b.N) / packets
			b.ReportMetric(1/perPacket, "packets/s")
			b.ReportMetric(perPacket*1e9, "ns/packet")
		})
	}
}
