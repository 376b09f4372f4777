package meter

import (
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/dpi"
)

// inspect hands a TCP or UDP packet's payload to the application
// decoders until the flow is identified. Buffers live in a map beside the
// table, not in the flow, so that flows stay small and free of pointers
// (the garbage collector then never scans the table).
func (t *Table) inspect(f *flow, p *decode.Packet, isOrig bool) {
	if t.dpi == nil || f.bits&flowInspected != 0 || (p.IPProto != 6 && p.IPProto != 17) {
		return
	}
	syn := p.IPProto == 6 && p.TCPFlags&decode.TCPFlagSYN != 0
	if len(p.Payload) == 0 && !syn {
		return
	}
	st := t.states[f]
	if st == nil {
		if st = t.dpi.Start(p.IPProto); st == nil {
			f.set(flowInspected) // over capacity: this flow goes uninspected
			return
		}
		t.states[f] = st
	}
	side := 0
	if isOrig != f.origIsA() {
		side = 1
	}
	if t.dpi.Feed(st, dpiMeta(f), side, p.Seq, syn, p.Payload) {
		f.set(flowInspected)
	}
}

// dpiMeta says which buffer side is the originator and gives the ports.
func dpiMeta(f *flow) dpi.Meta {
	if f.origIsA() {
		return dpi.Meta{OrigSide: 0, OrigPort: f.key.pa, RespPort: f.key.pb}
	}
	return dpi.Meta{OrigSide: 1, OrigPort: f.key.pb, RespPort: f.key.pa}
}

// forget drops a removed flow's buffers.
func (t *Table) forget(f *flow) {
	if st, ok := t.states[f]; ok {
		t.dpi.Release(st)
		delete(t.states, f)
	}
}

// DPIStats returns the application decoders' counters (zero when off).
func (t *Table) DPIStats() dpi.Stats {
	if t.dpi == nil {
		return dpi.Stats{}
	}
	return t.dpi.Stats()
}
