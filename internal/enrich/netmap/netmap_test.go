package netmap

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func rng(cidr, segment string, tags ...string) Range {
	return Range{Prefix: netip.MustParsePrefix(cidr), Tags: tags, Segment: segment}
}

func TestLookup(t *testing.T) {
	aws := []Range{
		rng("52.95.0.0/16", "", "aws", "aws:amazon"),
		rng("52.95.16.0/20", "", "aws", "aws:s3"),
		rng("52.95.16.0/20", "", "aws", "aws:amazon"), // listed under two services
		rng("2600:1f14::/35", "", "aws", "aws:ec2"),
	}
	user := []Range{
		rng("10.0.0.0/8", "corp", "internal"),
		rng("10.20.0.0/16", "datastore", "prod", "datastore"),
		rng("10.20.5.0/24", "", "pci"), // no segment of its own
		rng("10.20.5.7/32", "", "prod", "db"),
		rng("52.95.16.0/20", "s3-endpoint"), // names a segment for AWS space
		rng("2001:db8:1::/48", "lab", "ipv6"),
		rng("0.0.0.0/0", "", "any4"),
	}
	m := NewMap(aws, user)
	for _, tc := range []struct {
		name, ip, segment string
		tags              []string
	}{
		{"most specific segment", "10.20.1.1", "datastore", []string{"any4", "datastore", "internal", "prod"}},
		{"segment from supernet", "10.20.5.1", "datastore", []string{"any4", "datastore", "internal", "pci", "prod"}},
		{"host range", "10.20.5.7", "datastore", []string{"any4", "datastore", "db", "internal", "pci", "prod"}},
		{"outer range", "10.99.0.1", "corp", []string{"any4", "internal"}},
		{"aws services merge", "52.95.17.1", "s3-endpoint", []string{"any4", "aws", "aws:amazon", "aws:s3"}},
		{"aws supernet only", "52.95.200.1", "internet", []string{"any4", "aws", "aws:amazon"}},
		{"private without segment", "192.168.1.10", "unknown-private", []string{"any4"}},
		{"cgnat", "100.64.3.4", "unknown-private", []string{"any4"}},
		{"public without range", "8.8.8.8", "internet", []string{"any4"}},
		{"mapped ipv6 as ipv4", "::ffff:10.20.1.1", "datastore", []string{"any4", "datastore", "internal", "prod"}},
		{"ipv6 range", "2001:db8:1::5", "lab", []string{"ipv6"}},
		{"ipv6 aws", "2600:1f14::1", "internet", []string{"aws", "aws:ec2"}},
		{"ipv6 ula", "fd00::1", "unknown-private", nil},
		{"ipv6 link-local with zone", "fe80::1%eth0", "unknown-private", nil},
		{"ipv6 public", "2a00:1450::1", "internet", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tags, seg := m.Lookup(netip.MustParseAddr(tc.ip))
			if seg != tc.segment {
				t.Errorf("segment = %q, want %q", seg, tc.segment)
			}
			if diff := cmp.Diff(tc.tags, tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
	if tags, seg := m.Lookup(netip.Addr{}); tags != nil || seg != "" {
		t.Errorf("invalid address: %q %q, want nothing", tags, seg)
	}
}

func TestNewMapLaterSetWinsSegment(t *testing.T) {
	m := NewMap(
		[]Range{rng("10.1.0.0/16", "first", "a")},
		[]Range{rng("10.1.0.0/16", "second", "b"), rng("10.1.0.0/16", "", "c")},
	)
	tags, seg := m.Lookup(netip.MustParseAddr("10.1.2.3"))
	if seg != "second" {
		t.Errorf("segment = %q, want second (an empty segment does not clear it)", seg)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

func TestNewMapEmpty(t *testing.T) {
	m := NewMap(nil, []Range{{Tags: []string{"no prefix"}}, rng("::ffff:172.16.0.0/108", "mapped", "mapped")})
	if tags, seg := m.Lookup(netip.MustParseAddr("172.16.0.1")); tags != nil || seg != "unknown-private" {
		t.Errorf("got %q %q", tags, seg)
	}
}

func TestNewMapCopiesInput(t *testing.T) {
	in := []Range{rng("10.0.0.0/8", "corp", "b", "a")}
	m := NewMap(in)
	in[0].Tags[0], in[0].Segment = "changed", "changed"
	tags, seg := m.Lookup(netip.MustParseAddr("10.0.0.1"))
	if seg != "corp" || !cmp.Equal(tags, []string{"a", "b"}) {
		t.Errorf("got %q %q after changing the input", tags, seg)
	}
}

func TestNewMapTagsWithSeparator(t *testing.T) {
	m := NewMap([]Range{rng("10.0.0.0/24", "", "a\x00b"), rng("10.0.1.0/24", "", "a", "b")})
	if tags, _ := m.Lookup(netip.MustParseAddr("10.0.0.1")); !cmp.Equal(tags, []string{"a\x00b"}) {
		t.Errorf("10.0.0.1: %q", tags)
	}
	if tags, _ := m.Lookup(netip.MustParseAddr("10.0.1.1")); !cmp.Equal(tags, []string{"a", "b"}) {
		t.Errorf("10.0.1.1: %q", tags)
	}
}

func TestLookupSharesTagsWithoutAllocating(t *testing.T) {
	m := NewMap([]Range{rng("10.0.0.0/24", "", "x"), rng("10.0.1.0/24", "", "x")})
	a, _ := m.Lookup(netip.MustParseAddr("10.0.0.1"))
	b, _ := m.Lookup(netip.MustParseAddr("10.0.1.1"))
	if &a[0] != &b[0] {
		t.Error("equal tag sets of two prefixes are not one shared slice")
	}
	ip := netip.MustParseAddr("::ffff:10.0.0.1")
	if n := testing.AllocsPerRun(100, func() { m.Lookup(ip) }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

func TestIsPublic(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		public bool
	}{
		{"8.8.8.8", true}, {"192.0.2.1", true}, {"100.63.255.255", true}, {"100.128.0.0", true},
		{"223.255.255.255", true}, {"1.0.0.0", true}, {"172.15.255.255", true}, {"172.32.0.0", true},
		{"169.253.0.1", true}, {"192.167.1.1", true}, {"2001:db8::1", true}, {"2a00:1450::1", true},
		{"fec0::1", true}, {"64:ff9b::808:808", true}, {"::2", true},
		{"10.1.1.1", false}, {"172.16.0.1", false}, {"172.31.255.255", false}, {"192.168.0.1", false},
		{"100.64.0.0", false}, {"100.127.255.255", false}, {"127.0.0.1", false},
		{"169.254.1.1", false}, {"0.0.0.0", false}, {"0.1.2.3", false},
		{"224.0.0.251", false}, {"239.255.255.250", false}, {"240.0.0.1", false},
		{"255.255.255.255", false}, {"::", false}, {"::1", false}, {"fc00::1", false}, {"fdff::1", false},
		{"fe80::1", false}, {"febf::1", false}, {"fe80::1%eth0", false}, {"ff02::fb", false},
		{"::ffff:192.168.0.1", false}, {"::ffff:8.8.8.8", true},
	} {
		if got := IsPublic(netip.MustParseAddr(tc.ip)); got != tc.public {
			t.Errorf("IsPublic(%s) = %v, want %v", tc.ip, got, tc.public)
		}
	}
	if IsPublic(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

// TestIsPublicAgreesWithNetip compares IsPublic with the same rules
// written with netip's predicates, over every IPv4 /16 boundary and
// random addresses of both families.
func TestIsPublicAgreesWithNetip(t *testing.T) {
	reference := func(ip netip.Addr) bool {
		ip = ip.Unmap()
		if ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsMulticast() {
			return false
		}
		if ip.Is4() {
			b := ip.As4()
			return b[0] != 0 && b[0] < 240 && !(b[0] == 100 && b[1]&0xc0 == 64)
		}
		return true
	}
	var addrs []netip.Addr
	for i := range 1 << 16 {
		for _, last := range []byte{0, 255} {
			a := netip.AddrFrom4([4]byte{byte(i >> 8), byte(i), last, last})
			addrs = append(addrs, a, netip.AddrFrom16(a.As16()))
		}
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 1 << 16 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], rnd.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rnd.Uint64())
		for _, first := range []byte{b[0], 0, 0xfc, 0xfd, 0xfe, 0xff} {
			b[0] = first
			addrs = append(addrs, netip.AddrFrom16(b))
		}
	}
	for _, ip := range addrs {
		if got, want := IsPublic(ip), reference(ip); got != want {
			t.Fatalf("IsPublic(%s) = %v, netip's predicates say %v", ip, got, want)
		}
	}
}
