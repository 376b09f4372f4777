package sessionfile

import (
	"encoding/binary"
	"math/bits"
)

// addrIndex maps 16-byte addresses to dictionary indexes. It is an
// open-addressing table with a multiplicative hash, each key beside its
// index (one cache miss a lookup): a Go map keyed by [16]byte took 16 %
// of a write, in its generic lookup, for the four or five addresses of
// every row.
type addrIndex struct {
	slots []addrSlot
	n     int
	shift uint8 // 64 - log2(len(slots))
}

type addrSlot struct {
	addr [16]byte
	idx  int32 // +1: 0 is an empty slot
}

const addrIndexMin = 1 << 10

func (t *addrIndex) reset() {
	if t.slots == nil {
		t.slots, t.shift = make([]addrSlot, addrIndexMin), uint8(64-bits.Len(addrIndexMin-1))
	}
	clear(t.slots)
	t.n = 0
}

func (t *addrIndex) slot(a *[16]byte) int {
	lo, hi := binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
	h := lo*0xbf58476d1ce4e5b9 + hi
	h ^= h >> 32 // IPv4 addresses differ only in the upper half
	return int(h * 0x9e3779b97f4a7c15 >> t.shift)
}

// get is a's index, and whether it has one.
func (t *addrIndex) get(a [16]byte) (int32, bool) {
	mask := len(t.slots) - 1
	for i := t.slot(&a); ; i = (i + 1) & mask {
		switch s := &t.slots[i]; {
		case s.idx == 0:
			return 0, false
		case s.addr == a:
			return s.idx - 1, true
		}
	}
}

// put gives a, which has no index yet, the index idx.
func (t *addrIndex) put(a [16]byte, idx int32) {
	if 2*(t.n+1) > len(t.slots) { // at most half full: probes stay short
		t.grow()
	}
	mask := len(t.slots) - 1
	i := t.slot(&a)
	for t.slots[i].idx != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = addrSlot{a, idx + 1}
	t.n++
}

func (t *addrIndex) grow() {
	old := t.slots
	t.slots, t.shift, t.n = make([]addrSlot, 2*len(old)), t.shift-1, 0
	for _, s := range old {
		if s.idx != 0 {
			t.put(s.addr, s.idx-1)
		}
	}
}
