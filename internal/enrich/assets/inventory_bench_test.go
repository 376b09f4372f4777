package assets

import (
	"fmt"
	"net/netip"
	"testing"
)

const benchAssets = 100_000

// benchSnapshot is a fleet of n assets of one address each in 10.0.0.0/8,
// a tenth with an ENI holding a second address and a mirror session.
func benchSnapshot(n int) *Snapshot {
	s := &Snapshot{Assets: make([]Asset, n)}
	for i := range n {
		id := fmt.Sprintf("i-%08x", i)
		s.Assets[i] = Asset{ID: id, Name: "host-" + id, IPs: []netip.Addr{benchAddr(i)}, Tags: []string{"Role=vm", "vm"}}
		if i%10 == 0 {
			eni := "eni-" + id
			s.Interfaces = append(s.Interfaces, Interface{ID: eni, Asset: id, IPs: []netip.Addr{benchAddr(n + i)}})
			s.Mirrors = append(s.Mirrors, MirrorSession{ID: "tmms-" + id, VNI: uint32(i), Interface: eni})
		}
	}
	return s
}

func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

func BenchmarkNewInventory(b *testing.B) {
	snap := benchSnapshot(benchAssets)
	b.ReportAllocs()
	for b.Loop() {
		NewInventory(snap)
	}
}

func BenchmarkByIP(b *testing.B) {
	inv := NewInventory(benchSnapshot(benchAssets))
	hits := make([]netip.Addr, 1024)
	misses := make([]netip.Addr, 1024)
	for i := range hits {
		hits[i] = benchAddr(i * 97 % benchAssets)
		misses[i] = netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)})
	}
	for _, tc := range []struct {
		name string
		ips  []netip.Addr
		want bool
	}{{"hit", hits, true}, {"miss", misses, false}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if (inv.ByIP(tc.ips[i&1023]) != nil) != tc.want {
					b.Fatal("wrong answer")
				}
				i++
			}
		})
	}
}

func BenchmarkByMirror(b *testing.B) {
	inv := NewInventory(benchSnapshot(benchAssets))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n := (i & 1023) * 10
		if s, _, _ := inv.ByMirror(benchAddr(benchAssets+n), uint32(n)); s == nil {
			b.Fatal("no session")
		}
		i++
	}
}
