package geo

import (
	"fmt"
	"net/netip"
	"testing"
)

// benchFiles are the databases of benchDB, built once: mmdbwriter takes
// seconds to.
var benchFiles []*file

// benchDB opens a City-like and an ASN database of 16 Ki /24 networks
// each (in 81.0.0.0/10), with 256 distinct cities and 512 systems; its
// cache starts empty.
func benchDB(b *testing.B) *DB {
	if benchFiles != nil {
		return &DB{files: benchFiles, cache: &cache{}}
	}
	var cities, systems []network
	for i := range 1 << 14 {
		cidr := fmt.Sprintf("81.%d.%d.0/24", i>>8, i&0xff)
		cities = append(cities, network{cidr, city(fmt.Sprintf("C%c", 'A'+i%26), "", fmt.Sprint("City ", i%256))})
		systems = append(systems, network{cidr, asnOf(uint32(64000+i%512), fmt.Sprint("Network ", i%512))})
	}
	d, err := Open(writeDB(b, "city.mmdb", mmdb(b, "GeoLite2-City", 6, cities...)), writeDB(b, "asn.mmdb", mmdb(b, "GeoLite2-ASN", 6, systems...)))
	if err != nil {
		b.Fatal(err)
	}
	benchFiles = d.files
	return d
}

// benchAddr is the i-th address of the databases' 81.0.0.0/10 space.
func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{81, byte(i>>16) & 0x3f, byte(i >> 8), byte(i)})
}

// BenchmarkLookupHit cycles through 4096 addresses, all in the cache.
func BenchmarkLookupHit(b *testing.B) {
	d := benchDB(b)
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = benchAddr(i * 251)
		d.Lookup(addrs[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Lookup(addrs[i&4095])
		i++
	}
}

func BenchmarkLookupHitParallel(b *testing.B) {
	d := benchDB(b)
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = benchAddr(i * 251)
		d.Lookup(addrs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			d.Lookup(addrs[i&4095])
			i++
		}
	})
}

// BenchmarkLookupMiss asks for a new address every time: both databases
// are read and the answer stored.
func BenchmarkLookupMiss(b *testing.B) {
	d := benchDB(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Lookup(benchAddr(i))
		i++
	}
}

// BenchmarkLookupMissUnknown asks for new addresses no database knows.
func BenchmarkLookupMissUnknown(b *testing.B) {
	d := benchDB(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Lookup(netip.AddrFrom4([4]byte{9, byte(i >> 16), byte(i >> 8), byte(i)}))
		i++
	}
}
