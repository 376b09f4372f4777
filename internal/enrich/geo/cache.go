package geo

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// cacheBits bounds the cache: 64 Ki answers, about 7 MiB when full.
const cacheBits = 16

// cache is a two-way set-associative table of answers: a hash of the
// address picks a pair of slots, each holding one answer. Readers load
// two atomic pointers at most and compare the address, so hits take no
// lock and do not allocate; writers replace entries whole. Colliding
// addresses evict each other, which bounds memory without bookkeeping;
// two ways rather than one keep a few hot addresses that share a pair
// from evicting each other on every packet. Writers racing on one pair
// can at worst drop or duplicate an answer, which costs a later miss.
// Written by hand because no maintained Go cache has lock-free,
// allocation-free reads (the sharded-map caches lock or hash per read).
type cache struct {
	slots [1 << cacheBits]atomic.Pointer[cacheEntry]
}

// cacheEntry holds the answer itself, so that a miss allocates once.
type cacheEntry struct {
	addr  netip.Addr
	known bool // whether any database knows addr
	geo   schema.Geo
}

// answer is what Lookup returns for the entry: the shared Geo, or nil.
func (e *cacheEntry) answer() *schema.Geo {
	if !e.known {
		return nil
	}
	return &e.geo
}

func (c *cache) get(ip netip.Addr) (*schema.Geo, bool) {
	i := pairOf(ip)
	if e := c.slots[i].Load(); e != nil && e.addr == ip {
		return e.answer(), true
	}
	if e := c.slots[i+1].Load(); e != nil && e.addr == ip {
		return e.answer(), true
	}
	return nil, false
}

// put stores the newest answer first and moves the one it displaces
// second, evicting the older of the two; it returns the stored answer.
func (c *cache) put(ip netip.Addr, g schema.Geo) *schema.Geo {
	e := &cacheEntry{addr: ip, known: g != (schema.Geo{}), geo: g}
	i := pairOf(ip)
	c.slots[i+1].Store(c.slots[i].Load())
	c.slots[i].Store(e)
	return e.answer()
}

// pairOf mixes the address's 128 bits and keeps the top bits of a
// multiplicative (Fibonacci) hash, which spreads neighbouring addresses;
// the result is the even index of the pair.
func pairOf(ip netip.Addr) uint32 {
	b := ip.As16()
	hi, lo := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	h := (hi*0x9e3779b97f4a7c15 ^ lo) * 0xbf58476d1ce4e5b9
	return uint32(h>>(64-cacheBits)) &^ 1
}
