package decode

import (
	"encoding/binary"
	"net/netip"
)

// ip decodes an IPv4 or IPv6 packet at off, choosing by the version nibble.
func (d *Decoder) ip(b []byte, off int, p *Packet) error {
	if len(b)-off < 1 {
		return d.fail("ip", off, ReasonTruncated)
	}
	switch b[off] >> 4 {
	case 4:
		return d.ipv4(b, off, p)
	case 6:
		return d.ipv6(b, off, p)
	}
	return d.fail("ip", off, ReasonBadIPVersion)
}

func (d *Decoder) ipv4(b []byte, off int, p *Packet) error {
	if len(b)-off < 20 {
		return d.fail("ipv4", off, ReasonTruncated)
	}
	h := b[off:]
	ihl := int(h[0]&0x0f) * 4
	if ihl < 20 {
		return d.fail("ipv4", off, ReasonBadHeaderLength)
	}
	if len(h) < ihl {
		return d.fail("ipv4 options", off+20, ReasonTruncated)
	}
	total := int(binary.BigEndian.Uint16(h[2:]))
	if total == 0 { // TSO/GSO on the capturing host: use what was captured
		total = len(h)
	}
	if total < ihl {
		return d.fail("ipv4", off, ReasonBadHeaderLength)
	}
	p.IPVersion = 4
	p.Src = netip.AddrFrom4([4]byte(h[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(h[16:20]))
	p.TTL = h[8]
	p.IPProto = h[9]
	p.IPLen = total
	p.IPHeaderLen = ihl
	p.Truncated = len(h) < total
	frag := binary.BigEndian.Uint16(h[6:])
	p.FragOffset = (frag & 0x1fff) * 8
	if frag&0x2000 != 0 || p.FragOffset != 0 { // more fragments, or not the first
		p.Fragment = true
		p.FragID = uint32(binary.BigEndian.Uint16(h[4:]))
		d.stats.Fragments++
		if p.FragOffset != 0 {
			p.PayloadLen = total - ihl
			return nil // only the first fragment carries the transport header
		}
	}
	// Cut at the IP length: Ethernet padding is not payload.
	return d.transport(b[:off+min(len(h), total)], off+ihl, total-ihl, p)
}

// IPv6 extension headers that are walked over to the upper layer. ESP
// (50) is not among them: what follows it is encrypted, so it is the
// upper layer.
const (
	ip6HopByHop = 0
	ip6Routing  = 43
	ip6Fragment = 44
	ip6AH       = 51
	ip6DestOpts = 60
	ip6Mobility = 135
	ip6HIP      = 139
	ip6Shim6    = 140
)

func (d *Decoder) ipv6(b []byte, off int, p *Packet) error {
	if len(b)-off < 40 {
		return d.fail("ipv6", off, ReasonTruncated)
	}
	h := b[off:]
	plen := int(binary.BigEndian.Uint16(h[4:]))
	if plen == 0 { // jumbogram or TSO: use what was captured
		plen = len(h) - 40
	}
	p.IPVersion = 6
	p.Src = netip.AddrFrom16([16]byte(h[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(h[24:40]))
	p.TTL = h[7]
	p.IPLen = plen + 40
	p.Truncated = len(h) < p.IPLen
	next := h[6]
	hl := 40
	end := min(len(h), p.IPLen)
	for {
		// Until the upper layer is found, IPProto and IPHeaderLen say how
		// far the walk got, for a caller looking at a partial decode.
		p.IPProto, p.IPHeaderLen = next, hl
		switch next {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6Mobility, ip6HIP, ip6Shim6:
			if end-hl < 8 {
				return d.fail("ipv6 extension", off+hl, ReasonTruncated)
			}
			next, hl = h[hl], hl+(int(h[hl+1])+1)*8
		case ip6AH:
			if end-hl < 8 {
				return d.fail("ipv6 ah", off+hl, ReasonTruncated)
			}
			next, hl = h[hl], hl+(int(h[hl+1])+2)*4
		case ip6Fragment:
			if end-hl < 8 {
				return d.fail("ipv6 fragment", off+hl, ReasonTruncated)
			}
			fo := binary.BigEndian.Uint16(h[hl+2:])
			// An atomic fragment (offset 0, no more fragments; RFC 6946)
			// is a whole packet and is not counted as a fragment.
			if fo&0xfff9 != 0 {
				p.Fragment = true
				p.FragOffset = fo &^ 7
				p.FragID = binary.BigEndian.Uint32(h[hl+4:])
				d.stats.Fragments++
			}
			next, hl = h[hl], hl+8
			if p.FragOffset != 0 {
				p.IPProto, p.IPHeaderLen = next, hl
				p.PayloadLen = max(p.IPLen-hl, 0)
				return nil // only the first fragment carries the transport header
			}
		default:
			return d.transport(b[:off+end], off+hl, p.IPLen-hl, p)
		}
		if hl > end {
			p.IPProto, p.IPHeaderLen = next, min(hl, p.IPLen)
			if hl > p.IPLen {
				return d.fail("ipv6 extension", off+40, ReasonBadHeaderLength)
			}
			return d.fail("ipv6 extension", off+40, ReasonTruncated)
		}
	}
}
