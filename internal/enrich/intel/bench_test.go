package intel

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// benchFeeds writes one million indicators in four feeds, shaped like
// public blocklists: mostly addresses, then domains, some ranges, and a CSV
// export with other columns. It returns the configs and some listed
// addresses and domains to look up (1<<16 of each).
func benchFeeds(b *testing.B) (cfgs []FeedConfig, addrs []netip.Addr, domains []string) {
	b.Helper()
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	write := func(name string, lines int, line func(i int) string) {
		var sb strings.Builder
		for i := range lines {
			sb.WriteString(line(i))
			sb.WriteByte('\n')
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		cfgs = append(cfgs, FeedConfig{Name: strings.TrimSuffix(name, filepath.Ext(name)), Path: path})
	}
	write("addresses.txt", 550_000, func(i int) string {
		if i%11 == 0 {
			return randomV6(r).String()
		}
		a := randomV4(r)
		if len(addrs) < 1<<16 {
			addrs = append(addrs, a)
		}
		return a.String()
	})
	write("ranges.txt", 50_000, func(i int) string {
		if i%10 == 0 {
			return netip.PrefixFrom(randomV6(r), 32+r.IntN(33)).Masked().String()
		}
		return netip.PrefixFrom(randomV4(r), 16+r.IntN(15)).Masked().String()
	})
	write("domains.txt", 300_000, func(int) string {
		d := randomDomain(r)
		if len(domains) < 1<<16 {
			domains = append(domains, d)
		}
		return d
	})
	write("export.csv", 100_000, func(i int) string {
		if i == 0 {
			return "first_seen,indicator,type,confidence"
		}
		if i%2 == 0 {
			return "2025-06-01T00:00:00Z," + randomV4(r).String() + ",ip,80"
		}
		return "2025-06-01T00:00:00Z," + randomDomain(r) + ",domain,60"
	})
	return cfgs, addrs, domains
}

func randomV4(r *rand.Rand) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
}

func randomV6(r *rand.Rand) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0x20, 0x01
	for i := 2; i < 16; i++ {
		a[i] = byte(r.Uint32())
	}
	return netip.AddrFrom16(a)
}

var tlds = []string{"com", "net", "org", "ru", "cn", "xyz", "top", "info", "io", "example"}

func randomDomain(r *rand.Rand) string {
	var sb strings.Builder
	for range 6 + r.IntN(10) {
		sb.WriteByte(byte('a' + r.IntN(26)))
	}
	return sb.String() + "." + tlds[r.IntN(len(tlds))]
}

func loadAll(b *testing.B, cfgs []FeedConfig) []*Feed {
	feeds := make([]*Feed, len(cfgs))
	for i, c := range cfgs {
		f, err := LoadFeed(c)
		if err != nil {
			b.Fatal(err)
		}
		if n, errs := f.Rejected(); n > 0 {
			b.Fatalf("%s: %d rejected: %v", c.Path, n, errs)
		}
		feeds[i] = f
	}
	return feeds
}

// BenchmarkLoad loads the million indicators; heap-B/indicator is what the
// loaded feeds keep on the heap.
func BenchmarkLoad(b *testing.B) {
	cfgs, _, _ := benchFeeds(b)
	var before, after runtime.MemStats
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		feeds := loadAll(b, cfgs)
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := 0
		for _, f := range feeds {
			n += f.Len()
		}
		b.ReportMetric(float64(n), "indicators")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/indicator")
		runtime.KeepAlive(feeds)
	}
}

// BenchmarkNewSet merges the loaded feeds; heap-B/indicator is what the
// Set adds to them, filter-fp-% how many addresses it does not hold pass
// its filter.
func BenchmarkNewSet(b *testing.B) {
	cfgs, _, _ := benchFeeds(b)
	feeds := loadAll(b, cfgs)
	n := 0
	for _, f := range feeds {
		n += f.Len()
	}
	var before, after runtime.MemStats
	var s *Set
	for b.Loop() {
		b.StopTimer()
		s = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		s = NewSet(feeds...)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/indicator")
		b.StartTimer()
	}
	r := rand.New(rand.NewPCG(9, 10))
	tried, passed := 0, 0
	for range 100_000 {
		k := randomV4(r).As4()
		if _, listed := s.v4[k]; !listed {
			tried++
			if s.filter.has(hash4(k, s.addrSeed)) {
				passed++
			}
		}
	}
	b.ReportMetric(100*float64(passed)/float64(tried), "filter-fp-%")
}

// Warm lookups repeat 256 keys, as a sensor sees the same peers again and
// again; cold ones cycle through 65 536, more than the caches hold of the
// index, so each is served from memory.
const warm = 256

func BenchmarkIP(b *testing.B) {
	cfgs, listed, _ := benchFeeds(b)
	s := NewSet(loadAll(b, cfgs)...)
	r := rand.New(rand.NewPCG(3, 4))
	misses := func(n int, random func(*rand.Rand) netip.Addr) []netip.Addr {
		var out []netip.Addr
		for len(out) < n {
			if a := random(r); len(s.IP(a, nil)) == 0 {
				out = append(out, a)
			}
		}
		return out
	}
	for _, bm := range []struct {
		name  string
		addrs []netip.Addr
	}{
		{"hit-warm", listed[:warm]},
		{"hit-cold", listed},
		{"miss-v4-warm", misses(warm, randomV4)},
		{"miss-v4-cold", misses(1<<16, randomV4)},
		{"miss-v6-warm", misses(warm, randomV6)},
		{"miss-v6-cold", misses(1<<16, randomV6)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			dst := make([]schema.IntelHit, 0, 16)
			i := 0
			for b.Loop() {
				dst = s.IP(bm.addrs[i%len(bm.addrs)], dst[:0])
				i++
			}
		})
	}
}

func BenchmarkDomain(b *testing.B) {
	cfgs, _, listed := benchFeeds(b)
	s := NewSet(loadAll(b, cfgs)...)
	r := rand.New(rand.NewPCG(5, 6))
	hits := make([]string, len(listed))
	for i, d := range listed {
		hits[i] = "WWW." + d + "."
	}
	misses := func(n int) []string {
		var out []string
		for len(out) < n {
			if d := "www." + randomDomain(r); len(s.Domain(d, "dns.query", nil)) == 0 {
				out = append(out, d)
			}
		}
		return out
	}
	for _, bm := range []struct {
		name  string
		names []string
	}{
		{"hit-subdomain-warm", hits[:warm]},
		{"hit-subdomain-cold", hits},
		{"miss-warm", misses(warm)},
		{"miss-cold", misses(1 << 16)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			dst := make([]schema.IntelHit, 0, 16)
			i := 0
			for b.Loop() {
				dst = s.Domain(bm.names[i%len(bm.names)], "dns.query", dst[:0])
				i++
			}
		})
	}
}

func Example() {
	dir, _ := os.MkdirTemp("", "intel")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "c2.txt")
	_ = os.WriteFile(path, []byte("203.0.113.0/24 # C2 hosting\nevil.example\n"), 0o600)

	feed, err := LoadFeed(FeedConfig{Name: "c2", Path: path})
	if err != nil {
		fmt.Println(err)
		return
	}
	set := NewSet(feed)
	hits := set.IP(netip.MustParseAddr("203.0.113.7"), nil)
	hits = set.Domain("cdn.Evil.Example.", "tls.sni", hits)
	for _, h := range hits {
		fmt.Println(h.Feed, h.Indicator, h.Field)
	}
	// Output:
	// c2 203.0.113.0/24 ip
	// c2 evil.example tls.sni
}
