package intel

import (
	"bytes"
	"hash/maphash"
	"net/netip"

	"github.com/gaissmai/bart"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Set is the feeds in force, merged into one index so that a lookup
// probes each structure once whatever the number of feeds. A feed that
// reloads is swapped in by building a new Set with the others as they
// are. Lookups may run on any number of goroutines: nothing is written
// after NewSet.
type Set struct {
	feeds []*Feed

	// Every key leads to the index in refs of its list: all of its hits,
	// already in the order they are reported, including those of the
	// ranges or parent domains that contain it. A lookup therefore stops
	// at its first match.
	refs    []ref
	v4      map[[4]byte]uint32
	v6      map[[16]byte]uint32
	cidrs   *bart.Table[uint32] // nil when no feed lists a CIDR
	domains map[string]uint32   // lowercase name; keys are the feeds' own strings

	// filter holds every address and domain key, so that most misses end
	// in it without touching the maps.
	filter           filter
	listed4, ranged4 *blocks4 // /20s with a listed address, with a range
	addrSeed         uint64
	nameSeed         maphash.Seed
}

// ref is one hit to report: an indicator of a feed. A list is consecutive
// refs, the last of which has lastRef set in feed.
type ref struct{ feed, ind uint32 }

const lastRef = 1 << 31

// IP appends a hit for every listed address equal to ip and every listed
// CIDR containing it, feed by feed, ranges from the narrowest. An
// IPv4-mapped IPv6 address is looked up as IPv4.
func (s *Set) IP(ip netip.Addr, dst []schema.IntelHit) []schema.IntelHit {
	if !ip.IsValid() {
		return dst
	}
	ip = ip.Unmap()
	if ip.Is4() {
		k := ip.As4()
		b := block4(k)
		if s.listed4.has(b) && s.filter.has(hash4(k, s.addrSeed)) {
			if i, ok := s.v4[k]; ok {
				return s.appendHits(dst, i, "ip")
			}
		}
		if !s.ranged4.has(b) {
			return dst
		}
	} else {
		k := ip.As16()
		if s.filter.has(hash16(k, s.addrSeed)) {
			if i, ok := s.v6[k]; ok {
				return s.appendHits(dst, i, "ip")
			}
		}
	}
	// Contains needs no backtracking and is the cheaper test on a miss.
	if s.cidrs == nil || !s.cidrs.Contains(ip) {
		return dst
	}
	i, _ := s.cidrs.Lookup(ip)
	return s.appendHits(dst, i, "ip")
}

// Domain appends a hit for every listed domain that is name or a parent of
// it, feed by feed, the most specific first; field says where the name was
// seen ("dns.query", "tls.sni", "http.host"). Case and a trailing dot do
// not matter.
func (s *Set) Domain(name, field string, dst []schema.IntelHit) []schema.IntelHit {
	var buf [maxDomainLen]byte
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	if len(s.domains) == 0 || len(name) == 0 || len(name) > len(buf) {
		return dst
	}
	key := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		key[i] = c
	}
	// The most specific listed suffix has the whole answer. Listed domains
	// have at least two labels, so the last label alone is never looked up.
	for k := key; ; {
		dot := bytes.IndexByte(k, '.')
		if dot < 0 {
			return dst
		}
		if s.filter.has(maphash.Bytes(s.nameSeed, k)) {
			if i, ok := s.domains[string(k)]; ok {
				return s.appendHits(dst, i, field)
			}
		}
		k = k[dot+1:]
	}
}

func (s *Set) appendHits(dst []schema.IntelHit, i uint32, field string) []schema.IntelHit {
	for {
		r := s.refs[i]
		f := s.feeds[r.feed&^lastRef]
		dst = append(dst, schema.IntelHit{Feed: f.name, Indicator: f.indicator(r.ind), Field: field})
		if r.feed&lastRef != 0 {
			return dst
		}
		i++
	}
}
