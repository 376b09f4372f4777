package meter

import (
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/dpi"
)

// inspect hands a TCP or UDP packet's payload to the application
// decoders until the flow is identified.
func (t *Table) inspect(num uint32, f *flow, p *decode.Packet, isOrig bool) {
	if t.dpi == nil || f.bits&flowInspected != 0 || (p.IPProto != 6 && p.IPProto != 17) {
		return
	}
	syn := p.IPProto == 6 && p.TCPFlags&decode.TCPFlagSYN != 0
	if len(p.Payload) == 0 && !syn {
		return
	}
	entry := t.sideFor(num)
	st := entry.dpi
	if st == nil {
		if st = t.dpi.Start(p.IPProto); st == nil {
			f.set(flowInspected) // over capacity: this flow goes uninspected
			return
		}
		entry.dpi = st
	}
	side := 0 // buffers are numbered by the key's endpoints, a then b
	if isOrig != f.origIsA() {
		side = 1
	}
	if t.dpi.Feed(st, dpiMeta(f), side, p.Seq, syn, p.Payload) {
		t.decided(f, entry)
	}
}

// decided moves a flow's application from its DPI state into the side
// entry and recycles the state.
func (t *Table) decided(f *flow, entry *sideEntry) {
	entry.app, entry.l7 = t.dpi.Decide(entry.dpi, dpiMeta(f))
	t.dpi.Free(entry.dpi)
	entry.dpi = nil
	f.set(flowInspected)
}

// dpiMeta says which buffer side is the originator and gives the ports.
func dpiMeta(f *flow) dpi.Meta {
	if f.origIsA() {
		return dpi.Meta{OrigSide: 0, OrigPort: f.key.pa, RespPort: f.key.pb}
	}
	return dpi.Meta{OrigSide: 1, OrigPort: f.key.pb, RespPort: f.key.pa}
}

// forget drops a removed flow's side entry.
func (t *Table) forget(num uint32) {
	p := &t.sides[num>>pageBits][num&(pageSize-1)]
	if *p != nil && (*p).dpi != nil {
		t.dpi.Release((*p).dpi)
		t.dpi.Free((*p).dpi)
	}
	*p = nil
}

// DPIStats returns the application decoders' counters (zero when off).
func (t *Table) DPIStats() dpi.Stats {
	if t.dpi == nil {
		return dpi.Stats{}
	}
	return t.dpi.Stats()
}
