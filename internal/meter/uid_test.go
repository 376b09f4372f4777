package meter

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// uidRef is UID written plainly: "C" and the base-62 digits, most
// significant first.
func uidRef(id uint64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	s := ""
	for {
		s = string(digits[id%62]) + s
		if id /= 62; id == 0 {
			return "C" + s
		}
	}
}

// UID and AppendUID write Zeek's base 62, at the edges of every length and
// at random.
func TestUID(t *testing.T) {
	if UID(0) != "C0" || UID(61) != "Cz" || UID(62) != "C10" || UID(math.MaxUint64) != "CLygHa16AHYF" {
		t.Errorf("UID(0, 61, 62, max) = %s %s %s %s", UID(0), UID(61), UID(62), UID(math.MaxUint64))
	}
	ids := []uint64{0, 1, 61, 62, math.MaxUint64, math.MaxUint64 - 1}
	for p := uint64(62); p < math.MaxUint64/62; p *= 62 {
		ids = append(ids, p-1, p, p+1, p*62-1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		ids = append(ids, rng.Uint64(), rng.Uint64()>>rng.IntN(64))
	}
	for _, id := range ids {
		if got, want := UID(id), uidRef(id); got != want || string(AppendUID([]byte("x"), id)) != "x"+want {
			t.Fatalf("UID(%d) = %q, want %q", id, got, want)
		}
	}
}

// AppendCommunityID appends what CommunityID returns (checked against
// Zeek's in TestCommunityID), for every kind of tuple.
func TestAppendCommunityID(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.0.0.1")}
	for i := range 5000 {
		s := schema.Session{Proto: []uint8{6, 17, 132, 1, 58, 47}[i%6],
			Orig: schema.Endpoint{IP: addrs[i%4], Port: uint16(i % 300)},
			Resp: schema.Endpoint{IP: addrs[i/4%4], Port: uint16(i % 7)}}
		got, want := string(AppendCommunityID([]byte("x"), &s, uint16(i))), "x"+CommunityID(&s, uint16(i))
		if got != want || len(got) != 1+CommunityIDLen {
			t.Fatalf("%+v: %q, want %q", s, got, want)
		}
	}
}

func BenchmarkUID(b *testing.B) {
	var n int
	for i := range b.N {
		n += len(UID(uint64(i) * 0x9e3779b97f4a7c15))
	}
	_ = n
}

func BenchmarkCommunityID(b *testing.B) {
	s := schema.Session{Proto: 6, Orig: schema.Endpoint{IP: netip.MustParseAddr("10.0.1.20"), Port: 43418},
		Resp: schema.Endpoint{IP: netip.MustParseAddr("203.0.113.7"), Port: 443}}
	var buf []byte
	for b.Loop() {
		buf = AppendCommunityID(buf[:0], &s, 0)
	}
}
