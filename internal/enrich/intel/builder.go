package intel

import "net/netip"

// builder gathers a feed's indicators while its file is parsed.
type builder struct {
	path string

	text    []byte   // every kept indicator as written, back to back
	offsets []uint32 // indicator i is text[offsets[i]:offsets[i+1]]
	keys    []byte   // domain keys that differ from the text as written

	// Maps drop repeats while parsing; the feed keeps their entries.
	v4       map[[4]byte]uint32
	v6       map[[16]byte]uint32
	prefixes map[netip.Prefix]uint32
	domains  []pendingDomain

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
		path:     path,
		offsets:  []uint32{0},
		v4:       map[[4]byte]uint32{},
		v6:       map[[16]byte]uint32{},
		prefixes: map[netip.Prefix]uint32{},
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
		if _, dup := b.prefixes[ind.prefix]; !dup {
			b.prefixes[ind.prefix] = b.appendText(written)
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

// feed freezes what was gathered.
func (b *builder) feed(name string) *Feed {
	f := &Feed{
		name:     name,
		text:     string(b.text),
		offsets:  b.offsets,
		v4:       entries(b.v4),
		v6:       entries(b.v6),
		prefixes: entries(b.prefixes),
		rejected: b.rejected,
		errs:     b.firstErrs,
		skipped:  b.skipped,
	}
	keys := string(b.keys)
	domains := make(map[string]uint32, len(b.domains))
	for _, p := range b.domains {
		k := f.text[p.start:p.end]
		if p.inKeys {
			k = keys[p.start:p.end]
		}
		if _, dup := domains[k]; !dup {
			domains[k] = p.index
		}
	}
	f.domains = entries(domains)
	return f
}

func entries[K comparable](m map[K]uint32) []entry[K] {
	out := make([]entry[K], 0, len(m))
	for k, i := range m {
		out = append(out, entry[K]{key: k, ind: i})
	}
	return out
}
