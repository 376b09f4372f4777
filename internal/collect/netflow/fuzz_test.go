package netflow

import (
	"math"
	"net/netip"
	"testing"

	"github.com/osprey-ndr/osprey/internal/collect"
)

// FuzzDecode feeds one datagram, twice, to a fresh Decoder: the second
// time its templates and options are known. Seeds are the builders'
// datagrams here and real exporters' (softflowd v9 and IPFIX, akvorado's
// and goflow2's captures) in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	optT, optD := v9SamplerOptions(7, 50)
	src := netip.MustParseAddr("10.0.0.1")
	f.Add(v5Datagram(3, 0))
	f.Add(v9Datagram(1, set(0, templateBody(256, v9Fields)), optT, optD, set(256, v9Record(src, 1, 7))))
	f.Add(ipfixDatagram(1, set(2, templateBody(300, ipfixFields)), set(300, ipfixRecord(1))))
	f.Add(ipfixDatagram(1, set(2, templateBody(301, []field{{8, 4}, {82, 0xffff}})), set(301, []byte{10, 0, 0, 1, 3, 'e', 't', 'h'})))
	f.Add(sflowDatagram(2))
	f.Add(expandedFlowSample(0xffffffff))
	f.Fuzz(func(t *testing.T, p []byte) {
		d := NewDecoder(DefaultConfig(), collect.RejectFunc(func(b collect.BadInput) {
			if b.Err == nil || b.Source == "" || len(b.Raw) > collect.MaxRaw {
				t.Fatalf("bad input without error or source: %+v", b)
			}
		}))
		for range 2 {
			for _, s := range d.DecodePacket(exporterA, p, arrival, nil) {
				if s.UID == "" || !s.Final || s.EndReason != "export" || s.Flow == nil || s.RespPkts != 0 || s.RespIPBytes != 0 {
					t.Fatalf("session %+v", s)
				}
				if r := s.Flow.SamplingRate; r > 1 && (s.OrigPkts%r != 0 && s.OrigPkts != math.MaxUint64 || s.OrigIPBytes%r != 0 && s.OrigIPBytes != math.MaxUint64) {
					t.Fatalf("counters %d/%d not scaled by %d", s.OrigPkts, s.OrigIPBytes, r)
				}
			}
		}
	})
}
