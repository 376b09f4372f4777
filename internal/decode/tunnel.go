package decode

import (
	"encoding/binary"
	"net/netip"
)

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
// frame it carries. A header without the I flag is not VXLAN (Linux and
// Suricata drop it too): reached by port, the datagram stays plain UDP;
// given by a listener, it is an error. The reserved bits are ignored,
// since several implementations use them (group policy, Linux's
// user-defined reserved bits).
func (d *Decoder) vxlanLayer(b []byte, off int, t Tunnel, listener bool, p *Packet) error {
	if len(b)-off < 8 {
		return d.fail("vxlan", off, ReasonTruncated)
	}
	if b[off]&0x08 == 0 {
		if listener {
			return d.fail("vxlan", off, ReasonBadTunnelHeader)
		}
		return nil
	}
	t.Kind = TunnelVXLAN
	t.VNI = binary.BigEndian.Uint32(b[off+4:]) >> 8
	if !d.enter(t, p) {
		return d.fail("vxlan", off, ReasonTooDeep)
	}
	return d.ethernet(b, off+8, p)
}

// geneveLayer decodes a GENEVE header (RFC 8926), skipping its options by
// their total length, and the frame it carries (Ethernet, IPv4 or IPv6).
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

// inner continues with the frame a tunnel carries, by its protocol type.
// Other payloads (MPLS, NSH…) are left undecoded: the packet then has the
// tunnel but no inner IP.
func (d *Decoder) inner(b []byte, off int, proto uint16, p *Packet) error {
	switch proto {
	case etherTEB:
		return d.ethernet(b, off, p)
	case etherIPv4, etherIPv6:
		// ip() follows the version nibble; the EtherType says what it found.
		err := d.ip(b, off, p)
		p.EtherType = proto
		if p.IPVersion == 6 {
			p.EtherType = etherIPv6
		} else if p.IPVersion == 4 {
			p.EtherType = etherIPv4
		}
		return err
	}
	p.EtherType = proto
	return nil
}

// GRE flag bits (RFC 1701/2784/2890).
const (
	greChecksum = 0x8000
	greRouting  = 0x4000
	greKey      = 0x2000
	greSeq      = 0x1000
	greVersion  = 0x0007
)

// gre decodes GRE version 0 and the ERSPAN types II and III it may carry;
// the GRE key or ERSPAN session id is kept as the tunnel's VNI. Version 1
// (PPTP's enhanced GRE) carries PPP and is left as the outer packet's
// payload, as is any protocol not listed below.
func (d *Decoder) gre(b []byte, off, l4len int, p *Packet) error {
	t := d.outer(p, l4len)
	p.PayloadLen = l4len
	if len(b)-off < 4 {
		return d.fail("gre", off, ReasonTruncated)
	}
	h := b[off:]
	flags := binary.BigEndian.Uint16(h[0:])
	proto := binary.BigEndian.Uint16(h[2:])
	if flags&greVersion != 0 {
		return nil
	}
	hl := 4
	if flags&(greChecksum|greRouting) != 0 { // checksum and offset
		hl += 4
	}
	if flags&greKey != 0 {
		if len(h) < hl+4 {
			return d.fail("gre", off, ReasonTruncated)
		}
		t.VNI = binary.BigEndian.Uint32(h[hl:])
		hl += 4
	}
	seq := flags&greSeq != 0
	if seq {
		hl += 4
	}
	if flags&greRouting != 0 {
		// RFC 1701 source route entries: address family (2), offset (1),
		// length (1), then length bytes; a zero length ends the list.
		for {
			if len(h) < hl+4 {
				return d.fail("gre routing", off, ReasonTruncated)
			}
			n := int(h[hl+3])
			hl += 4 + n
			if n == 0 {
				break
			}
		}
	}
	if len(h) < hl {
		return d.fail("gre", off, ReasonTruncated)
	}
	t.Kind = TunnelGRE
	switch proto {
	case etherERSPAN2:
		if !seq { // ERSPAN type I: no ERSPAN header, the frame follows
			return d.greInner(b, off, off+hl, etherTEB, t, p)
		}
		// Version (4) VLAN (12), CoS (3) encapsulation (2) truncated (1)
		// session id (10), reserved (12) index (20).
		if len(h) < hl+8 {
			return d.fail("erspan2", off+hl, ReasonTruncated)
		}
		t.Kind = TunnelERSPAN2
		t.VNI = uint32(binary.BigEndian.Uint16(h[hl+2:]) & 0x03ff)
		return d.greInner(b, off+hl, off+hl+8, etherTEB, t, p)
	case etherERSPAN3:
		// Version VLAN, CoS BSO T session id, timestamp (32), SGT (16),
		// P (1) frame type (5) hardware id (6) D (1) granularity (2) O (1),
		// then an 8-byte platform-specific subheader when O is set.
		if len(h) < hl+12 {
			return d.fail("erspan3", off+hl, ReasonTruncated)
		}
		e := h[hl:]
		t.Kind = TunnelERSPAN3
		t.VNI = uint32(binary.BigEndian.Uint16(e[2:]) & 0x03ff)
		el := 12
		if e[11]&0x01 != 0 {
			el += 8
		}
		if len(e) < el {
			return d.fail("erspan3", off+hl, ReasonTruncated)
		}
		inner := uint16(etherTEB)
		if (e[10]>>2)&0x1f == 2 { // frame type 2: an IP packet without Ethernet header
			inner = etherIPv4 // ip() reads the version nibble, IPv4 or IPv6
		}
		return d.greInner(b, off+hl, off+hl+el, inner, t, p)
	case etherTEB, etherIPv4, etherIPv6:
		return d.greInner(b, off, off+hl, proto, t, p)
	}
	return nil
}

// greInner enters the GRE/ERSPAN tunnel t, whose header is at hdr, and
// decodes the frame at off.
func (d *Decoder) greInner(b []byte, hdr, off int, proto uint16, t Tunnel, p *Packet) error {
	if !d.enter(t, p) {
		return d.fail(t.Kind.String(), hdr, ReasonTooDeep)
	}
	return d.inner(b, off, proto, p)
}
