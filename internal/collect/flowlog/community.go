package flowlog

import (
	"encoding/binary"

	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// communityIDs remembers recent community ids. Both directions of a
// connection have the same id, and a long connection shows up again every
// window, so a flow log asks for most ids more than once; a hit saves the
// SHA-1. The tables are direct-mapped: a new tuple simply takes its slot.
// Tuples are keyed by plain words (IPv4 ones by two) and ids are held by
// value, so the tables hold no pointer: the GC does not scan them, and
// they keep no idArena chunk alive.
type communityIDs struct {
	seed uint16
	v4   [4096]cidEntry4
	v6   [1024]cidEntry6 // IPv6, and IPv4 with IPv6
}

type cidEntry4 struct {
	addrs, rest uint64 // rest is never 0 once set
	id          [meter.CommunityIDLen]byte
}

type cidEntry6 struct {
	addrs [4]uint64
	rest  uint64
	id    [meter.CommunityIDLen]byte
}

// append appends the session's community id to dst.
func (c *communityIDs) append(dst []byte, s *schema.Session) []byte {
	a, b, pa, pb := s.Orig.IP, s.Resp.IP, s.Orig.Port, s.Resp.Port
	ordered := s.Proto == 6 || s.Proto == 17 || s.Proto == 132 // by address and port, as the id is
	var id *[meter.CommunityIDLen]byte
	switch {
	case a.Is4() && b.Is4():
		x, y := a.As4(), b.As4()
		ka, kb := binary.BigEndian.Uint32(x[:]), binary.BigEndian.Uint32(y[:])
		if ordered && (ka > kb || (ka == kb && pa > pb)) {
			ka, kb, pa, pb = kb, ka, pb, pa
		}
		addrs, rest := uint64(ka)<<32|uint64(kb), uint64(pa)<<32|uint64(pb)<<16|uint64(s.Proto)<<8|1
		e := &c.v4[uint64(hash(c.seed).u64(addrs).u64(rest))%uint64(len(c.v4))]
		if e.addrs == addrs && e.rest == rest {
			return append(dst, e.id[:]...)
		}
		e.addrs, e.rest, id = addrs, rest, &e.id
	case a.Zone() == "" && b.Zone() == "":
		if ordered {
			if k := a.Compare(b); k > 0 || (k == 0 && pa > pb) {
				a, b, pa, pb = b, a, pb, pa
			}
		}
		x, y := a.As16(), b.As16()
		addrs := [4]uint64{binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(x[8:]),
			binary.BigEndian.Uint64(y[:8]), binary.BigEndian.Uint64(y[8:])}
		family := uint64(2)
		if a.Is4() {
			family |= 4
		}
		if b.Is4() {
			family |= 8
		}
		rest := uint64(pa)<<32 | uint64(pb)<<16 | uint64(s.Proto)<<8 | family
		h := hash(c.seed).u64(addrs[0]).u64(addrs[1]).u64(addrs[2]).u64(addrs[3]).u64(rest)
		e := &c.v6[uint64(h)%uint64(len(c.v6))]
		if e.addrs == addrs && e.rest == rest {
			return append(dst, e.id[:]...)
		}
		e.addrs, e.rest, id = addrs, rest, &e.id
	default:
		return meter.AppendCommunityID(dst, s, c.seed)
	}
	n := len(dst)
	dst = meter.AppendCommunityID(dst, s, c.seed)
	copy(id[:], dst[n:])
	return dst
}
