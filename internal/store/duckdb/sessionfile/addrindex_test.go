package sessionfile

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAddrIndex fills the index past several growths with IPv4 and IPv6
// addresses, finds each, and none of those not put; reset empties it.
func TestAddrIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	addr := func() [16]byte {
		if rng.IntN(2) == 0 {
			return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))}).As16()
		}
		var a [16]byte
		for i := range a {
			a[i] = byte(rng.IntN(256))
		}
		return a
	}
	var ix addrIndex
	for round := range 2 {
		ix.reset()
		want := map[[16]byte]int32{}
		for len(want) < 20000 {
			a := addr()
			if _, ok := want[a]; !ok {
				want[a] = int32(len(want))
				ix.put(a, want[a])
			}
		}
		for a, i := range want {
			if got, ok := ix.get(a); !ok || got != i {
				t.Fatalf("round %d: %x is %d, %v; want %d", round, a, got, ok, i)
			}
		}
		for range 1000 {
			a := addr()
			if _, put := want[a]; put {
				continue
			}
			if _, ok := ix.get(a); ok {
				t.Fatalf("round %d: %x found, never put", round, a)
			}
		}
	}
}
