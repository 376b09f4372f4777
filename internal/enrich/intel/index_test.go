package intel

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestSetMerged(t *testing.T) {
	feed := func(name string, lines ...string) *Feed {
		return mustLoad(t, FeedConfig{Name: name}, name+".txt", strings.Join(lines, "\n"))
	}
	x := feed("x", "198.51.100.7", "192.0.2.0/24", "evil.example", "2001:db8::/32")
	y := feed("y", "198.51.100.7", "192.0.2.9", "192.0.0.0/16", "a.evil.example", "2001:db8::1")
	hit := func(f, ind, field string) schema.IntelHit {
		return schema.IntelHit{Feed: f, Indicator: ind, Field: field}
	}
	tests := []struct {
		name  string
		set   *Set
		ip    string
		fqdn  string
		want  []schema.IntelHit
		field string
	}{
		{name: "address in two feeds", set: NewSet(x, y), ip: "198.51.100.7", want: []schema.IntelHit{hit("x", "198.51.100.7", "ip"), hit("y", "198.51.100.7", "ip")}},
		{name: "feed order is the Set's", set: NewSet(y, x), ip: "198.51.100.7", want: []schema.IntelHit{hit("y", "198.51.100.7", "ip"), hit("x", "198.51.100.7", "ip")}},
		{name: "range of one feed, address of the other", set: NewSet(x, y), ip: "192.0.2.9", want: []schema.IntelHit{hit("x", "192.0.2.0/24", "ip"), hit("y", "192.0.2.9", "ip"), hit("y", "192.0.0.0/16", "ip")}},
		{name: "ranges of both feeds", set: NewSet(y, x), ip: "192.0.2.1", want: []schema.IntelHit{hit("y", "192.0.0.0/16", "ip"), hit("x", "192.0.2.0/24", "ip")}},
		{name: "v6 address inside the other feed's range", set: NewSet(x, y), ip: "2001:db8::1", want: []schema.IntelHit{hit("x", "2001:db8::/32", "ip"), hit("y", "2001:db8::1", "ip")}},
		{name: "parent and subdomain in two feeds", set: NewSet(y, x), fqdn: "b.A.evil.example", want: []schema.IntelHit{hit("y", "a.evil.example", "dns.query"), hit("x", "evil.example", "dns.query")}},
		{name: "only the parent's feed below the parent", set: NewSet(y, x), fqdn: "b.evil.example", want: []schema.IntelHit{hit("x", "evil.example", "dns.query")}},
		{name: "one feed left out", set: NewSet(nil, y), ip: "192.0.2.1", want: []schema.IntelHit{hit("y", "192.0.0.0/16", "ip")}},
		{name: "no feeds", set: NewSet(), ip: "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []schema.IntelHit
			if tt.ip != "" {
				got = tt.set.IP(netip.MustParseAddr(tt.ip), nil)
			} else {
				got = tt.set.Domain(tt.fqdn, "dns.query", nil)
			}
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetMatchesFeeds compares the merged index with looking up each feed
// on its own, over feeds that overlap much more than real ones, with the
// filter as built and with a filter that answers yes to everything: its
// false positives must never become hits.
func TestSetMatchesFeeds(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	feeds := []*Feed{randomFeed(r, "p"), nil, randomFeed(r, "q"), randomFeed(r, "r")}
	saturated := NewSet(feeds...)
	for i := range saturated.filter {
		for w := range saturated.filter[i] {
			saturated.filter[i][w] = ^uint64(0)
		}
	}
	for name, s := range map[string]*Set{"filter": NewSet(feeds...), "saturated": saturated} {
		t.Run(name, func(t *testing.T) {
			for _, ip := range smallUniverse() {
				if diff := gocmp.Diff(feedByFeedIP(feeds, ip), s.IP(ip, nil)); diff != "" {
					t.Fatalf("IP(%s) (-want +got):\n%s", ip, diff)
				}
			}
			for _, d := range smallNames() {
				if diff := gocmp.Diff(feedByFeedDomain(feeds, d), s.Domain(d, "f", nil)); diff != "" {
					t.Fatalf("Domain(%s) (-want +got):\n%s", d, diff)
				}
			}
		})
	}
}

func smallUniverse() []netip.Addr {
	var out []netip.Addr
	for i := range 64 {
		out = append(out, netip.AddrFrom4([4]byte{10, 0, byte(i / 16), byte(i % 16)}),
			netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i % 16), 14: byte(i / 16)}))
	}
	return append(out, netip.MustParseAddr("::ffff:10.0.1.1"), netip.MustParseAddr("192.0.2.1"))
}

func smallNames() []string {
	out := []string{"example", "x.example", "B.A.EXAMPLE."}
	for _, a := range "abc" {
		for _, b := range "abc" {
			for _, c := range "abc" {
				out = append(out, fmt.Sprintf("%c.%c.%c.example", a, b, c), fmt.Sprintf("%c.%c.example", b, c))
			}
		}
	}
	return out
}

// randomFeed lists some of smallUniverse and smallNames, and ranges
// over them.
func randomFeed(r *rand.Rand, name string) *Feed {
	b := newBuilder(name)
	add := func(s string) {
		ind, err := parseIndicator(s)
		if err != nil {
			panic(err)
		}
		b.add(s, ind)
	}
	for _, a := range smallUniverse() {
		if r.IntN(4) == 0 {
			add(a.String())
		}
	}
	for range 12 {
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(4)), byte(r.IntN(16))}), 8+r.IntN(22)).Masked().String())
		v6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(r.IntN(4)), 15: byte(r.IntN(16))})
		add(netip.PrefixFrom(v6, 32+r.IntN(96)).Masked().String())
	}
	for _, d := range smallNames()[3:] {
		if r.IntN(5) == 0 {
			add(strings.ToUpper(d[:1]) + d[1:])
		}
	}
	return b.feed(name)
}

// feedByFeedIP and feedByFeedDomain look up each feed by brute force.
func feedByFeedIP(feeds []*Feed, ip netip.Addr) []schema.IntelHit {
	ip = ip.Unmap()
	var out []schema.IntelHit
	for _, f := range feeds {
		if f == nil {
			continue
		}
		for _, e := range f.v4 {
			if ip.Is4() && e.key == ip.As4() {
				out = append(out, schema.IntelHit{Feed: f.name, Indicator: f.indicator(e.ind), Field: "ip"})
			}
		}
		for _, e := range f.v6 {
			if ip.Is6() && e.key == ip.As16() {
				out = append(out, schema.IntelHit{Feed: f.name, Indicator: f.indicator(e.ind), Field: "ip"})
			}
		}
		ranges := slices.Clone(f.prefixes)
		slices.SortFunc(ranges, func(a, b entry[netip.Prefix]) int { return cmp.Compare(b.key.Bits(), a.key.Bits()) })
		for _, e := range ranges {
			if e.key.Contains(ip) {
				out = append(out, schema.IntelHit{Feed: f.name, Indicator: f.indicator(e.ind), Field: "ip"})
			}
		}
	}
	return out
}

func feedByFeedDomain(feeds []*Feed, name string) []schema.IntelHit {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	var out []schema.IntelHit
	for _, f := range feeds {
		if f == nil {
			continue
		}
		for d := name; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
			for _, e := range f.domains {
				if e.key == d {
					out = append(out, schema.IntelHit{Feed: f.name, Indicator: f.indicator(e.ind), Field: "f"})
				}
			}
		}
	}
	return out
}
