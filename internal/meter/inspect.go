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
	if len(p.Payload) == 0 {
		return
	}
	e := t.sides.getOrAdd(num)
	h := e.handle
	if h == 0 {
		if h = t.dpi.Start(p.IPProto); h == 0 {
			f.set(flowInspected) // over capacity: this flow goes uninspected
			return
		}
		e.handle = h
		if p.IPProto == 6 {
			t.streamStarts(f, h)
		}
	}
	side := 0 // buffers are numbered by the key's endpoints, a then b
	if isOrig != f.origIsA() {
		side = 1
	}
	syn := p.IPProto == 6 && p.TCPFlags&decode.TCPFlagSYN != 0
	if t.dpi.Feed(h, dpiMeta(f), side, p.Seq, syn, p.Payload) {
		t.decided(f, e)
	}
}

// streamStarts tells a flow's new DPI state where the TCP streams begin
// whose SYN the meter saw: the state is taken at the first payload, so
// that handshakes and scans never cost one.
func (t *Table) streamStarts(f *flow, h uint32) {
	m := dpiMeta(f)
	for side := range 2 {
		ep := &f.resp
		if (side == 0) == f.origIsA() {
			ep = &f.orig
		}
		if ep.histFlags&histSYN != 0 {
			t.dpi.Feed(h, m, side, ep.startSeq, true, nil)
		}
	}
}

// decided moves a flow's application from its DPI state into the side
// entry and frees the state.
func (t *Table) decided(f *flow, e *sideEntry) {
	app, l7 := t.dpi.Decide(e.handle, dpiMeta(f))
	e.handle, e.app = decidedBit, t.sides.apps.id(app)
	if l7 != nil {
		e.handle |= t.sides.results.put(l7)
	}
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
	if h := t.sides.remove(num); h != 0 {
		t.dpi.Release(h)
	}
}

// DPIStats returns the application decoders' counters (zero when off).
func (t *Table) DPIStats() dpi.Stats {
	if t.dpi == nil {
		return dpi.Stats{}
	}
	return t.dpi.Stats()
}
