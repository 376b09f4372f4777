// Package netmap maps IP addresses to the tags and segment of the CIDR
// ranges that hold them, by longest-prefix match.
//
// Ranges come from files the user writes (LoadFile: YAML, JSON or CSV)
// and from AWS's published ip-ranges.json (LoadAWSIPRanges). NewMap
// combines any number of such sets into an immutable Map:
//
//   - An address's tags are the sorted, unique union of the tags of every
//     range that holds it, from /0 down to the most specific.
//   - Its segment is that of the most specific range holding it that has
//     a segment. When none has one, the segment is "internet" for public
//     space and "unknown-private" for the rest (see IsPublic).
//   - The same prefix in several sets, or twice in one set, is one range:
//     the tags merge and the last segment given wins, so user files
//     applied after AWS's ranges can name a segment for an AWS prefix.
//   - IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are looked up as IPv4.
//
// Each prefix's answer is resolved when the map is built, so a lookup is
// one longest-prefix match in a github.com/gaissmai/bart table, without
// allocation and safe for any number of goroutines.
package netmap

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// Segments given to addresses that no range with a segment holds.
const (
	SegmentInternet       = "internet"
	SegmentUnknownPrivate = "unknown-private"
)

// Range is a CIDR prefix with its tags and segment; both may be empty.
type Range struct {
	Prefix  netip.Prefix
	Tags    []string
	Segment string
}

// Map answers which tags and segment an address has. It is immutable
// once built and safe for concurrent use.
type Map struct {
	table bart.Fast[*answer]
}

// answer is what every address whose longest match is one prefix gets:
// the tags and the segment resolved over that prefix and its supernets.
type answer struct {
	tags    []string
	segment string // "" when no containing range has one
}

// NewMap builds a Map from sets of ranges; later sets win a prefix's
// segment, tags merge. Ranges with an invalid prefix are ignored;
// IPv4-mapped IPv6 prefixes are never matched, as lookups unmap
// addresses (the loaders reject both).
func NewMap(sets ...[]Range) *Map {
	own := map[netip.Prefix]*answer{}
	for _, set := range sets {
		for _, r := range set {
			if !r.Prefix.IsValid() {
				continue
			}
			p := r.Prefix.Masked()
			a := own[p]
			if a == nil {
				a = &answer{}
				own[p] = a
			}
			a.tags = append(a.tags, r.Tags...)
			if r.Segment != "" {
				a.segment = r.Segment
			}
		}
	}

	// Shorter prefixes first: when a prefix is resolved, every supernet
	// already is, and the nearest one is its longest match in the table.
	prefixes := make([]netip.Prefix, 0, len(own))
	for p := range own {
		prefixes = append(prefixes, p)
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int { return a.Bits() - b.Bits() })

	m := &Map{}
	interned := map[string][]string{}
	for _, p := range prefixes {
		a := own[p]
		_, parent, ok := m.table.LookupPrefixLPM(p)
		switch {
		case ok && len(a.tags) == 0:
			a.tags = parent.tags
		case ok:
			a.tags = intern(interned, append(a.tags, parent.tags...))
		default:
			a.tags = intern(interned, a.tags)
		}
		if ok && a.segment == "" {
			a.segment = parent.segment
		}
		m.table.Insert(p, a)
	}
	return m
}

// intern sorts and dedups tags in place and returns the one shared slice
// for that set: big imports repeat a few sets over thousands of prefixes.
func intern(seen map[string][]string, tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	key := strings.Join(tags, "\x00")
	if s, ok := seen[key]; ok && slices.Equal(s, tags) { // tags may hold "\x00"
		return s
	}
	tags = slices.Clip(tags)
	seen[key] = tags
	return tags
}

// Lookup returns ip's tags and segment. The tags are shared by every
// caller: they must not be modified. An invalid ip has neither.
func (m *Map) Lookup(ip netip.Addr) (tags []string, segment string) {
	if !ip.IsValid() {
		return nil, ""
	}
	ip = ip.Unmap()
	if a, ok := m.table.Lookup(ip); ok {
		if a.segment != "" {
			return a.tags, a.segment
		}
		tags = a.tags
	}
	if IsPublic(ip) {
		return tags, SegmentInternet
	}
	return tags, SegmentUnknownPrivate
}
