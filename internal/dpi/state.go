package dpi

import "github.com/osprey-ndr/osprey/internal/schema"

// Limits bound what is kept of each flow for the decoders.
type Limits struct {
	Bytes   int // per direction
	Packets int // payload packets per direction
	// Flows caps the flows buffering at once; past it new flows are not
	// inspected (and counted), so a flood cannot grow memory without bound.
	Flows int
}

// DefaultLimits keep the first 4 KiB or 8 payload packets of each
// direction: enough for a TLS 1.3 ClientHello with post-quantum key
// shares, a DHCP exchange or an HTTP request and response headers.
func DefaultLimits() Limits { return Limits{Bytes: 4096, Packets: 8, Flows: 1 << 16} }

// segment is a TCP segment that came before a gap, held until the gap fills.
type segment struct {
	seq  uint32
	data []byte
}

// stream is one direction of a flow being buffered. Sides are numbered
// by the meter's canonical endpoint order (0 = a, 1 = b), not orig/resp,
// because the meter may swap roles after the first packets.
type stream struct {
	Side
	pkts    int
	next    uint32 // TCP: sequence number of the next in-order byte
	started bool
	closed  bool // full, or a gap that did not fill
	cut     bool // something was left out: Side.Complete is false
	pending []segment
}

// buffers are both directions; a state slot keeps their storage for the
// next flow.
type buffers [2]stream

// reset empties the buffers, keeping their storage.
func (b *buffers) reset() {
	for i := range b {
		s := &b[i]
		*s = stream{Side: Side{Data: s.Data[:0], Ends: s.Ends[:0]}, pending: s.pending[:0]}
	}
}

// State is one flow's buffers and, once decided, its result. The engine
// holds states in a slab and hands out handles (see Engine.Start).
type State struct {
	proto    uint8
	attempts uint8 // early identifications tried
	done     bool
	b        buffers
	app      string
	l7       *schema.L7
}

// Meta is how the meter sees the flow now: which buffer side is the
// originator and the two ports.
type Meta struct {
	OrigSide           int
	OrigPort, RespPort uint16
}

// feed adds one packet's payload from side (0 or 1). For TCP, seq is the
// segment's sequence number and syn whether it carried SYN (the stream
// starts after it). It reports whether both directions are full.
func (st *State) feed(lim *Limits, side int, seq uint32, syn bool, payload []byte) (full bool) {
	s := &st.b[side]
	if s.Data == nil && len(payload) > 0 {
		// Room for a typical first message; buffers are recycled, so
		// they keep what they grew to.
		s.Data = make([]byte, 0, min(lim.Bytes, 1536))
	}
	if st.proto == 6 {
		if syn {
			s.next, s.started = seq+1, true
			seq++
		}
		if len(payload) > 0 && !s.closed {
			st.tcp(lim, s, seq, payload)
		}
	} else if len(payload) > 0 && !s.closed {
		if s.Ends == nil {
			s.Ends = make([]int, 0, min(lim.Packets, 64)) // grown once, then recycled
		}
		s.pkts++
		n := min(len(payload), lim.Bytes-len(s.Data))
		s.Data = append(s.Data, payload[:n]...)
		s.Ends = append(s.Ends, len(s.Data))
		s.cut = s.cut || n < len(payload)
		if s.cut || len(s.Data) >= lim.Bytes || s.pkts >= lim.Packets {
			s.closed = true
		}
	}
	return st.b[0].closed && st.b[1].closed
}

// tcp reassembles in order; a segment after a gap waits (a few at most)
// for the gap to fill. Hand-written because gopacket's reassembly keeps
// whole connections and this needs only the first few KiB of each side.
func (st *State) tcp(lim *Limits, s *stream, seq uint32, payload []byte) {
	if !s.started {
		s.next, s.started = seq, true
	}
	s.pkts++
	if int32(seq-s.next) > 0 {
		if len(s.pending) >= 4 {
			s.closed, s.cut = true, true // the gap is not filling: keep what is in order
			return
		}
		s.pending = append(s.pending, segment{seq, append([]byte(nil), payload...)})
		return
	}
	st.append(lim, s, seq, payload)
	for progressed := true; progressed && !s.closed; {
		progressed = false
		for i := 0; i < len(s.pending); i++ {
			if p := s.pending[i]; int32(p.seq-s.next) <= 0 {
				s.pending = append(s.pending[:i], s.pending[i+1:]...)
				st.append(lim, s, p.seq, p.data)
				progressed = true
				i--
			}
		}
	}
	if s.pkts >= lim.Packets {
		s.closed = true
	}
}

// append adds the part of a segment past s.next (retransmissions overlap).
func (st *State) append(lim *Limits, s *stream, seq uint32, data []byte) {
	skip := int(s.next - seq)
	if skip >= len(data) {
		return
	}
	data = data[skip:]
	n := min(len(data), lim.Bytes-len(s.Data))
	s.Data = append(s.Data, data[:n]...)
	s.next += uint32(len(data))
	s.cut = s.cut || n < len(data)
	if s.cut || len(s.Data) >= lim.Bytes {
		s.closed = true
	}
}

// view returns the side that feeding payload would make of side's stream
// when it is the stream's first payload, taken in whole and in order,
// and the flow would not be full after it (Feed then decides instead):
// the payload where it lies, without a copy. end holds a UDP side's Ends.
func (st *State) view(lim *Limits, side int, seq uint32, syn bool, payload []byte, end *[1]int) (Side, bool) {
	s := &st.b[side]
	if len(payload) == 0 || lim.Packets <= 1 || st.proto == 6 && syn ||
		s.pkts > 0 || len(s.Data) > 0 || s.closed || len(s.pending) > 0 {
		return Side{}, false
	}
	n := min(len(payload), lim.Bytes)
	cut := n < len(payload)
	if (cut || n >= lim.Bytes) && st.b[1-side].closed {
		return Side{}, false // full: Decide
	}
	v := Side{Data: payload[:n:n], Complete: !cut}
	if st.proto == 6 {
		if s.started && seq != s.next {
			return Side{}, false // a gap or an overlap: feed sorts it out
		}
	} else {
		end[0] = n
		v.Ends = end[:]
	}
	return v, true
}

// flow is what the decoders see of the buffers now.
func (st *State) flow(m Meta) Flow {
	side := func(i int) Side {
		s := &st.b[i]
		return Side{Data: s.Data, Ends: s.Ends, Complete: !s.cut && len(s.pending) == 0}
	}
	return Flow{Proto: st.proto, OrigPort: m.OrigPort, RespPort: m.RespPort, Orig: side(m.OrigSide), Resp: side(1 - m.OrigSide)}
}

// spoke reports whether both directions have payload.
func (st *State) spoke() bool { return len(st.b[0].Data) > 0 && len(st.b[1].Data) > 0 }
