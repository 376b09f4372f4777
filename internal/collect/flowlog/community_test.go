package flowlog

import (
	"net/netip"
	"testing"

	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// The cache gives what meter.CommunityID gives, for both directions, for
// ICMP (whose id is not ordered by address) and after slots are reused.
func TestCommunityIDCache(t *testing.T) {
	c := &communityIDs{seed: 7}
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("2001:db8::1")}
	for round := range 2 {
		for i := range 20000 {
			s := schema.Session{Orig: schema.Endpoint{IP: addrs[i%3], Port: uint16(i % 1000)},
				Resp: schema.Endpoint{IP: addrs[(i/3)%3], Port: uint16(i % 7)}, Proto: []uint8{6, 17, 1, 58, 47}[i%5]}
			if s.Proto == 1 || s.Proto == 58 {
				s.Orig.Port, s.Resp.Port = uint16(i%20), uint16(i%3)
			}
			if got, want := c.get(&s), meter.CommunityID(&s, 7); got != want {
				t.Fatalf("round %d, %+v: %q, want %q", round, s, got, want)
			}
		}
	}
}
