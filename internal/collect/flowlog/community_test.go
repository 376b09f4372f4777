package flowlog

import (
	"net/netip"
	"testing"

	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// The cache gives what meter.CommunityID gives, for both directions, for
// ICMP (whose id is not ordered by address), for IPv4, IPv6, both mixed,
// IPv4-mapped IPv6 (whose id is not the IPv4 one) and zones, and after
// slots are reused.
func TestCommunityIDCache(t *testing.T) {
	c := &communityIDs{seed: 7}
	var addrs []netip.Addr
	for _, a := range []string{"10.0.0.1", "10.0.0.2", "2001:db8::1", "::ffff:10.0.0.1", "0.0.0.0", "255.255.255.255", "fe80::1%eth0", "fe80::1"} {
		addrs = append(addrs, netip.MustParseAddr(a))
	}
	for round := range 2 {
		for i := range 20000 {
			s := schema.Session{Orig: schema.Endpoint{IP: addrs[i%len(addrs)], Port: uint16(i % 1000)},
				Resp: schema.Endpoint{IP: addrs[i/len(addrs)%len(addrs)], Port: uint16(i % 7)}, Proto: []uint8{6, 17, 1, 58, 47, 132}[i%6]}
			if s.Proto == 1 || s.Proto == 58 {
				s.Orig.Port, s.Resp.Port = uint16(i%20), uint16(i%3)
			}
			if got, want := string(c.append([]byte("x"), &s)), "x"+meter.CommunityID(&s, 7); got != want {
				t.Fatalf("round %d, %+v: %q, want %q", round, s, got, want)
			}
		}
	}
}
