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

// endpoint is one side of a flow. For TCP, size comes from sequence
// numbers as Zeek computes it; for other protocols seqs hold a payload sum.
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
	histFlags                 uint16
	lastWraps                 uint8
	state, prevState          uint8
	finSeen                   bool
}

func (e *endpoint) hole() (start, end uint32) { return uint32(e.aux), uint32(e.aux >> 32) }
func (e *endpoint) setHole(start, end uint32) { e.aux = uint64(start) | uint64(end)<<32 }

func (e *endpoint) setState(s uint8) {
	e.prevState, e.state = e.state, s
}

// history flag bits (one letter per direction the first time, as Zeek's
// CheckHistory does).
const (
	histSYN uint16 = 1 << iota
	histFIN
	histRST
	histData
	histAck
	histMulti
	histFinRst
	histRexmit
	histGap
	histZeroWin
	histChecksum
)

// maxHistory bounds the history string kept per flow; Zeek's grows without
// bound but rarely passes a dozen letters.
const maxHistory = 15

// flow is one tracked conversation. Orig/resp follow Zeek's orientation.
type flow struct {
	key     flowKey
	origIsA bool // orig endpoint is key.a
	flipped bool // roles were swapped after the first packet ('^')
	// mirrorSrcLo: the orig's packets were sent by the lower address of the
	// interned mirror pair, which is then the reported mirror source.
	mirrorSrcLo bool
	tunnel      uint8
	nextSeq     uint16 // Seq of the next record for this flow
	histLen     uint8
	history     [maxHistory]byte
	vlans       [2]uint16
	macs        [2][6]byte // orig, resp
	first       int64      // unix ns
	last        int64
	uid         uint64
	parents     [2]uint64 // uids of the outer tunnel flows
	orig        endpoint
	resp        endpoint
}

func (f *flow) addHistory(c byte) {
	if int(f.histLen) < maxHistory {
		f.history[f.histLen] = c
		f.histLen++
	}
}

// checkHistory adds code the first time bit is seen for an endpoint and
// reports whether it had been seen before.
func (f *flow) checkHistory(e *endpoint, bit uint16, code byte) bool {
	if e.histFlags&bit != 0 {
		return true
	}
	e.histFlags |= bit
	if e == &f.resp {
		code += 'a' - 'A'
	}
	f.addHistory(code)
	return false
}

// side returns the originator's or the responder's endpoint.
func (f *flow) side(isOrig bool) *endpoint {
	if isOrig {
		return &f.orig
	}
	return &f.resp
}

func (f *flow) answered() bool { return f.resp.pkts > 0 }
