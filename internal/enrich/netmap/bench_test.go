package netmap

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// benchRanges makes n ranges, one in five IPv6, with /8…/32 (IPv4) and
// /16…/128 (IPv6) prefixes, tags from a pool of 40 and one in three with
// a segment, and addresses for lookups: half in some range, half random.
func benchRanges(n int) ([]Range, []netip.Addr) {
	rnd := rand.New(rand.NewPCG(1, 2))
	ranges := make([]Range, n)
	addrs := make([]netip.Addr, 0, 1<<14)
	for i := range ranges {
		var a [16]byte
		for j := range a {
			a[j] = byte(rnd.Uint32())
		}
		var p netip.Prefix
		if i%5 == 0 {
			a[0] = 0x20 | a[0]&0x0f // global unicast
			p = netip.PrefixFrom(netip.AddrFrom16(a), 16+rnd.IntN(113)).Masked()
		} else {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte(a[:4])), 8+rnd.IntN(25)).Masked()
		}
		r := Range{Prefix: p, Tags: []string{fmt.Sprint("tag", rnd.IntN(40))}}
		if i%3 == 0 {
			r.Segment = fmt.Sprint("seg", rnd.IntN(10))
		}
		ranges[i] = r
		if len(addrs) < cap(addrs)/2 {
			addrs = append(addrs, p.Addr())
		}
	}
	for len(addrs) < cap(addrs) {
		addrs = append(addrs, netip.AddrFrom4([4]byte{byte(rnd.Uint32()), byte(rnd.Uint32()), byte(rnd.Uint32()), byte(rnd.Uint32())}))
	}
	rnd.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	return ranges, addrs
}

func BenchmarkLookup(b *testing.B) {
	ranges, addrs := benchRanges(50_000)
	m := NewMap(ranges)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Lookup(addrs[i&(len(addrs)-1)])
		i++
	}
}

func BenchmarkLookupParallel(b *testing.B) {
	ranges, addrs := benchRanges(50_000)
	m := NewMap(ranges)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Lookup(addrs[i&(len(addrs)-1)])
			i++
		}
	})
}

func BenchmarkNewMap(b *testing.B) {
	ranges, _ := benchRanges(50_000)
	b.ReportAllocs()
	for b.Loop() {
		NewMap(ranges)
	}
}
