package netmap

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// benchRanges makes n ranges, one in five IPv6, with /8…/32 (IPv4) and
// /16…/128 (IPv6) prefixes, tags from a pool of 40 and one in three with
// a segment; and 4096 addresses of each family to look up, half in some
// range and half random.
func benchRanges(n int) (ranges []Range, addrs4, addrs6 []netip.Addr) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func(v6 bool) netip.Addr {
		var a [16]byte
		for j := range a {
			a[j] = byte(rnd.Uint32())
		}
		if v6 {
			a[0] = 0x20 | a[0]&0x0f // global unicast
			return netip.AddrFrom16(a)
		}
		return netip.AddrFrom4([4]byte(a[:4]))
	}
	// within is a random address of p.
	within := func(p netip.Prefix) netip.Addr {
		a, r := p.Addr().As16(), random(true).As16()
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 96
		}
		for i := bits; i < 128; i++ {
			a[i/8] = a[i/8]&^(0x80>>(i%8)) | r[i/8]&(0x80>>(i%8))
		}
		return netip.AddrFrom16(a).Unmap()
	}
	for i := range n {
		v6 := i%5 == 0
		bits := 8 + rnd.IntN(25)
		if v6 {
			bits = 16 + rnd.IntN(113)
		}
		p := netip.PrefixFrom(random(v6), bits).Masked()
		r := Range{Prefix: p, Tags: []string{fmt.Sprint("tag", rnd.IntN(40))}}
		if i%3 == 0 {
			r.Segment = fmt.Sprint("seg", rnd.IntN(10))
		}
		ranges = append(ranges, r)
	}
	for len(addrs4) < 4096 || len(addrs6) < 4096 {
		r := ranges[rnd.IntN(len(ranges))]
		a := within(r.Prefix)
		if rnd.IntN(2) == 0 {
			a = random(a.Is6())
		}
		if a.Is4() && len(addrs4) < 4096 {
			addrs4 = append(addrs4, a)
		} else if a.Is6() && len(addrs6) < 4096 {
			addrs6 = append(addrs6, a)
		}
	}
	return ranges, addrs4, addrs6
}

// BenchmarkLookup looks up 4096 addresses of each family in a map of
// 50 000 ranges.
func BenchmarkLookup(b *testing.B) {
	ranges, addrs4, addrs6 := benchRanges(50_000)
	m := NewMap(ranges)
	for _, family := range []struct {
		name  string
		addrs []netip.Addr
	}{{"ipv4", addrs4}, {"ipv6", addrs6}} {
		b.Run(family.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Lookup(family.addrs[i&4095])
				i++
			}
		})
	}
}

func BenchmarkLookupParallel(b *testing.B) {
	ranges, addrs4, _ := benchRanges(50_000)
	m := NewMap(ranges)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Lookup(addrs4[i&4095])
			i++
		}
	})
}

func BenchmarkNewMap(b *testing.B) {
	ranges, _, _ := benchRanges(50_000)
	b.ReportAllocs()
	for b.Loop() {
		NewMap(ranges)
	}
}
