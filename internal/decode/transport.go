package decode

import "encoding/binary"

// IP protocol numbers of the upper layers the decoder reads.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoGRE    = 47
	protoICMPv6 = 58
	protoSCTP   = 132
)

// transport decodes the upper layer at off; b ends where the IP packet
// (or the capture) ends, and l4len is the upper layer's length according
// to the IP header, which may exceed what was captured. A header cut by
// the capture leaves PayloadLen set from l4len, so that the meter can
// still count the packet by its lengths.
func (d *Decoder) transport(b []byte, off, l4len int, p *Packet) error {
	avail := len(b) - off
	switch p.IPProto {
	case protoTCP:
		if avail < 20 {
			p.PayloadLen = max(l4len-20, 0)
			return d.fail("tcp", off, ReasonTruncated)
		}
		h := b[off:]
		p.SrcPort = binary.BigEndian.Uint16(h[0:])
		p.DstPort = binary.BigEndian.Uint16(h[2:])
		p.Seq = binary.BigEndian.Uint32(h[4:])
		p.Ack = binary.BigEndian.Uint32(h[8:])
		hl := int(h[12]>>4) * 4
		p.TCPFlags = h[13]
		p.Window = binary.BigEndian.Uint16(h[14:])
		if hl < 20 || hl > l4len {
			p.PayloadLen = max(l4len-20, 0)
			return d.fail("tcp", off, ReasonBadHeaderLength)
		}
		p.TCPHdrLen = hl
		p.PayloadLen = l4len - hl
		if d.verify {
			p.BadChecksum = !d.checksumOK(b, off, l4len, p)
		}
		if avail >= hl {
			p.TCPOptions = h[20:hl]
		}
		if avail > hl { // options cut by the capture leave no payload
			p.Payload = h[hl:]
		}
	case protoUDP:
		if avail < 8 {
			p.PayloadLen = max(l4len-8, 0)
			return d.fail("udp", off, ReasonTruncated)
		}
		h := b[off:]
		p.SrcPort = binary.BigEndian.Uint16(h[0:])
		p.DstPort = binary.BigEndian.Uint16(h[2:])
		p.PayloadLen = max(l4len-8, 0)
		p.Payload = h[8:]
		if d.verify && (binary.BigEndian.Uint16(h[6:]) != 0 || p.IPVersion == 6) {
			if p.BadChecksum = !d.checksumOK(b, off, l4len, p); p.BadChecksum {
				return nil // Zeek ignores such a packet but for its 'C' history letter
			}
		}
		// A fragment's payload is not a whole tunnel header; the outer UDP
		// may be cut by the capture, and the inner frame is then decoded
		// as far as it was captured.
		if !p.Fragment {
			if d.isVXLAN(p.DstPort) {
				return d.vxlanLayer(b, off+8, d.outer(p, l4len-8), false, p)
			}
			if d.isGENEVE(p.DstPort) {
				return d.geneveLayer(b, off+8, d.outer(p, l4len-8), p)
			}
		}
	case protoSCTP: // ports only: chunks are the meter's business, if anyone's
		p.PayloadLen = max(l4len-12, 0)
		if avail < 12 {
			return d.fail("sctp", off, ReasonTruncated)
		}
		p.SrcPort = binary.BigEndian.Uint16(b[off:])
		p.DstPort = binary.BigEndian.Uint16(b[off+2:])
		if avail > 12 {
			p.Payload = b[off+12:]
		}
	case protoICMP, protoICMPv6:
		p.PayloadLen = max(l4len-8, 0)
		if avail < 4 {
			return d.fail("icmp", off, ReasonTruncated)
		}
		p.ICMPType, p.ICMPCode = b[off], b[off+1]
		if avail >= 8 { // echo identifier; other types keep other data here
			p.ICMPID = binary.BigEndian.Uint16(b[off+4:])
		}
		if avail > 8 {
			p.Payload = b[off+8:]
		}
	case protoGRE:
		if !p.Fragment {
			return d.gre(b, off, l4len, p)
		}
		p.PayloadLen = l4len
	default:
		p.PayloadLen = l4len
		if avail > 0 {
			p.Payload = b[off:]
		}
	}
	return nil
}
