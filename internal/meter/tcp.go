package meter

import "github.com/osprey-ndr/osprey/internal/decode"

// tooLargeSeqDelta is Zeek's TOO_LARGE_SEQ_DELTA: SYN/RST sequence jumps
// beyond it are not trusted.
const tooLargeSeqDelta = 1 << 20

// tcp follows Zeek's TCPSessionAdapter::Process for one segment: endpoint
// initialisation, history letters, acknowledgements, last sequence and the
// endpoint state machine. Only what conn.log reports is kept.
func (t *Table) tcp(f *flow, p *decode.Packet, isOrig bool) {
	e, peer := &f.orig, &f.resp
	if !isOrig {
		e, peer = peer, e
	}
	fl := p.TCPFlags
	syn, fin, rst, ack := fl&decode.TCPFlagSYN != 0, fl&decode.TCPFlagFIN != 0, fl&decode.TCPFlagRST != 0, fl&decode.TCPFlagACK != 0
	n := p.PayloadLen
	segLen := n
	if syn {
		segLen++
	}
	if fin {
		segLen++
	}
	if rst {
		segLen -= n
	}
	seq := p.Seq
	end := seq + uint32(segLen)

	// init_endpoint
	switch e.state {
	case tcpInactive:
		if syn {
			e.startSeq, e.ackSeq, e.lastSeq = seq, seq, end
		} else {
			e.startSeq, e.ackSeq, e.lastSeq = seq-1, seq-1, seq
		}
	case tcpSynSent, tcpSynAckSent:
		if syn && seq != e.startSeq {
			e.startSeq, e.ackSeq, e.lastSeq = seq, seq, end
		}
	case tcpEstablished, tcpPartial:
		if syn {
			e.startSeq, e.ackSeq, e.lastSeq = seq, seq, end
		}
	case tcpReset:
		if syn && e.prevState == tcpInactive {
			e.startSeq, e.ackSeq, e.lastSeq = seq, seq, end
		}
	}

	t.history(f, e, fl, seq-e.startSeq, n)
	if p.Window == 0 && !rst && peer.state != tcpClosed && e.state != tcpReset {
		f.scaledHistory(e, scaledZeroWin)
	}

	if ack {
		if peer.state == tcpInactive {
			// init_peer: number the peer's bytes as though its SYN was seen.
			peer.startSeq, peer.ackSeq, peer.lastSeq = p.Ack-1, p.Ack-1, p.Ack-1
		} else if !rst {
			if d := int32(p.Ack - peer.ackSeq); d > 0 && !(p.Ack == 0 && d > tooLargeSeqDelta) {
				peer.ackSeq = p.Ack
			}
		}
	}

	t.data(f, e, seq, n, syn, rst)
	t.updateLastSeq(f, e, end, syn, fin, rst, n)
	if fin {
		e.histFlags |= histFinSeen
	}
	t.stateMachine(f, e, peer, isOrig, syn, fin, rst, ack, n)
}

// history adds Zeek's per-packet history letter (update_history). A SYN,
// FIN or RST letter repeats when the flag comes again at another relative
// sequence (rel), not for a plain retransmission.
func (t *Table) history(f *flow, e *endpoint, fl uint8, rel uint32, n int) {
	syn, fin, rst := fl&decode.TCPFlagSYN != 0, fl&decode.TCPFlagFIN != 0, fl&decode.TCPFlagRST != 0
	bits := int(fl&decode.TCPFlagSYN>>1) + int(fl&decode.TCPFlagFIN) + int(fl&decode.TCPFlagRST>>2)
	switch {
	case bits > 1:
		if fin && rst {
			f.checkHistory(e, histFinRst, 'I')
		} else {
			f.checkHistory(e, histMulti, 'Q')
		}
	case syn:
		code := byte('S')
		if fl&decode.TCPFlagACK != 0 {
			code = 'H'
		}
		f.repeatHistory(e, histSYN, code, lastSYN, rel)
	case fin:
		f.repeatHistory(e, histFIN, 'F', lastFIN, rel+uint32(n))
	case rst:
		f.repeatHistory(e, histRST, 'R', lastRST, rel)
	case n > 0:
		f.checkHistory(e, histData, 'D')
	case fl&decode.TCPFlagACK != 0:
		f.checkHistory(e, histAck, 'A')
	}
}

// repeatHistory writes code the first time, and again whenever the flag
// comes at a sequence other than the last one's.
func (f *flow) repeatHistory(e *endpoint, bit uint16, code byte, slot int, rel uint32) {
	if f.checkHistory(e, bit, code) && uint8(rel) != e.lastLo[slot] {
		f.addHistory(f.letter(e, code))
	}
	e.lastLo[slot] = uint8(rel)
}

// updateLastSeq is Zeek's update_last_seq; a segment that does not
// advance the sequence space but carries data is a retransmission.
func (t *Table) updateLastSeq(f *flow, e *endpoint, end uint32, syn, fin, rst bool, n int) {
	delta := int32(end - e.lastSeq)
	switch {
	case (syn || rst) && (delta > tooLargeSeqDelta || delta < -tooLargeSeqDelta):
	case fin && e.lastSeq == e.startSeq+1:
		e.lastSeq = end
	case e.state == tcpReset:
	case delta > 0:
		if end < e.lastSeq { // wrapped past 2^32
			e.lastWraps++
		}
		e.lastSeq = end
	case n > 0:
		f.scaledHistory(e, scaledRexmit)
	}
}

// data tracks holes in the sequence space for missed_bytes: a segment
// starting beyond the highest sequence seen opens a hole; a later segment
// inside the newest hole (reordering) shrinks it; holes left are missed.
func (t *Table) data(f *flow, e *endpoint, seq uint32, n int, syn, rst bool) {
	if n == 0 || rst {
		return
	}
	if syn {
		seq++
	}
	end := seq + uint32(n)
	hs, he := e.hole()
	if gap := int32(seq - e.lastSeq); gap > 0 && gap < tooLargeSeqDelta && e.state != tcpInactive {
		if he != hs { // an older hole was never filled
			e.missed += he - hs
			f.scaledHistory(e, scaledGap)
		}
		e.setHole(e.lastSeq, seq)
		return
	}
	if he != hs && int32(seq-hs) >= 0 && int32(he-seq) > 0 {
		switch {
		case seq == hs && int32(end-he) >= 0:
			e.setHole(he, he) // filled
		case seq == hs:
			e.setHole(end, he)
		case int32(end-he) >= 0:
			e.setHole(hs, seq)
		}
	}
}

// stateMachine is Zeek's UpdateStateMachine.
func (t *Table) stateMachine(f *flow, e, peer *endpoint, isOrig, syn, fin, rst, ack bool, n int) {
	switch e.state {
	case tcpInactive:
		if syn {
			if isOrig {
				if ack {
					e.setState(tcpSynAckSent)
				} else {
					e.setState(tcpSynSent)
				}
			} else {
				if !ack && peer.state == tcpSynAckSent {
					// The SYN-ACK was seen before its SYN (two capture
					// interfaces, coalescing): Zeek flips the roles and
					// calls the connection established.
					f.flipRoles()
					e, peer = peer, e // the structs moved; follow them
					peer.setState(tcpEstablished)
				}
				if peer.state == tcpSynSent {
					peer.setState(tcpEstablished)
				}
				e.setState(tcpEstablished)
			}
		}
		if fin {
			e.setState(tcpClosed)
		}
		if rst {
			e.setState(tcpReset)
		}
		if e.state == tcpInactive {
			switch {
			case !isOrig && n == 0 && f.orig.state == tcpSynSent:
				// an ACK of the SYN before the SYN-ACK: not a partial connection
			case ack && peer.state == tcpEstablished:
				e.setState(tcpEstablished)
			default:
				e.setState(tcpPartial)
			}
		}
	case tcpSynSent, tcpSynAckSent:
		if fin {
			e.setState(tcpClosed)
		}
		if rst {
			e.setState(tcpReset)
		}
	case tcpEstablished, tcpPartial:
		if syn && e.state == tcpPartial && peer.state == tcpInactive && !ack {
			e.setState(tcpSynSent)
		}
		if fin && !rst {
			e.setState(tcpClosed)
			if peer.state == tcpReset && peer.prevState == tcpClosed {
				peer.setState(tcpClosed) // FIN then RST: a normal close
			}
		}
		if rst {
			e.setState(tcpReset)
		}
	case tcpClosed:
		if rst && peer.state != tcpClosed {
			e.setState(tcpReset)
		}
	}
}

// size is Zeek's TCP_Endpoint::Size: the sequence space from the start to
// the highest byte sent or acknowledged, less the SYN and FIN octets.
func (e *endpoint) size(peer *endpoint) uint64 {
	if e.prevState == tcpSynSent && e.state == tcpReset && peer.state == tcpInactive {
		return 0
	}
	last := uint64(e.lastWraps)<<32 + uint64(e.lastSeq-e.startSeq)
	acked := uint64(e.ackSeq - e.startSeq)
	if int32(e.ackSeq-e.lastSeq) < 0 || e.lastWraps > 0 {
		acked = 0
	}
	size := max(last, acked)
	if size > 0 {
		size--
	}
	if e.finSeen() && size > 0 {
		size--
	}
	return size
}

// missedBytes adds the hole still open and acknowledged bytes never seen.
func (e *endpoint) missedBytes() uint64 {
	hs, he := e.hole()
	m := uint64(e.missed) + uint64(he-hs)
	if d := int32(e.ackSeq - e.lastSeq); d > 0 && e.state != tcpInactive {
		m += uint64(d)
	}
	return m
}
