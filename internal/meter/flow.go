package meter

// TCP endpoint states, as Zeek names them (TCP_ENDPOINT_*).
const (
	tcpInactive uint8 = iota
	tcpSynSent
	tcpSynAckSent
	tcpPartial
	tcpEstablished
	tcpClosed
	tcpReset
)

// Scaled history letters (Zeek's ScaledHistoryEntry): the letter is
// written when an endpoint's count of the event reaches 1, 10, 100, …
const (
	scaledChecksum = iota // C
	scaledRexmit          // T
	scaledZeroWin         // W
	scaledGap             // G
)

var scaledCode = [4]byte{'C', 'T', 'W', 'G'}

// Last-sequence slots for repeated S/H, F and R letters.
const (
	lastSYN = iota
	lastFIN
	lastRST
)

// endpoint is one side of a flow, 56 bytes. For TCP, size comes from
// sequence numbers as Zeek computes it; for other protocols aux holds a
// payload sum.
type endpoint struct {
	pkts, ipBytes uint64
	// aux is, for TCP, the newest hole in the sequence space (start in the
	// low 32 bits, end in the high 32; open while they differ), so that one
	// reordered segment does not count as missed; for other protocols, the
	// payload byte count. One field for both keeps a flow small.
	aux uint64
	// TCP: start (ISN, or first seq − 1 when the SYN was not seen), highest
	// sequence one past a segment, highest sequence the peer acknowledged.
	startSeq, lastSeq, ackSeq uint32
	missed                    uint32
	// scaled counts checksum errors, retransmissions, zero windows and
	// gaps. Zeek keeps 32-bit counters; 16 bits saturate at 65535, so the
	// letters for 1…10 000 events are exact and a 100 000th is never written.
	scaled    [4]uint16
	histFlags uint16
	// lastLo holds the low 8 bits of the relative sequence of the last
	// SYN, FIN and RST (Zeek's hist_last_*): a letter repeats when it comes
	// again at another sequence. Zeek keeps 64 bits; two sequences 256 apart
	// look alike here, a documented 1-in-256 chance of a missing repeat.
	lastLo           [3]uint8
	lastWraps        uint8
	state, prevState uint8
}

func (e *endpoint) hole() (start, end uint32) { return uint32(e.aux), uint32(e.aux >> 32) }
func (e *endpoint) setHole(start, end uint32) { e.aux = uint64(start) | uint64(end)<<32 }

func (e *endpoint) setState(s uint8) {
	e.prevState, e.state = e.state, s
}

func (e *endpoint) finSeen() bool { return e.histFlags&histFinSeen != 0 }

// history flag bits (one letter per direction the first time, as Zeek's
// CheckHistory does); histFinSeen is not a letter but shares the word.
const (
	histSYN uint16 = 1 << iota
	histFIN
	histRST
	histData
	histAck
	histMulti
	histFinRst
	histFinSeen
)

// flow bits.
const (
	flowLive        uint8 = 1 << iota // the slot holds a flow
	flowOrigIsA                       // the orig endpoint is key.a
	flowFlipped                       // roles were swapped ('^')
	flowMirrorSrcLo                   // the orig's packets come from the lower address of the mirror pair
	flowInspected                     // the application was decided (or the flow is not inspected)
)

// History letters are kept as 5-bit codes, 8 in every 5 bytes: 11 bytes
// hold 17 letters where plain bytes would hold 11, within the same
// 224-byte flow. Zeek's history grows without bound but rarely passes a
// dozen letters; later letters are dropped.
const (
	histBytes  = 11
	maxHistory = histBytes * 8 / 5
	histCodes  = "^SHADFRCTGWIQshadfrctgwiq"
)

// flow is one tracked conversation, 224 bytes. Orig/resp follow Zeek's
// orientation. Its uid is not stored: it is derived from the key and the
// first packet time when needed (see Table.uidOf).
type flow struct {
	key     flowKey
	bits    uint8
	tunnel  uint8
	nextSeq uint16 // Seq of the next record for this flow
	histLen uint8
	history [histBytes]byte
	vlans   [2]uint16
	macs    [2][6]byte // orig, resp
	first   int64      // unix ns
	last    int64
	parents [2]uint64 // uids of the outer tunnel flows
	orig    endpoint
	resp    endpoint
}

func (f *flow) live() bool     { return f.bits&flowLive != 0 }
func (f *flow) origIsA() bool  { return f.bits&flowOrigIsA != 0 }
func (f *flow) flipped() bool  { return f.bits&flowFlipped != 0 }
func (f *flow) set(b uint8)    { f.bits |= b }
func (f *flow) toggle(b uint8) { f.bits ^= b }

// addHistory appends letter c (one of histCodes).
func (f *flow) addHistory(c byte) {
	if int(f.histLen) >= maxHistory {
		return
	}
	code := uint16(0)
	for i := 0; i < len(histCodes); i++ {
		if histCodes[i] == c {
			code = uint16(i + 1)
			break
		}
	}
	bit := int(f.histLen) * 5
	// A code may straddle two bytes; write both halves.
	v := uint16(f.history[bit/8])
	if bit/8+1 < histBytes {
		v |= uint16(f.history[bit/8+1]) << 8
	}
	v |= code << (bit % 8)
	f.history[bit/8] = byte(v)
	if bit/8+1 < histBytes {
		f.history[bit/8+1] = byte(v >> 8)
	}
	f.histLen++
}

// historyString decodes the letters into buf and returns them.
func (f *flow) historyString(buf *[maxHistory]byte) []byte {
	for i := 0; i < int(f.histLen); i++ {
		bit := i * 5
		v := uint16(f.history[bit/8])
		if bit/8+1 < histBytes {
			v |= uint16(f.history[bit/8+1]) << 8
		}
		code := (v >> (bit % 8)) & 0x1f
		buf[i] = histCodes[code-1]
	}
	return buf[:f.histLen]
}

// letter gives code in the case of the endpoint: upper for the
// originator, lower for the responder.
func (f *flow) letter(e *endpoint, code byte) byte {
	if e == &f.resp {
		return code + 'a' - 'A'
	}
	return code
}

// checkHistory adds code the first time bit is seen for an endpoint and
// reports whether it had been seen before.
func (f *flow) checkHistory(e *endpoint, bit uint16, code byte) bool {
	if e.histFlags&bit != 0 {
		return true
	}
	e.histFlags |= bit
	f.addHistory(f.letter(e, code))
	return false
}

// scaledHistory counts one event of kind i for e and writes its letter at
// the 1st, 10th, 100th… occurrence (Zeek's ScaledHistoryEntry, base 10).
func (f *flow) scaledHistory(e *endpoint, i int) {
	c := e.scaled[i]
	if c == 0xffff {
		return
	}
	c++
	e.scaled[i] = c
	switch c {
	case 1, 10, 100, 1000, 10000:
		f.addHistory(f.letter(e, scaledCode[i]))
	}
}

// side returns the originator's or the responder's endpoint.
func (f *flow) side(isOrig bool) *endpoint {
	if isOrig {
		return &f.orig
	}
	return &f.resp
}

// flipRoles swaps originator and responder after the flow started, as
// Zeek's Connection::FlipRoles: addresses, MACs and endpoint state change
// sides and '^' is added. The once-per-side history flags stay with the
// role, since Zeek keeps them in the connection, not the endpoint.
func (f *flow) flipRoles() {
	f.orig, f.resp = f.resp, f.orig
	f.orig.histFlags, f.resp.histFlags = f.resp.histFlags, f.orig.histFlags
	// histFinSeen is endpoint state, not a history flag: move it back.
	of, rf := f.resp.histFlags&histFinSeen, f.orig.histFlags&histFinSeen
	f.orig.histFlags = f.orig.histFlags&^histFinSeen | of
	f.resp.histFlags = f.resp.histFlags&^histFinSeen | rf
	f.macs[0], f.macs[1] = f.macs[1], f.macs[0]
	f.toggle(flowOrigIsA)
	f.set(flowFlipped)
	f.addHistory('^')
}

func (f *flow) answered() bool { return f.resp.pkts > 0 }
