package intel

import (
	"encoding/binary"
	"net/netip"
)

// filter is a Bloom filter blocked by cache line, in the split-block
// layout of Parquet's filters: a key sets one bit in each of the eight
// words of one 64-byte block. A lookup reads one cache line, so a miss
// costs one access to a structure of about a megabyte per million keys
// that stays in cache, not several to the maps behind it. It is written
// here because the filters the module proxy serves (bits-and-blooms/bloom,
// FastFilter's xor and binary fuse filters) read a key's bits or
// fingerprints from three or more places.
//
// Allocations above 32 KiB start on a page, so the blocks of a large
// filter are cache-line aligned; a smaller one stays in cache anyway.
type filter []block

type block [8]uint64

// bitsPerKey gives about 1% false positives; each costs one map probe.
const bitsPerKey = 10

// salts are the odd constants of Parquet's split-block filter: each
// spreads the low 32 bits of a hash to a different bit of its word.
var salts = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

func newFilter(keys int) filter {
	return make(filter, max(1, (keys*bitsPerKey+511)/512))
}

// at picks the block from the high 32 bits of h by multiply-shift, which
// needs no power-of-two size.
func (f filter) at(h uint64) *block { return &f[(h>>32)*uint64(len(f))>>32] }

func (f filter) add(h uint64) {
	b := f.at(h)
	for i, s := range salts {
		b[i] |= 1 << (uint32(h) * s >> 26)
	}
}

// has is true for every key added and for about one in a hundred of the
// others. It reads every word without branching: the
// line is loaded whole anyway, and an early exit would be mispredicted
// half the time.
func (f filter) has(h uint64) bool {
	b := f.at(h)
	all := uint64(1)
	for i, s := range salts {
		all &= b[i] >> (uint32(h) * s >> 26)
	}
	return all != 0
}

// hash4 and hash16 hash addresses with the murmur3 finalizer, which mixes
// every input bit into both halves of the result; seed differs per Set so
// that chosen addresses cannot aim at the same block.
func hash4(k [4]byte, seed uint64) uint64 {
	return mix(uint64(binary.LittleEndian.Uint32(k[:])) ^ seed)
}

func hash16(k [16]byte, seed uint64) uint64 {
	return mix(mix(binary.LittleEndian.Uint64(k[:8])^seed) ^ binary.LittleEndian.Uint64(k[8:]))
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	return x ^ x>>33
}

// blocks4 is a bitmap of the IPv4 /20s. At 128 KiB it stays in cache, and
// one bit tells that no listed address (or range) is anywhere near an
// address: private space and unlisted networks are turned away before the
// filter, and most addresses before the range table, whose Contains
// follows a pointer per level.
type blocks4 [1 << 20 / 64]uint64

func block4(k [4]byte) uint32 { return binary.BigEndian.Uint32(k[:]) >> 12 }

func (m *blocks4) has(i uint32) bool { return m[i/64]>>(i%64)&1 != 0 }

// mark sets the bits of the /20s that p overlaps. p is masked, so they
// are n consecutive bits aligned on n, a power of two.
func (m *blocks4) mark(p netip.Prefix) {
	first, n := block4(p.Addr().As4()), uint32(1)
	if p.Bits() < 20 {
		n <<= 20 - p.Bits()
	}
	if n < 64 {
		m[first/64] |= (1<<n - 1) << (first % 64)
		return
	}
	for w := first / 64; w < (first+n)/64; w++ {
		m[w] = ^uint64(0)
	}
}
