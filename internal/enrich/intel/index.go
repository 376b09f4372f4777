package intel

import (
	"cmp"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// NewSet merges feeds, in the order their hits are listed; nil feeds are
// left out. It probes a map for every indicator of every feed, which takes
// a fraction of a second for a million: build Sets off the lookup path.
func NewSet(feeds ...*Feed) *Set {
	s := &Set{listed4: new(blocks4), ranged4: new(blocks4), addrSeed: rand.Uint64(), nameSeed: maphash.MakeSeed()}
	keys, entries := 0, 0
	for _, f := range feeds {
		if f != nil {
			s.feeds = append(s.feeds, f)
			keys += len(f.v4) + len(f.v6) + len(f.domains)
			entries += f.Len()
		}
	}
	// Lists hold one ref per entry, more only where keys nest.
	s.refs = make([]ref, 0, entries)
	s.filter = newFilter(keys)

	// Ranges first, the widest first, so that every key finds the list of
	// what contains it already built.
	prefixes := func(f *Feed) []entry[netip.Prefix] { return f.prefixes }
	if n := total(s.feeds, prefixes); n > 0 {
		s.cidrs = new(bart.Table[uint32])
		index(s, make(map[netip.Prefix]uint32, n), prefixes,
			func(a, b netip.Prefix) int { return cmp.Compare(a.Bits(), b.Bits()) },
			func(p netip.Prefix) (uint32, bool) {
				if p.Bits() == 0 {
					return 0, false
				}
				return s.cidrs.LookupPrefix(netip.PrefixFrom(p.Addr(), p.Bits()-1))
			}, func(p netip.Prefix, i uint32) {
				s.cidrs.Insert(p, i)
				if p.Addr().Is4() {
					s.ranged4.mark(p)
				}
			})
	}

	v4 := func(f *Feed) []entry[[4]byte] { return f.v4 }
	s.v4 = make(map[[4]byte]uint32, total(s.feeds, v4))
	index(s, s.v4, v4, nil,
		func(k [4]byte) (uint32, bool) { return s.inRange(netip.AddrFrom4(k)) },
		func(k [4]byte, _ uint32) {
			s.filter.add(hash4(k, s.addrSeed))
			s.listed4.mark(netip.PrefixFrom(netip.AddrFrom4(k), 32))
		})

	v6 := func(f *Feed) []entry[[16]byte] { return f.v6 }
	s.v6 = make(map[[16]byte]uint32, total(s.feeds, v6))
	index(s, s.v6, v6, nil,
		func(k [16]byte) (uint32, bool) { return s.inRange(netip.AddrFrom16(k)) },
		func(k [16]byte, _ uint32) { s.filter.add(hash16(k, s.addrSeed)) })

	// A parent domain is shorter than its subdomains.
	domains := func(f *Feed) []entry[string] { return f.domains }
	s.domains = make(map[string]uint32, total(s.feeds, domains))
	index(s, s.domains, domains, func(a, b string) int { return cmp.Compare(len(a), len(b)) },
		s.parentDomain,
		func(k string, _ uint32) { s.filter.add(maphash.String(s.nameSeed, k)) })
	return s
}

func total[K any](feeds []*Feed, of func(*Feed) []entry[K]) int {
	n := 0
	for _, f := range feeds {
		n += len(of(f))
	}
	return n
}

// index puts in lists every distinct key the feeds list (of) with the
// position of its list in s.refs. order, when not nil, sorts the keys so
// that what contains a key comes before it: within gives the list of what
// contains a key, if any. put sees every key with its list.
func index[K comparable](s *Set, lists map[K]uint32, of func(*Feed) []entry[K], order func(a, b K) int,
	within func(K) (uint32, bool), put func(K, uint32)) {
	type first struct {
		key K
		ref ref
	}
	// Keys listed by more than one feed are rare: their other refs wait
	// in a small map, in feed order.
	firsts := make([]first, 0, total(s.feeds, of))
	var more map[K][]ref
	for i, f := range s.feeds {
		for _, e := range of(f) {
			// Every value is 0 until the lists are built, so storing one
			// tells a new key by the length, at the cost of one probe.
			r, n := ref{feed: uint32(i), ind: e.ind}, len(lists)
			if lists[e.key] = 0; len(lists) > n {
				firsts = append(firsts, first{key: e.key, ref: r})
				continue
			}
			if more == nil {
				more = map[K][]ref{}
			}
			more[e.key] = append(more[e.key], r)
		}
	}
	if order != nil {
		slices.SortFunc(firsts, func(a, b first) int { return order(a.key, b.key) })
	}
	var own []ref
	for _, k := range firsts {
		own = append(own[:0], k.ref)
		if more != nil {
			own = append(own, more[k.key]...)
		}
		up, ok := within(k.key)
		i := s.appendList(own, up, ok)
		lists[k.key] = i
		put(k.key, i)
	}
}

// appendList adds a key's own refs, ordered by feed, merged with the list
// of what contains it (up, when ok); within a feed the key's own come
// first, being the more specific.
func (s *Set) appendList(own []ref, up uint32, ok bool) uint32 {
	var outer []ref
	if ok {
		outer = s.list(up)
	}
	start := uint32(len(s.refs))
	for len(own) > 0 || len(outer) > 0 {
		if len(outer) == 0 || len(own) > 0 && own[0].feed <= outer[0].feed&^lastRef {
			s.refs, own = append(s.refs, own[0]), own[1:]
		} else {
			s.refs, outer = append(s.refs, ref{feed: outer[0].feed &^ lastRef, ind: outer[0].ind}), outer[1:]
		}
	}
	s.refs[len(s.refs)-1].feed |= lastRef
	return start
}

func (s *Set) list(i uint32) []ref {
	j := i
	for s.refs[j].feed&lastRef == 0 {
		j++
	}
	return s.refs[i : j+1]
}

func (s *Set) inRange(a netip.Addr) (uint32, bool) {
	if s.cidrs == nil {
		return 0, false
	}
	return s.cidrs.Lookup(a)
}

// parentDomain is the list of the nearest listed parent of d.
func (s *Set) parentDomain(d string) (uint32, bool) {
	for {
		dot := strings.IndexByte(d, '.')
		d = d[dot+1:]
		if strings.IndexByte(d, '.') < 0 {
			return 0, false
		}
		if i, ok := s.domains[d]; ok {
			return i, true
		}
	}
}
