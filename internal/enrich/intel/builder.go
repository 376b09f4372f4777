package intel

import (
	"net/netip"

	"github.com/gaissmai/bart"
)

// builder gathers a feed's indicators while its file is parsed.
type builder struct {
	path string

	text    []byte   // every kept indicator as written, back to back
	offsets []uint32 // indicator i is text[offsets[i]:offsets[i+1]]
	keys    []byte   // domain keys that differ from the text as written

	v4      map[[4]byte]uint32
	v6      map[[16]byte]uint32
	cidrs   *bart.Table[uint32] // value: index into ranges
	ranges  []cidrRange
	domains []pendingDomain

	rejected  int
	firstErrs []error
	skipped   SkipCounts
}

// pendingDomain waits for the final text so that its map key can be a
// substring of it rather than a string of its own.
type pendingDomain struct {
	index      uint32
	inKeys     bool // key is keys[start:end], else text[start:end]
	start, end uint32
}

func newBuilder(path string) *builder {
	return &builder{
		path:    path,
		offsets: []uint32{0},
		v4:      map[[4]byte]uint32{},
		v6:      map[[16]byte]uint32{},
		cidrs:   new(bart.Table[uint32]),
	}
}

// reject counts a bad record and keeps its error if it is among the first.
func (b *builder) reject(err error) {
	b.rejected++
	if len(b.firstErrs) < keptErrors {
		b.firstErrs = append(b.firstErrs, err)
	}
}

// add stores ind under the text the feed wrote for it; repeats are dropped.
func (b *builder) add(written string, ind indicator) {
	switch ind.kind {
	case kindAddr:
		if ind.addr.Is4() {
			k := ind.addr.As4()
			if _, dup := b.v4[k]; !dup {
				b.v4[k] = b.appendText(written)
			}
			return
		}
		k := ind.addr.As16()
		if _, dup := b.v6[k]; !dup {
			b.v6[k] = b.appendText(written)
		}
	case kindPrefix:
		if _, dup := b.cidrs.Get(ind.prefix); !dup {
			b.cidrs.Insert(ind.prefix, uint32(len(b.ranges)))
			b.ranges = append(b.ranges, cidrRange{indicator: b.appendText(written)})
		}
	case kindDomain:
		i := b.appendText(written)
		p := pendingDomain{index: i, start: b.offsets[i], end: b.offsets[i+1]}
		if ind.domain != written {
			p.inKeys, p.start = true, uint32(len(b.keys))
			b.keys = append(b.keys, ind.domain...)
			p.end = uint32(len(b.keys))
		}
		b.domains = append(b.domains, p)
	}
}

func (b *builder) appendText(s string) uint32 {
	b.text = append(b.text, s...)
	b.offsets = append(b.offsets, uint32(len(b.text)))
	return uint32(len(b.offsets) - 2)
}

// feed freezes what was gathered. Each CIDR is linked to the next larger
// CIDR of the feed that contains it, so that a lookup can list every range
// holding an address from one longest-prefix match, without an iterator.
func (b *builder) feed(name string) *Feed {
	f := &Feed{
		name:     name,
		text:     string(b.text),
		offsets:  b.offsets,
		v4:       b.v4,
		v6:       b.v6,
		ranges:   b.ranges,
		domains:  make(map[string]uint32, len(b.domains)),
		rejected: b.rejected,
		errs:     b.firstErrs,
		skipped:  b.skipped,
	}
	if len(b.ranges) > 0 {
		f.cidrs = b.cidrs
		for p, r := range b.cidrs.All() {
			if p.Bits() == 0 {
				continue
			}
			wider := netip.PrefixFrom(p.Addr(), p.Bits()-1)
			if up, ok := b.cidrs.LookupPrefix(wider); ok {
				f.ranges[r].wider = up + 1
			}
		}
	}
	keys := string(b.keys)
	for _, p := range b.domains {
		k := f.text[p.start:p.end]
		if p.inKeys {
			k = keys[p.start:p.end]
		}
		if _, dup := f.domains[k]; !dup {
			f.domains[k] = p.index
		}
	}
	return f
}
