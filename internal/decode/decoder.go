package decode

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// Config selects which UDP ports carry tunnels.
type Config struct {
	VXLANPorts  []uint16
	GENEVEPorts []uint16
	// VerifyChecksums marks TCP and UDP segments whose checksum is wrong
	// (Packet.BadChecksum) as Zeek does without -C. Off by default: mirrored
	// and locally captured traffic often carries checksums the NIC was to
	// fill in.
	VerifyChecksums bool
}

// DefaultConfig uses the IANA ports: VXLAN 4789, GENEVE 6081.
func DefaultConfig() Config {
	return Config{VXLANPorts: []uint16{4789}, GENEVEPorts: []uint16{6081}}
}

// Decoder decodes frames into Packets. It is not safe for concurrent use;
// give each goroutine its own.
//
// It is written by hand rather than with gopacket's DecodingLayerParser:
// the sensor's budget is ≥ 2 M packets/s per core for decode and meter
// together with zero allocations, and gopacket's layers allocate for
// GENEVE options and IPv6 extension headers and cost more per layer than
// that budget allows. gopacket remains the oracle of the differential test.
type Decoder struct {
	vxlan, geneve [8]uint16 // small fixed sets: a linear scan beats a map
	nvxlan, ngen  int
	verify        bool
	stats         Stats
	err           Error
}

// NewDecoder builds a decoder for cfg.
func NewDecoder(cfg Config) *Decoder {
	d := &Decoder{verify: cfg.VerifyChecksums}
	d.nvxlan = copy(d.vxlan[:], cfg.VXLANPorts)
	d.ngen = copy(d.geneve[:], cfg.GENEVEPorts)
	return d
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() Stats { return d.stats }

func (d *Decoder) isVXLAN(port uint16) bool { return slices.Contains(d.vxlan[:d.nvxlan], port) }
func (d *Decoder) isGENEVE(port uint16) bool {
	return slices.Contains(d.geneve[:d.ngen], port)
}

// fail records a decode error in the decoder-owned Error and returns it.
func (d *Decoder) fail(layer string, off int, r Reason) error {
	d.stats.Errors[r]++
	d.err = Error{Layer: layer, Offset: off, Reason: r}
	return &d.err
}

// Decode resets p and fills it from data. For LinkVXLANPayload and
// LinkGENEVEPayload (a UDP listener's datagram payload; the kernel removed
// the outer IP/UDP headers) outer supplies the outer addresses and ports.
// The returned error, if any, is owned by the decoder and only valid until
// the next call; what was decoded before the error stays in p.
func (d *Decoder) Decode(data []byte, link LinkType, outer *Tunnel, p *Packet) error {
	p.Reset()
	p.CaptureLen = len(data)
	d.stats.Packets++
	var err error
	switch link {
	case LinkEthernet:
		err = d.ethernet(data, 0, p)
	case LinkRaw, 12, 14, LinkIPv4, LinkIPv6:
		err = d.ip(data, 0, p)
	case LinkLinuxSLL:
		err = d.sll(data, p)
	case LinkLinuxSLL2:
		err = d.sll2(data, p)
	case LinkNull, 108: // DLT_NULL, DLT_LOOP: 4-byte address family
		err = d.null(data, p)
	case LinkVXLANPayload, LinkGENEVEPayload:
		t := Tunnel{IPProto: 17, PayloadLen: len(data)}
		if outer != nil {
			t.Src, t.Dst, t.SrcPort, t.DstPort = outer.Src, outer.Dst, outer.SrcPort, outer.DstPort
			t.IPLen = outer.IPLen
		}
		if link == LinkVXLANPayload {
			err = d.vxlanLayer(data, 0, t, p)
		} else {
			err = d.geneveLayer(data, 0, t, p)
		}
	default:
		err = d.fail("link", 0, ReasonUnsupportedLink)
	}
	if p.IPVersion == 0 && err == nil {
		d.stats.NonIP++
	}
	if p.Truncated {
		d.stats.Truncated++
	}
	return err
}

func (d *Decoder) ethernet(b []byte, off int, p *Packet) error {
	if len(b)-off < 14 {
		return d.fail("ethernet", off, ReasonTruncated)
	}
	copy(p.DstMAC[:], b[off:off+6])
	copy(p.SrcMAC[:], b[off+6:off+12])
	p.HasEthernet = true
	et := binary.BigEndian.Uint16(b[off+12:])
	off += 14
	if et < 0x0600 { // 802.3 length field (LLC/SNAP, STP…): not IP
		p.EtherType = 0
		return nil
	}
	return d.etherType(b, off, et, p)
}

// etherType continues after an EtherType: VLAN tags, then the payload.
func (d *Decoder) etherType(b []byte, off int, et uint16, p *Packet) error {
	for et == 0x8100 || et == 0x88a8 || et == 0x9100 {
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
	case 0x0800, 0x86dd:
		return d.ip(b, off, p)
	case 0x0806:
		p.IsARP = true
		d.stats.ARP++
	}
	return nil
}

func (d *Decoder) sll(b []byte, p *Packet) error {
	if len(b) < 16 {
		return d.fail("sll", 0, ReasonTruncated)
	}
	if binary.BigEndian.Uint16(b[4:]) == 6 { // ARPHRD_ETHER address length
		copy(p.SrcMAC[:], b[6:12])
	}
	return d.etherType(b, 16, binary.BigEndian.Uint16(b[14:]), p)
}

func (d *Decoder) sll2(b []byte, p *Packet) error {
	if len(b) < 20 {
		return d.fail("sll2", 0, ReasonTruncated)
	}
	if b[11] == 6 {
		copy(p.SrcMAC[:], b[12:18])
	}
	return d.etherType(b, 20, binary.BigEndian.Uint16(b[0:]), p)
}

func (d *Decoder) null(b []byte, p *Packet) error {
	if len(b) < 4 {
		return d.fail("null", 0, ReasonTruncated)
	}
	// The family is in host byte order of the capturing machine: accept both.
	fam := binary.LittleEndian.Uint32(b)
	if fam > 0xffff {
		fam = binary.BigEndian.Uint32(b)
	}
	switch fam {
	case 2, 24, 28, 30: // AF_INET, AF_INET6 on the BSDs and macOS
		return d.ip(b, 4, p)
	}
	return nil
}

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
		return d.fail("ipv4", off, ReasonTruncated)
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
	if frag&0x2000 != 0 || p.FragOffset != 0 {
		p.Fragment = true
		p.FragID = uint32(binary.BigEndian.Uint16(h[4:]))
		d.stats.Fragments++
		if p.FragOffset != 0 {
			p.PayloadLen = total - ihl
			return nil // only the first fragment carries the transport header
		}
	}
	end := min(len(h), total)
	return d.transport(b[:off+end], off+ihl, total-ihl, p)
}

// IPv6 extension headers that are walked over to the upper layer.
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
		switch next {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6Mobility, ip6HIP, ip6Shim6:
			if end-hl < 8 {
				p.IPProto, p.IPHeaderLen = next, hl
				return d.fail("ipv6 extension", off+hl, ReasonTruncated)
			}
			next, hl = h[hl], hl+(int(h[hl+1])+1)*8
		case ip6AH:
			if end-hl < 8 {
				p.IPProto, p.IPHeaderLen = next, hl
				return d.fail("ipv6 ah", off+hl, ReasonTruncated)
			}
			next, hl = h[hl], hl+(int(h[hl+1])+2)*4
		case ip6Fragment:
			if end-hl < 8 {
				p.IPProto, p.IPHeaderLen = next, hl
				return d.fail("ipv6 fragment", off+hl, ReasonTruncated)
			}
			fo := binary.BigEndian.Uint16(h[hl+2:])
			p.Fragment = true
			p.FragOffset = fo &^ 7
			p.FragID = binary.BigEndian.Uint32(h[hl+4:])
			d.stats.Fragments++
			next, hl = h[hl], hl+8
			if p.FragOffset != 0 {
				p.IPProto, p.IPHeaderLen = next, hl
				p.PayloadLen = max(p.IPLen-hl, 0)
				return nil
			}
		default:
			p.IPProto, p.IPHeaderLen = next, hl
			if hl > p.IPLen {
				return d.fail("ipv6 extension", off+40, ReasonBadHeaderLength)
			}
			return d.transport(b[:off+end], off+hl, p.IPLen-hl, p)
		}
		if hl > end {
			p.IPProto, p.IPHeaderLen = next, min(hl, p.IPLen)
			return d.fail("ipv6 extension", off+40, ReasonTruncated)
		}
	}
}
