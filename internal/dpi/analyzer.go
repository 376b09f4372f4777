// Package dpi identifies a session's application from its payload and
// decodes the fields that matter for security and inventory (DNS names,
// TLS SNI and fingerprints, HTTP hosts, DHCP fingerprints, OT device
// identification, …). Decoders are pure functions over the first bytes of
// each direction; the meter buffers those bytes (see Buffer) and asks
// Identify when it writes the session.
package dpi

import "github.com/osprey-ndr/osprey/internal/schema"

// Side is what was captured of one direction: for TCP the stream
// reassembled in sequence order from its start, for UDP the datagrams
// one after another with Ends marking where each one ends.
type Side struct {
	Data []byte
	Ends []int // UDP: end offset of each datagram in Data
	// Complete is false when Data was cut at the buffer limit or a
	// sequence gap, so a decoder must not expect the rest.
	Complete bool
}

// Msgs calls fn for each datagram of a UDP side until fn returns false.
func (s *Side) Msgs(fn func(msg []byte) bool) {
	start := 0
	for _, end := range s.Ends {
		if end < start || end > len(s.Data) { // malformed Ends: stop, never panic
			return
		}
		if !fn(s.Data[start:end]) {
			return
		}
		start = end
	}
}

// Flow is a session's payload as the decoders see it.
type Flow struct {
	Proto              uint8 // 6 TCP, 17 UDP
	OrigPort, RespPort uint16
	Orig, Resp         Side
	// strs interns the strings Decode keeps (nil outside an engine).
	strs *strTable
	// flavor caches dnsFlavorOf, plus one (0: not yet): the four
	// analyzers of the DNS family classify the same first message.
	flavor dnsFlavor
}

// Analyzer is one application protocol.
type Analyzer struct {
	// App is the label written in Session.App ("dns", "tls", "modbus", …).
	App string
	// Proto is 6 or 17, or 0 for both.
	Proto uint8
	// Ports are the protocol's well-known server ports, used to try this
	// analyzer first and as the fallback label when no content matches.
	Ports []uint16
	// Match reports how sure it is (0 = not this protocol, up to 1) that
	// the flow speaks the protocol, looking at content only, never ports.
	Match func(f *Flow) float64
	// Decode fills the protocol's part of l7 from the flow; it is called
	// only after Match returned more than 0.
	Decode func(f *Flow, l7 *schema.L7)
	// Enough, when set, says whether the flow holds all Decode wants (a
	// TLS certificate after the ServerHello, say). Without it, a match
	// seen once both directions have spoken is decided at once, which
	// keeps buffering short for most flows. It is also asked while only
	// one side has spoken, so that one-way flows (multicast
	// announcements, broadcasts) are decided at once rather than held
	// until they go idle; return false when a reply on the same flow is
	// worth waiting for.
	Enough func(f *Flow) bool
	// NewL7, when set, allocates the L7 that Decode fills with the
	// protocol's record in the same block (see l7.go): a session keeps
	// both until it is written, and one object costs the collector less
	// than two. Decode must still work on an L7 without it.
	NewL7 func() *schema.L7
}

// analyzers lists every protocol, IT first then IoT/OT; see it.go and ot.go.
func analyzers() []Analyzer {
	return append(append([]Analyzer(nil), itAnalyzers...), otAnalyzers...)
}
