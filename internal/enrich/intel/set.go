package intel

import (
	"bytes"
	"net/netip"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Set is the feeds in force. Building one only holds the feeds, so a feed
// that reloads is swapped in by building a new Set with the others as they
// are. Lookups may run on any number of goroutines: nothing is written
// after loading.
type Set struct {
	feeds []*Feed
}

// NewSet holds feeds, in the order their hits are listed; nil feeds are
// left out.
func NewSet(feeds ...*Feed) *Set {
	s := &Set{feeds: make([]*Feed, 0, len(feeds))}
	for _, f := range feeds {
		if f != nil {
			s.feeds = append(s.feeds, f)
		}
	}
	return s
}

// IP appends a hit for every listed address equal to ip and every listed
// CIDR containing it, feed by feed, ranges from the narrowest. An
// IPv4-mapped IPv6 address is looked up as IPv4.
func (s *Set) IP(ip netip.Addr, dst []schema.IntelHit) []schema.IntelHit {
	if !ip.IsValid() {
		return dst
	}
	ip = ip.Unmap()
	is4 := ip.Is4()
	var k4 [4]byte
	var k16 [16]byte
	if is4 {
		k4 = ip.As4()
	} else {
		k16 = ip.As16()
	}
	for _, f := range s.feeds {
		var i uint32
		var ok bool
		switch {
		case is4 && len(f.v4) > 0:
			i, ok = f.v4[k4]
		case !is4 && len(f.v6) > 0:
			i, ok = f.v6[k16]
		}
		if ok {
			dst = append(dst, schema.IntelHit{Feed: f.name, Indicator: f.indicator(i), Field: "ip"})
		}
		// Contains needs no backtracking and is the cheaper test on a miss.
		if f.cidrs == nil || !f.cidrs.Contains(ip) {
			continue
		}
		r, ok := f.cidrs.Lookup(ip)
		for ok {
			c := f.ranges[r]
			dst = append(dst, schema.IntelHit{Feed: f.name, Indicator: f.indicator(c.indicator), Field: "ip"})
			r, ok = c.wider-1, c.wider != 0
		}
	}
	return dst
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
	if len(name) == 0 || len(name) > len(buf) {
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
	for _, f := range s.feeds {
		if len(f.domains) == 0 {
			continue
		}
		// Listed domains have at least two labels, so the last label alone
		// is never looked up.
		for k := key; ; {
			dot := bytes.IndexByte(k, '.')
			if dot < 0 {
				break
			}
			if i, ok := f.domains[string(k)]; ok {
				dst = append(dst, schema.IntelHit{Feed: f.name, Indicator: f.indicator(i), Field: field})
			}
			k = k[dot+1:]
		}
	}
	return dst
}
