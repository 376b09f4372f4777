package flowlog

import (
	"net/netip"

	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// communityIDs remembers recent community ids. Both directions of a
// connection have the same id, and a long connection shows up again every
// window, so a flow log asks for most ids more than once; a hit saves the
// SHA-1 and the string. The table is direct-mapped: a new tuple simply
// takes its slot.
type communityIDs struct {
	seed    uint16
	entries [4096]communityEntry
}

type communityEntry struct {
	a, b   netip.Addr
	pa, pb uint16
	proto  uint8
	id     string
}

func (c *communityIDs) get(s *schema.Session) string {
	a, b, pa, pb := s.Orig.IP, s.Resp.IP, s.Orig.Port, s.Resp.Port
	switch s.Proto {
	case 6, 17, 132: // ordered by address and port, as the id is
		if k := a.Compare(b); k > 0 || (k == 0 && pa > pb) {
			a, b, pa, pb = b, a, pb, pa
		}
	}
	h := hash(c.seed).addr(a).addr(b).u64(uint64(pa)<<24 | uint64(pb)<<8 | uint64(s.Proto))
	e := &c.entries[uint64(h)%uint64(len(c.entries))]
	if e.id != "" && e.a == a && e.b == b && e.pa == pa && e.pb == pb && e.proto == s.Proto {
		return e.id
	}
	*e = communityEntry{a: a, b: b, pa: pa, pb: pb, proto: s.Proto, id: meter.CommunityID(s, c.seed)}
	return e.id
}
