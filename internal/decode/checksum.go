package decode

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
