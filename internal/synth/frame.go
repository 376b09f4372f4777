package synth

import (
	"encoding/binary"
	"math/bits"
)

// Frames are appended to g.buf after g.room bytes (the pcap record header
// and, with VXLAN, the outer headers, filled in last). Lengths and
// checksums are patched once the payload is in place.

// l3 starts a frame: Ethernet (with VLAN tags) and an IP header whose
// length and checksum frame fills in later. It returns the buffer and the
// offset of the IP header.
func (g *gen) l3(c *conv, fromClient bool, proto uint8) ([]byte, int) {
	b := g.buf[:g.room]
	src, dst := c.cliMAC, c.peerMAC
	if !fromClient {
		src, dst = dst, src
	}
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	if c.qinq != 0 {
		b = append(b, 0x88, 0xa8, byte(c.qinq>>8), byte(c.qinq))
	}
	if c.vlan != 0 {
		b = append(b, 0x81, 0x00, byte(c.vlan>>8), byte(c.vlan))
	}
	sa, da := &c.cli, &c.srv
	ttl := byte(64)
	if !fromClient {
		sa, da, ttl = da, sa, 52
	}
	if c.ttl != 0 {
		ttl = c.ttl
	}
	ip := len(b) + 2
	if c.v6 {
		b = append(b, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, proto, ttl)
		b = append(b, sa[:]...)
		return append(b, da[:]...), ip
	}
	g.ipID++
	b = append(b, 0x08, 0x00, 0x45, 0, 0, 0, byte(g.ipID>>8), byte(g.ipID), 0x40, 0, ttl, proto, 0, 0)
	b = append(b, sa[12:]...)
	return append(b, da[12:]...), ip
}

// finish patches the IP length and checksums of the frame whose IP header
// is at ip and transport header at l4, then wraps it in VXLAN if asked.
// csumAt is the transport checksum's offset from l4 (-1: none).
func (g *gen) finish(b []byte, c *conv, ip, l4, csumAt int) {
	l4len := len(b) - l4
	var pseudo uint64
	if c.v6 {
		binary.BigEndian.PutUint16(b[ip+4:], uint16(l4len))
		pseudo = addc(sum(b[ip+8:ip+40], 0), uint64(l4len)+uint64(b[ip+6]))
	} else {
		binary.BigEndian.PutUint16(b[ip+2:], uint16(l4-ip+l4len))
		binary.BigEndian.PutUint16(b[ip+10:], fold(sum(b[ip:l4], 0)))
		pseudo = addc(sum(b[ip+12:ip+20], 0), uint64(l4len)+uint64(b[ip+9]))
	}
	if csumAt >= 0 {
		if b[ip+9] == 1 && !c.v6 {
			pseudo = 0 // ICMPv4 has no pseudo-header
		}
		cs := fold(sum(b[l4:], pseudo))
		if cs == 0 && csumAt == 6 {
			cs = 0xffff // UDP sends a computed zero as all ones
		}
		binary.BigEndian.PutUint16(b[l4+csumAt:], cs)
	}
	if g.cfg.VXLAN {
		g.vxlan(b, c)
	}
	g.buf = b
}

// tcp appends a TCP segment; the sequence numbers advance by its length.
func (g *gen) tcp(c *conv, fromClient bool, flags uint8, pk payloadKind, n int) {
	b, ip := g.l3(c, fromClient, 6)
	seq, ackn := &c.cseq, c.sseq
	sp, dp := c.cport, c.sport
	if !fromClient {
		seq, ackn = &c.sseq, c.cseq
		sp, dp = dp, sp
	}
	if flags&ack == 0 {
		ackn = 0
	}
	l4 := len(b)
	b = append(b, byte(sp>>8), byte(sp), byte(dp>>8), byte(dp))
	b = binary.BigEndian.AppendUint32(b, *seq)
	b = binary.BigEndian.AppendUint32(b, ackn)
	b = append(b, 5<<4, flags, 0xfa, 0xf0, 0, 0, 0, 0)
	b = g.payload(b, c, fromClient, pk, n)
	*seq += uint32(len(b) - l4 - 20)
	if flags&(syn|fin) != 0 {
		*seq++
	}
	g.finish(b, c, ip, l4, 16)
}

// udp appends a datagram.
func (g *gen) udp(c *conv, fromClient bool, pk payloadKind, n int) {
	b, ip := g.l3(c, fromClient, 17)
	sp, dp := c.cport, c.sport
	if !fromClient {
		sp, dp = dp, sp
	}
	l4 := len(b)
	b = append(b, byte(sp>>8), byte(sp), byte(dp>>8), byte(dp), 0, 0, 0, 0)
	b = g.payload(b, c, fromClient, pk, n)
	binary.BigEndian.PutUint16(b[l4+4:], uint16(len(b)-l4))
	g.finish(b, c, ip, l4, 6)
}

// icmpEcho appends an echo request (client) or reply (server).
func (g *gen) icmpEcho(c *conv, fromClient bool) {
	proto, typ := uint8(1), uint8(8)
	if c.v6 {
		proto, typ = 58, 128
	}
	if !fromClient {
		typ = 0
		if c.v6 {
			typ = 129
		}
	}
	b, ip := g.l3(c, fromClient, proto)
	l4 := len(b)
	seq := uint16(c.step/2 + 1)
	if c.silent {
		seq = uint16(c.step + 1)
	}
	b = append(b, typ, 0, 0, 0, byte(c.id>>8), byte(c.id), byte(seq>>8), byte(seq))
	b = g.payload(b, c, fromClient, plEcho, 56)
	g.finish(b, c, ip, l4, 2)
}

// vxlan fills the outer headers in front of the inner frame, as AWS
// Traffic Mirroring sends them: from the mirrored ENI to the sensor, UDP
// 4789, the mirror session's VNI, a zero UDP checksum.
func (g *gen) vxlan(b []byte, c *conv) {
	inner := len(b) - g.room
	o := b[recordHeaderLen:g.room]
	m := c.mirror
	copy(o, []byte{0x02, 0, 0x0a, 0, 0, 0xfa, 0x02, 0, 0x0a, 0, 0, 10 + m, 0x08, 0x00})
	ip := o[14:34]
	g.ipID++
	copy(ip, []byte{0x45, 0, 0, 0, byte(g.ipID >> 8), byte(g.ipID), 0x40, 0, 64, 17, 0, 0,
		10, 0, 0, 10 + m, sensor4[12], sensor4[13], sensor4[14], sensor4[15]})
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+8+inner))
	binary.BigEndian.PutUint16(ip[10:], fold(sum(ip, 0)))
	// The source port is a hash of the inner flow, the same both ways.
	h := uint32(c.cport)*0x9e37 ^ uint32(c.sport)*0x9e37 ^ uint32(c.id)
	udp := o[34:42]
	binary.BigEndian.PutUint16(udp[0:], uint16(49152+h%16384))
	binary.BigEndian.PutUint16(udp[2:], 4789)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+8+inner))
	udp[6], udp[7] = 0, 0
	vx := o[42:50]
	binary.BigEndian.PutUint32(vx[0:], 0x08000000)
	binary.BigEndian.PutUint32(vx[4:], vnis[int(m)%len(vnis)]<<8)
}

// sum adds b as big-endian 16-bit words to acc (one's complement, RFC
// 1071), eight bytes at a time; fold finishes it.
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 8 {
		acc = addc(acc, binary.BigEndian.Uint64(b))
		b = b[8:]
	}
	for len(b) >= 2 {
		acc = addc(acc, uint64(binary.BigEndian.Uint16(b)))
		b = b[2:]
	}
	if len(b) == 1 {
		acc = addc(acc, uint64(b[0])<<8)
	}
	return acc
}

// addc adds with end-around carry, which keeps a 64-bit one's complement
// sum congruent to the 16-bit one.
func addc(a, v uint64) uint64 {
	s, c := bits.Add64(a, v, 0)
	return s + c
}

func fold(acc uint64) uint16 {
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return ^uint16(acc)
}
