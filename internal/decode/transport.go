package decode

import (
	"encoding/binary"
	"net/netip"
)

// transport decodes the upper layer at off; l4len is its length according
// to the IP header (which may exceed what was captured).
func (d *Decoder) transport(b []byte, off, l4len int, p *Packet) error {
	avail := len(b) - off
	switch p.IPProto {
	case 6:
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
		if hl < 20 {
			return d.fail("tcp", off, ReasonBadHeaderLength)
		}
		p.TCPHdrLen = hl
		p.PayloadLen = max(l4len-hl, 0)
		if d.verify {
			p.BadChecksum = !d.checksumOK(b, off, l4len, p)
		}
		if avail > hl {
			p.Payload = h[hl:]
		}
	case 17:
		if avail < 8 {
			p.PayloadLen = max(l4len-8, 0)
			return d.fail("udp", off, ReasonTruncated)
		}
		h := b[off:]
		p.SrcPort = binary.BigEndian.Uint16(h[0:])
		p.DstPort = binary.BigEndian.Uint16(h[2:])
		p.PayloadLen = max(l4len-8, 0)
		p.Payload = h[8:]
		if d.verify && binary.BigEndian.Uint16(h[6:]) != 0 || d.verify && p.IPVersion == 6 {
			if p.BadChecksum = !d.checksumOK(b, off, l4len, p); p.BadChecksum {
				return nil // Zeek ignores such a packet but for its 'C' history letter
			}
		}
		if !p.Fragment { // a fifth nested tunnel fails in enter as too deep
			if d.isVXLAN(p.DstPort) {
				return d.vxlanLayer(b, off+8, d.outer(p, l4len-8), p)
			}
			if d.isGENEVE(p.DstPort) {
				return d.geneveLayer(b, off+8, d.outer(p, l4len-8), p)
			}
		}
	case 132: // SCTP: ports only
		if avail < 12 {
			return d.fail("sctp", off, ReasonTruncated)
		}
		p.SrcPort = binary.BigEndian.Uint16(b[off:])
		p.DstPort = binary.BigEndian.Uint16(b[off+2:])
		p.PayloadLen = max(l4len-12, 0)
	case 1, 58:
		if avail < 4 {
			return d.fail("icmp", off, ReasonTruncated)
		}
		p.ICMPType, p.ICMPCode = b[off], b[off+1]
		if avail >= 8 {
			p.ICMPID = binary.BigEndian.Uint16(b[off+4:])
		}
		p.PayloadLen = max(l4len-8, 0)
		if avail > 8 {
			p.Payload = b[off+8:]
		}
	case 47:
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

// outer snapshots the current (outer) network and transport headers as
// the tunnel that carries what follows.
func (d *Decoder) outer(p *Packet, payloadLen int) Tunnel {
	return Tunnel{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort,
		IPProto: p.IPProto, IPLen: p.IPLen, PayloadLen: max(payloadLen, 0)}
}

// enter records t and clears what the outer headers set, so that the
// inner frame starts afresh. It clears fields one by one rather than
// copying the whole Packet: this runs for every tunnelled packet.
func (d *Decoder) enter(t Tunnel, p *Packet) bool {
	if p.NumTunnels >= MaxTunnels {
		return false
	}
	p.Tunnels[p.NumTunnels] = t
	p.NumTunnels++
	d.stats.Tunnels[t.Kind]++
	p.SrcMAC, p.DstMAC, p.HasEthernet = [6]byte{}, [6]byte{}, false
	p.VLANs, p.NumVLANs = [2]uint16{}, 0
	p.EtherType, p.IsARP = 0, false
	p.IPVersion, p.Src, p.Dst, p.IPProto, p.TTL, p.IPLen, p.IPHeaderLen = 0, netip.Addr{}, netip.Addr{}, 0, 0, 0, 0
	p.Fragment, p.FragOffset, p.FragID = false, 0, 0
	p.SrcPort, p.DstPort, p.ICMPType, p.ICMPCode, p.ICMPID = 0, 0, 0, 0, 0
	p.TCPFlags, p.Seq, p.Ack, p.Window, p.TCPHdrLen = 0, 0, 0, 0, 0
	p.PayloadLen, p.Payload, p.Truncated, p.BadChecksum = 0, nil, false, false
	return true
}

// vxlanLayer decodes a VXLAN header at off (RFC 7348) and the Ethernet
// frame it carries. Reserved bits are ignored: several implementations
// set them (VXLAN-GPE, group policy).
func (d *Decoder) vxlanLayer(b []byte, off int, t Tunnel, p *Packet) error {
	if len(b)-off < 8 {
		return d.fail("vxlan", off, ReasonTruncated)
	}
	t.Kind = TunnelVXLAN
	t.VNI = binary.BigEndian.Uint32(b[off+4:]) >> 8
	if !d.enter(t, p) {
		return d.fail("vxlan", off, ReasonTooDeep)
	}
	return d.ethernet(b, off+8, p)
}

// geneveLayer decodes a GENEVE header (RFC 8926), skipping its options.
func (d *Decoder) geneveLayer(b []byte, off int, t Tunnel, p *Packet) error {
	if len(b)-off < 8 {
		return d.fail("geneve", off, ReasonTruncated)
	}
	h := b[off:]
	if h[0]>>6 != 0 {
		return d.fail("geneve", off, ReasonBadVersion)
	}
	optLen := int(h[0]&0x3f) * 4
	proto := binary.BigEndian.Uint16(h[2:])
	t.Kind = TunnelGENEVE
	t.VNI = binary.BigEndian.Uint32(h[4:]) >> 8
	if len(h) < 8+optLen {
		return d.fail("geneve options", off+8, ReasonTruncated)
	}
	if !d.enter(t, p) {
		return d.fail("geneve", off, ReasonTooDeep)
	}
	return d.inner(b, off+8+optLen, proto, p)
}

// inner continues with the frame a tunnel carries, by its EtherType.
func (d *Decoder) inner(b []byte, off int, proto uint16, p *Packet) error {
	switch proto {
	case 0x6558: // transparent Ethernet bridging
		return d.ethernet(b, off, p)
	case 0x0800, 0x86dd:
		p.EtherType = proto
		return d.ip(b, off, p)
	}
	p.EtherType = proto
	return nil
}

// gre decodes GRE (RFC 2784/2890) and the ERSPAN types II and III it may
// carry; the GRE key or ERSPAN session id is kept as the tunnel's VNI.
func (d *Decoder) gre(b []byte, off, l4len int, p *Packet) error {
	t := d.outer(p, l4len)
	if len(b)-off < 4 {
		return d.fail("gre", off, ReasonTruncated)
	}
	h := b[off:]
	flags := binary.BigEndian.Uint16(h[0:])
	proto := binary.BigEndian.Uint16(h[2:])
	if ver := flags & 7; ver != 0 { // version 1 is PPTP's enhanced GRE: not followed
		p.PayloadLen = l4len
		return nil
	}
	hl := 4
	if flags&0x8000 != 0 { // checksum present
		hl += 4
	}
	if flags&0x2000 != 0 { // key present
		if len(h) < hl+4 {
			return d.fail("gre", off, ReasonTruncated)
		}
		t.VNI = binary.BigEndian.Uint32(h[hl:])
		hl += 4
	}
	seq := flags&0x1000 != 0
	if seq {
		hl += 4
	}
	if len(h) < hl {
		return d.fail("gre", off, ReasonTruncated)
	}
	t.Kind = TunnelGRE
	switch proto {
	case 0x88be: // ERSPAN type II (type I has no sequence number and no header)
		if !seq {
			if !d.enter(t, p) {
				return d.fail("gre", off, ReasonTooDeep)
			}
			return d.ethernet(b, off+hl, p)
		}
		if len(h) < hl+8 {
			return d.fail("erspan2", off+hl, ReasonTruncated)
		}
		t.Kind = TunnelERSPAN2
		t.VNI = uint32(binary.BigEndian.Uint16(h[hl+2:]) & 0x03ff)
		if !d.enter(t, p) {
			return d.fail("erspan2", off+hl, ReasonTooDeep)
		}
		return d.ethernet(b, off+hl+8, p)
	case 0x22eb: // ERSPAN type III
		if len(h) < hl+12 {
			return d.fail("erspan3", off+hl, ReasonTruncated)
		}
		e := h[hl:]
		t.Kind = TunnelERSPAN3
		t.VNI = uint32(binary.BigEndian.Uint16(e[2:]) & 0x03ff)
		el := 12
		if e[11]&0x01 != 0 { // O flag: 8-byte platform-specific subheader
			el += 8
		}
		if len(e) < el {
			return d.fail("erspan3", off+hl, ReasonTruncated)
		}
		if !d.enter(t, p) {
			return d.fail("erspan3", off+hl, ReasonTooDeep)
		}
		return d.ethernet(b, off+hl+el, p)
	case 0x6558, 0x0800, 0x86dd:
		if !d.enter(t, p) {
			return d.fail("gre", off, ReasonTooDeep)
		}
		return d.inner(b, off+hl, proto, p)
	}
	p.PayloadLen = l4len
	return nil
}

// checksumOK verifies a TCP or UDP checksum over the pseudo-header and
// the segment. Segments not captured whole (and fragments) cannot be
// verified and pass.
func (d *Decoder) checksumOK(b []byte, off, l4len int, p *Packet) bool {
	if p.Fragment || len(b)-off < l4len || l4len < 0 {
		return true
	}
	var sum uint32
	if p.IPVersion == 4 {
		s, t := p.Src.As4(), p.Dst.As4()
		sum += uint32(s[0])<<8 | uint32(s[1])
		sum += uint32(s[2])<<8 | uint32(s[3])
		sum += uint32(t[0])<<8 | uint32(t[1])
		sum += uint32(t[2])<<8 | uint32(t[3])
	} else {
		s, t := p.Src.As16(), p.Dst.As16()
		for i := 0; i < 16; i += 2 {
			sum += uint32(s[i])<<8 | uint32(s[i+1])
			sum += uint32(t[i])<<8 | uint32(t[i+1])
		}
	}
	sum += uint32(p.IPProto) + uint32(l4len)
	seg := b[off : off+l4len]
	for i := 0; i+1 < len(seg); i += 2 {
		sum += uint32(seg[i])<<8 | uint32(seg[i+1])
	}
	if len(seg)%2 == 1 {
		sum += uint32(seg[len(seg)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return sum == 0xffff
}
