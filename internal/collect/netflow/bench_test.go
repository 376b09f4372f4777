package netflow

import (
	"net/netip"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// BenchmarkDecode decodes one datagram per iteration into sessions, the
// templates already known, and reports records per second. Run it per
// core as docs/netflow.md says.
func BenchmarkDecode(b *testing.B) {
	src := netip.MustParseAddr("10.0.0.1")
	var v9Data, ipfixData []byte
	for i := range 24 {
		v9Data = append(v9Data, v9Record(src, uint16(i), 7)...)
	}
	for i := range 12 {
		ipfixData = append(ipfixData, ipfixRecord(uint16(i))...)
	}
	optT, optD := v9SamplerOptions(7, 50)
	for _, bc := range []struct {
		name    string
		prime   []byte // templates and options, decoded once
		p       []byte
		records int
	}{
		{"netflow5", nil, v5Datagram(30, 0), 30},
		{"netflow9", v9Datagram(1, set(0, templateBody(256, v9Fields)), optT, optD), v9Datagram(1, set(256, v9Data)), 24},
		{"ipfix", ipfixDatagram(1, set(2, templateBody(300, ipfixFields))), ipfixDatagram(1, set(300, ipfixData)), 12},
		{"sflow5", nil, sflowDatagram(8), 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder(DefaultConfig(), nil)
			if bc.prime != nil {
				d.DecodePacket(exporterA, bc.prime, arrival, nil)
			}
			out := make([]schema.Session, 0, bc.records)
			if out = d.DecodePacket(exporterA, bc.p, arrival, out); len(out) != bc.records {
				b.Fatalf("%d sessions, want %d", len(out), bc.records)
			}
			b.SetBytes(int64(len(bc.p)))
			b.ReportAllocs()
			for b.Loop() {
				out = d.DecodePacket(exporterA, bc.p, arrival, out[:0])
			}
			n := float64(b.N * bc.records)
			b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
		})
	}
}
