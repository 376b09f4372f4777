package decode

import "encoding/binary"

// Link types that appear in old capture files or that only this decoder
// needs; the public ones are in link.go.
const (
	linkRawDLT12 LinkType = 12  // DLT_RAW on most systems
	linkRawDLT14 LinkType = 14  // DLT_RAW on OpenBSD
	linkLoop     LinkType = 108 // DLT_LOOP: like DLT_NULL, family in network byte order
)

// EtherTypes the decoder follows.
const (
	etherIPv4     = 0x0800
	etherARP      = 0x0806
	etherIPv6     = 0x86dd
	etherVLAN     = 0x8100
	etherQinQ     = 0x88a8
	etherQinQOld  = 0x9100 // pre-802.1ad vendor QinQ
	etherTEB      = 0x6558 // transparent Ethernet bridging (GRE, GENEVE)
	etherERSPAN2  = 0x88be
	etherERSPAN3  = 0x22eb
	etherMinValue = 0x0600 // below: an 802.3 length field, not an EtherType
)

func (d *Decoder) ethernet(b []byte, off int, p *Packet) error {
	if len(b)-off < 14 {
		return d.fail("ethernet", off, ReasonTruncated)
	}
	copy(p.DstMAC[:], b[off:off+6])
	copy(p.SrcMAC[:], b[off+6:off+12])
	p.HasEthernet = true
	et := binary.BigEndian.Uint16(b[off+12:])
	off += 14
	if et < etherMinValue { // 802.3 length field (LLC/SNAP, STP…): not IP
		return nil
	}
	return d.etherType(b, off, et, p)
}

// etherType continues after an EtherType: VLAN tags (the first two are
// kept, further ones skipped), then the payload.
func (d *Decoder) etherType(b []byte, off int, et uint16, p *Packet) error {
	for et == etherVLAN || et == etherQinQ || et == etherQinQOld {
		if len(b)-off < 4 {
			return d.fail("vlan", off, ReasonTruncated)
		}
		if p.NumVLANs < len(p.VLANs) {
			p.VLANs[p.NumVLANs] = binary.BigEndian.Uint16(b[off:]) & 0x0fff
			p.NumVLANs++
		}
		et = binary.BigEndian.Uint16(b[off+2:])
		off += 4
	}
	p.EtherType = et
	switch et {
	case etherIPv4, etherIPv6:
		return d.ip(b, off, p)
	case etherARP:
		p.IsARP = true
		d.stats.ARP++
	}
	return nil
}

// sll decodes Linux cooked capture v1: packet type, ARPHRD type, address
// length, 8 address bytes, protocol.
func (d *Decoder) sll(b []byte, p *Packet) error {
	if len(b) < 16 {
		return d.fail("sll", 0, ReasonTruncated)
	}
	if binary.BigEndian.Uint16(b[4:]) == 6 { // a MAC address
		copy(p.SrcMAC[:], b[6:12])
	}
	return d.etherType(b, 16, binary.BigEndian.Uint16(b[14:]), p)
}

// sll2 decodes Linux cooked capture v2: protocol, reserved, interface
// index, ARPHRD type, packet type, address length, 8 address bytes.
func (d *Decoder) sll2(b []byte, p *Packet) error {
	if len(b) < 20 {
		return d.fail("sll2", 0, ReasonTruncated)
	}
	if b[11] == 6 {
		copy(p.SrcMAC[:], b[12:18])
	}
	return d.etherType(b, 20, binary.BigEndian.Uint16(b[0:]), p)
}

// null decodes BSD loopback (DLT_NULL, DLT_LOOP): a 4-byte address family.
func (d *Decoder) null(b []byte, p *Packet) error {
	if len(b) < 4 {
		return d.fail("null", 0, ReasonTruncated)
	}
	// DLT_NULL writes the family in the capturing host's byte order and
	// DLT_LOOP in network order: the value is small, so take the reading
	// that fits.
	fam := binary.LittleEndian.Uint32(b)
	if fam > 0xffff {
		fam = binary.BigEndian.Uint32(b)
	}
	switch fam {
	case 2, 10, 24, 28, 30: // AF_INET; AF_INET6 on Linux, the BSDs, FreeBSD, macOS
		return d.ip(b, 4, p)
	}
	return nil
}
