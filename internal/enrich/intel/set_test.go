package intel

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func testSet(t *testing.T) *Set {
	t.Helper()
	a := mustLoad(t, FeedConfig{Name: "a"}, "a.txt", `
203.0.113.7
10.0.0.0/8
10.1.0.0/16
10.1.2.0/24
10.1.2.3
::ffff:192.0.2.0/120
2001:db8::1
2001:db8:bad::/48
Evil.Example.
*.tracker.example
`)
	b := mustLoad(t, FeedConfig{Name: "b"}, "b.csv", "indicator\n10.1.2.3\na.b.evil.example\n0.0.0.0/0\n")
	return NewSet(a, nil, b)
}

func TestSetIP(t *testing.T) {
	s := testSet(t)
	hit := func(feed, ind string) schema.IntelHit {
		return schema.IntelHit{Feed: feed, Indicator: ind, Field: "ip"}
	}
	tests := []struct {
		name string
		ip   string
		want []schema.IntelHit
	}{
		{name: "exact v4", ip: "203.0.113.7", want: []schema.IntelHit{hit("a", "203.0.113.7"), hit("b", "0.0.0.0/0")}},
		{
			name: "address and nested ranges, narrowest first",
			ip:   "10.1.2.3",
			want: []schema.IntelHit{
				hit("a", "10.1.2.3"), hit("a", "10.1.2.0/24"), hit("a", "10.1.0.0/16"), hit("a", "10.0.0.0/8"),
				hit("b", "10.1.2.3"), hit("b", "0.0.0.0/0"),
			},
		},
		{name: "outer ranges only", ip: "10.1.9.9", want: []schema.IntelHit{hit("a", "10.1.0.0/16"), hit("a", "10.0.0.0/8"), hit("b", "0.0.0.0/0")}},
		{name: "mapped address matches v4", ip: "::ffff:203.0.113.7", want: []schema.IntelHit{hit("a", "203.0.113.7"), hit("b", "0.0.0.0/0")}},
		{name: "mapped range listed", ip: "192.0.2.44", want: []schema.IntelHit{hit("a", "::ffff:192.0.2.0/120"), hit("b", "0.0.0.0/0")}},
		{name: "v6 exact", ip: "2001:db8::1", want: []schema.IntelHit{hit("a", "2001:db8::1")}},
		{name: "v6 with zone", ip: "2001:db8::1%eth0", want: []schema.IntelHit{hit("a", "2001:db8::1")}},
		{name: "v6 range", ip: "2001:db8:bad:1::5", want: []schema.IntelHit{hit("a", "2001:db8:bad::/48")}},
		{name: "v6 miss", ip: "2001:db8:1::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.IP(netip.MustParseAddr(tt.ip), nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("IP(%s) (-want +got):\n%s", tt.ip, diff)
			}
		})
	}
	if got := s.IP(netip.Addr{}, nil); got != nil {
		t.Errorf("IP(invalid) = %v", got)
	}
}

func TestSetDomain(t *testing.T) {
	s := testSet(t)
	hit := func(feed, ind string) schema.IntelHit {
		return schema.IntelHit{Feed: feed, Indicator: ind, Field: "tls.sni"}
	}
	tests := []struct {
		name string
		in   string
		want []schema.IntelHit
	}{
		{name: "listed name", in: "evil.example", want: []schema.IntelHit{hit("a", "Evil.Example.")}},
		{name: "case and trailing dot", in: "EVIL.example.", want: []schema.IntelHit{hit("a", "Evil.Example.")}},
		{name: "subdomain, most specific first", in: "x.A.b.Evil.example", want: []schema.IntelHit{hit("a", "Evil.Example."), hit("b", "a.b.evil.example")}},
		{name: "wildcard matches its base", in: "tracker.example", want: []schema.IntelHit{hit("a", "*.tracker.example")}},
		{name: "wildcard matches below", in: "cdn.tracker.example", want: []schema.IntelHit{hit("a", "*.tracker.example")}},
		{name: "suffix that is not a label", in: "notevil.example"},
		{name: "parent of listed", in: "example"},
		{name: "empty", in: ""},
		{name: "dot", in: "."},
		{name: "too long", in: string(make([]byte, 300))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Domain(tt.in, "tls.sni", nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Domain(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestSetAppends(t *testing.T) {
	s := testSet(t)
	dst := []schema.IntelHit{{Feed: "earlier"}}
	dst = s.Domain("evil.example", "dns.query", dst)
	dst = s.IP(netip.MustParseAddr("2001:db8::1"), dst)
	want := []schema.IntelHit{
		{Feed: "earlier"},
		{Feed: "a", Indicator: "Evil.Example.", Field: "dns.query"},
		{Feed: "a", Indicator: "2001:db8::1", Field: "ip"},
	}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSetMissAllocatesNothing(t *testing.T) {
	s := NewSet(testSet(t).feeds[0]) // without b's 0.0.0.0/0
	v4, v6 := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8:1::1")
	dst := make([]schema.IntelHit, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		dst = s.IP(v4, dst[:0])
		dst = s.IP(v6, dst[:0])
		dst = s.Domain("www.Example.COM.", "dns.query", dst[:0])
	})
	if allocs != 0 || len(dst) != 0 {
		t.Errorf("%v allocations, %d hits on a miss", allocs, len(dst))
	}
	allocs = testing.AllocsPerRun(100, func() {
		dst = s.IP(netip.MustParseAddr("10.1.2.3"), dst[:0])
		dst = s.Domain("a.evil.example", "dns.query", dst[:0])
	})
	if allocs != 0 {
		t.Errorf("%v allocations on hits into a buffer with room", allocs)
	}
}

// TestSetConcurrent is for the race detector: lookups share feeds with no
// lock, and a set is rebuilt while others read the old one.
func TestSetConcurrent(t *testing.T) {
	s := testSet(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var dst []schema.IntelHit
			for i := range 1000 {
				dst = s.IP(netip.MustParseAddr("10.1.2.3"), dst[:0])
				dst = s.Domain("a.b.evil.example", "http.host", dst)
				if len(dst) != 8 {
					t.Errorf("%d hits, want 8", len(dst))
					return
				}
				if i%50 == 0 {
					_ = NewSet(s.feeds...)
				}
			}
		})
	}
	wg.Wait()
}
