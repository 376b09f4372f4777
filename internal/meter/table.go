package meter

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/dpi"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Emitter receives each finished (or interim) session. The Session is
// only valid during the call: a receiver that keeps it must copy it.
type Emitter func(s *schema.Session)

// Stats counts what a Table did.
type Stats struct {
	Packets, Flows, Sessions, Interim uint64
	NonIP                             uint64 // packets without an IP layer
	Fragments, OrphanFragments        uint64 // later IP fragments; those whose first fragment was not seen
	Evicted                           map[string]uint64
}

const (
	pageBits = 10
	pageSize = 1 << pageBits
)

// Table is a flow table. It is not safe for concurrent use: a sensor with
// several goroutines shards packets over several Tables with FlowHash.
//
// The hash index is written by hand (open addressing with linear probing
// over a slice of 8-byte slots that point into pages of flows) rather than
// a Go map, to stay under 256 bytes per flow at a million flows and to
// allocate nothing per packet.
type Table struct {
	cfg  Config
	emit Emitter
	seed uint64

	// index slots: 0 = empty; else the low 32 bits of the key's hash (high
	// half of the slot) | flow number + 1 (low half). Keeping the hash bits
	// lets lookups skip most key compares and lets grow and remove find an
	// entry's home slot without touching the flow itself.
	index []uint64
	pages [][]flow
	free  []uint32
	n     int

	now       int64 // packet clock, unix ns
	nextSweep int64
	cursor    uint32
	idle      [4]int64 // tcp, udp, icmp, other
	active    int64
	localNets []netip.Prefix
	mirrorIdx map[mirrorPair]uint32
	mirrors   []mirrorPair
	recent    [64]recentMirror
	outerPkt  decode.Packet // scratch for outer tunnel headers, reused
	lastInner lastFlow
	lastOuter lastFlow
	frags     [256]fragEntry
	sess      schema.Session
	rng       *rand.Rand
	dpi       *dpi.Engine // nil when Config.DPI is off
	// sides hold what only some flows need (DPI state, SYN shapes), page
	// for page beside the flows, so that flows stay small and free of
	// pointers (the garbage collector never scans them).
	sides sideTable

	stats Stats
}

// fragEntry remembers which flow the first fragment of a datagram went
// to, so later fragments (which carry no ports) count towards it too.
type fragEntry struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	flow     uint32 // flow number + 1
	first    int64  // the flow's start, to tell it from a later flow in the same slot
}

// New builds a Table; emit receives every session it writes.
func New(cfg Config, emit Emitter) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Table{cfg: cfg, emit: emit, seed: rand.Uint64(), mirrorIdx: map[mirrorPair]uint32{},
		mirrors: []mirrorPair{{}}, localNets: cfg.LocalNets, rng: rand.New(rand.NewPCG(1, 2))}
	t.idle = [4]int64{int64(cfg.IdleTCP), int64(cfg.IdleUDP), int64(cfg.IdleICMP), int64(cfg.IdleOther)}
	t.active = int64(cfg.Active)
	t.index = make([]uint64, 1024)
	t.stats.Evicted = map[string]uint64{}
	if cfg.DPI {
		t.dpi = dpi.NewEngine(cfg.DPILimits)
	}
	return t, nil
}

// Len is the number of flows tracked.
func (t *Table) Len() int { return t.n }

// Stats returns the counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Evicted = make(map[string]uint64, len(t.stats.Evicted))
	for k, v := range t.stats.Evicted {
		s.Evicted[k] = v
	}
	return s
}

func (t *Table) flowAt(num uint32) *flow { return &t.pages[num>>pageBits][num&(pageSize-1)] }

// lookup finds k; on a miss it returns the empty slot where k would go.
func (t *Table) lookup(k *flowKey, h uint64) (num uint32, slot int, found bool) {
	mask := len(t.index) - 1
	tag := h & 0xffffffff
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.index[i]
		if s == 0 {
			return 0, i, false
		}
		if s>>32 == tag {
			n := uint32(s) - 1
			if t.flowAt(n).key.eq(k) {
				return n, i, true
			}
		}
	}
}

// insert adds a new flow for k and returns it, zeroed but for key and liveness.
func (t *Table) insert(k *flowKey, h uint64, slot int) (uint32, *flow) {
	if t.n >= t.cfg.MaxFlows {
		t.evictOne()
		_, slot, _ = t.lookup(k, h) // the index may have shifted
	}
	if (t.n+1)*4 > len(t.index)*3 {
		t.grow()
		_, slot, _ = t.lookup(k, h)
	}
	var num uint32
	if l := len(t.free); l > 0 {
		num = t.free[l-1]
		t.free = t.free[:l-1]
	} else {
		num = uint32(len(t.pages)) << pageBits
		t.pages = append(t.pages, make([]flow, pageSize))
		t.sides.addPage()
		for i := pageSize - 1; i > 0; i-- {
			t.free = append(t.free, num+uint32(i))
		}
	}
	t.index[slot] = h<<32 | uint64(num+1)
	t.n++
	t.stats.Flows++
	f := t.flowAt(num)
	*f = flow{key: *k, bits: flowLive}
	return num, f
}

func (t *Table) grow() {
	old := t.index
	t.index = make([]uint64, len(old)*2)
	mask := len(t.index) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(s>>32) & mask
		for t.index[i] != 0 {
			i = (i + 1) & mask
		}
		t.index[i] = s
	}
}

// remove deletes flow num from the index (backward-shift deletion keeps
// linear probing correct without tombstones) and frees its storage.
func (t *Table) remove(num uint32) {
	f := t.flowAt(num)
	h := f.key.hash(t.seed)
	mask := len(t.index) - 1
	i := int(h) & mask
	for uint32(t.index[i]) != num+1 {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := t.index[j]
		if s == 0 {
			break
		}
		home := int(s>>32) & mask
		// Move s back into the hole at i unless its home lies after i
		// (cyclically): then it would become unreachable.
		if (j-home)&mask >= (j-i)&mask {
			t.index[i] = s
			i = j
		}
	}
	t.index[i] = 0
	t.forget(num)
	f.bits = 0
	t.free = append(t.free, num)
	t.n--
}

// evictOne makes room at the cap: of a few flows sampled at random it
// ends the one that never got an answer, else the least recently seen
// (the sampling stands in for an LRU list, which would cost 8 bytes a flow).
func (t *Table) evictOne() {
	var best uint32
	var bestF *flow
	total := uint32(len(t.pages)) << pageBits
	for tries := 0; tries < 64 && (bestF == nil || tries < 8); tries++ {
		n := t.rng.Uint32N(total)
		f := t.flowAt(n)
		if !f.live() {
			continue
		}
		if bestF == nil || (!f.answered() && bestF.answered()) ||
			(f.answered() == bestF.answered() && f.last < bestF.last) {
			best, bestF = n, f
		}
	}
	if bestF == nil { // sparse pages: walk to the first live flow
		for n := uint32(0); n < total; n++ {
			if t.flowAt(n).live() {
				best, bestF = n, t.flowAt(n)
				break
			}
		}
	}
	reason := "cap_established"
	if !bestF.answered() {
		reason = "cap_unanswered"
	}
	t.stats.Evicted[reason]++
	t.end(best, "evicted")
}

// end writes the flow's final record and removes it.
func (t *Table) end(num uint32, reason string) {
	f := t.flowAt(num)
	t.write(num, f, reason, true)
	t.remove(num)
}

// Advance moves the clock to now (for live sources that go quiet) and
// expires what is due.
func (t *Table) Advance(now time.Time) {
	if ns := now.UnixNano(); ns > t.now {
		t.now = ns
	}
	t.sweep(true)
}

// Flush ends every flow with reason ("eof" or "shutdown") and empties
// the table at once rather than removing flows one by one.
func (t *Table) Flush(reason string) {
	for p := range t.pages {
		for i := range t.pages[p] {
			if t.pages[p][i].live() {
				t.write(uint32(p)<<pageBits|uint32(i), &t.pages[p][i], reason, true)
			}
		}
	}
	t.sides = sideTable{apps: t.sides.apps, sigs: t.sides.sigs}
	t.pages, t.free, t.n = nil, nil, 0
	t.index = make([]uint64, 1024)
	t.frags = [len(t.frags)]fragEntry{}
	t.lastInner, t.lastOuter = lastFlow{}, lastFlow{}
}

// sweep checks a slice of the table for flows that are due, so that every
// flow is looked at about once per 16 seconds of packet time without a
// full scan per packet (a flow found idle on lookup ends there and then;
// the sweep reclaims the rest). all checks the whole table.
func (t *Table) sweep(all bool) {
	if !all && t.now < t.nextSweep {
		return
	}
	t.nextSweep = t.now + int64(time.Second)
	total := uint32(len(t.pages)) << pageBits
	if total == 0 {
		return
	}
	steps := max(total/16, 256)
	if all {
		steps = total
	}
	for ; steps > 0; steps-- {
		t.cursor++
		if t.cursor >= total {
			t.cursor = 0
		}
		f := t.flowAt(t.cursor)
		if !f.live() {
			continue
		}
		if reason := t.due(f); reason != "" {
			t.end(t.cursor, reason)
		} else if t.active > 0 && t.now-f.first >= (int64(f.nextSeq)+1)*t.active {
			t.write(t.cursor, f, "active", false) // advances nextSeq: the next interval
		}
	}
}

// due says why a flow should end now, or "".
func (t *Table) due(f *flow) string {
	idle := t.now - f.last
	if idle > t.idle[protoClass(f.key.proto)] || attemptOver(f, t.now) {
		return "idle"
	}
	if f.key.proto == 6 && idle > int64(5*time.Second) {
		// Zeek's tcp_close_delay / tcp_reset_delay: a closed connection
		// lingers briefly for stray packets, then is reported.
		o, r := f.orig.state, f.resp.state
		if (o == tcpClosed && r == tcpClosed) || o == tcpReset || r == tcpReset {
			if o == tcpReset || r == tcpReset {
				return "rst"
			}
			return "fin"
		}
	}
	return ""
}

func protoClass(proto uint8) int {
	switch proto {
	case 6:
		return 0
	case 17:
		return 1
	case 1, 58:
		return 2
	}
	return 3
}

// mirrorPair is the two outer addresses of a tunnel, smaller first.
type mirrorPair struct{ lo, hi netip.Addr }

// mirrorOf interns the endpoints of the innermost tunnel of p as a small
// number for the flow key, and says whether the outer source is pair.lo.
// Keying on the unordered pair joins both directions of a VTEP-to-VTEP
// tunnel, while traffic mirrored from two sources (the same conversation
// seen from both ends) stays two sessions, one per vantage point.
func (t *Table) mirrorOf(p *decode.Packet) (uint32, bool) {
	if p.NumTunnels == 0 {
		return 0, false
	}
	tn := &p.Tunnels[p.NumTunnels-1]
	return t.intern(tn.Src, tn.Dst)
}

func (t *Table) intern(src, dst netip.Addr) (uint32, bool) {
	pair, srcLo := mirrorPair{src, dst}, true
	if dst.Less(src) {
		pair, srcLo = mirrorPair{dst, src}, false
	}
	// A sensor sees a handful of mirror sources at a time: a small
	// direct-mapped cache (by the addresses' last bytes) in front of the
	// map saves hashing 48 bytes a packet.
	lo, hi := pair.lo.As16(), pair.hi.As16()
	c := &t.recent[(lo[15]^hi[15]^hi[14])%uint8(len(t.recent))]
	if c.idx != 0 && c.pair == pair {
		return c.idx, srcLo
	}
	idx, ok := t.mirrorIdx[pair]
	if !ok {
		idx = uint32(len(t.mirrors))
		t.mirrors = append(t.mirrors, pair)
		t.mirrorIdx[pair] = idx
	}
	*c = recentMirror{pair, idx}
	return idx, srcLo
}

type recentMirror struct {
	pair mirrorPair
	idx  uint32
}
