package flowlog

import (
	"context"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"unsafe"

	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// batch holds the sessions waiting for the sink. Each batch gets a fresh
// slab of Flow values so that a sink keeping a session (and its Flow
// pointer) never sees it overwritten, at one allocation per batch instead
// of one per record.
type batch struct {
	sess  []schema.Session
	flows []schema.Flow
	dirty bool // the slot past the end holds a rejected record
}

func (b *batch) init(n int) {
	b.sess = make([]schema.Session, 0, n)
}

// slot returns the next session, zeroed, with its Flow attached. It is
// not part of the batch until commit, so a record that turns out bad
// simply leaves it to be reused.
func (b *batch) slot() *schema.Session {
	if b.flows == nil {
		b.flows, b.dirty = make([]schema.Flow, cap(b.sess)), false
	}
	i := len(b.sess)
	s, f := &b.sess[:i+1][i], &b.flows[i]
	if b.dirty {
		*f = schema.Flow{} // a fresh slab is zero already
	}
	b.dirty = true
	*s = schema.Session{Flow: f}
	return s
}

// drop forgets the sessions of a failed or finished input.
func (b *batch) drop() {
	clear(b.sess)
	b.sess = b.sess[:0]
}

// commit finishes the session in the current slot (uid from its hash,
// the fields every flow record shares, byte counts, community_id) and flushes a full
// batch to the sink.
func (r *Reader) commit(ctx context.Context, s *schema.Session, h hash) error {
	s.Version = schema.SessionVersion
	ids := &r.ids
	ids.room(meter.MaxUID + meter.CommunityIDLen)
	from := len(ids.buf)
	ids.buf = meter.AppendUID(ids.buf, h.sum())
	s.UID = ids.since(from)
	s.Final = true
	s.EndReason = "window"
	s.Tenant, s.Sensor, s.Source = r.cfg.Tenant, r.cfg.Sensor, r.kind
	s.Transport = schema.Transport(s.Proto)
	s.ConnState = "OTH"
	// Flow records count IP bytes; the payload is not known, so the bytes
	// measure of filters, rankings and rollups takes the same count.
	s.OrigBytes, s.RespBytes = s.OrigIPBytes, s.RespIPBytes
	if s.Orig.IP.IsValid() && s.Resp.IP.IsValid() {
		from = len(ids.buf)
		ids.buf = r.cids.append(ids.buf, s)
		s.CommunityID = ids.since(from)
	}
	r.out.sess = r.out.sess[:len(r.out.sess)+1]
	r.out.dirty = false
	r.stats.Records++
	if len(r.out.sess) == cap(r.out.sess) {
		return r.flush(ctx)
	}
	return nil
}

// flush hands the batch to the sink and starts a new one; the context is
// checked here, once a batch, not per record.
func (r *Reader) flush(ctx context.Context) error {
	if len(r.out.sess) == 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := r.sink.WriteSessions(ctx, r.out.sess)
	r.out.sess = r.out.sess[:0] // each slot is overwritten before use
	r.out.flows = nil
	return err
}

// idArena holds the bytes of the sessions' uid and community_id, so that
// they cost no allocation each. The strings point into buf (unsafe.String)
// and stay valid because bytes once made into a string are never written
// again: ids are only appended after them, and a full chunk is left to the
// sessions that use it, not reused. A sink that keeps a session keeps its
// chunk alive through those strings, as it keeps the batch's Flow slab.
type idArena struct{ buf []byte }

const idChunk = 16 << 10

// room makes sure n more bytes can be appended without buf moving.
func (a *idArena) room(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, idChunk)
	}
}

// since returns the bytes appended from offset from on, which must not be
// empty, as a string.
func (a *idArena) since(from int) string {
	return unsafe.String(&a.buf[from], len(a.buf)-from)
}

// hash derives a record's uid from its kind, key fields and window, so
// that reading the same input twice gives the same ids. It mixes 64-bit
// words as the meter's flow hash does; strings go in 8 bytes at a time.
type hash uint64

func newHash(kind string) hash { return hash(0x9e3779b97f4a7c15).str(kind) }

func (h hash) u64(v uint64) hash {
	hi, lo := bits.Mul64(uint64(h)^v, 0xa0761d6478bd642f)
	return hash(hi ^ lo)
}

func (h hash) str(s string) hash {
	for len(s) >= 8 {
		h = h.u64(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
		s = s[8:]
	}
	var tail uint64
	for i := 0; i < len(s); i++ {
		tail |= uint64(s[i]) << (8 * i)
	}
	return h.u64(tail).u64(uint64(len(s)))
}

// addr mixes an IPv4 address in one word (marked apart from the 4-byte
// numbers mixed elsewhere), others in two.
func (h hash) addr(a netip.Addr) hash {
	if a.Is4() {
		b := a.As4()
		return h.u64(uint64(binary.BigEndian.Uint32(b[:])) | 1<<40)
	}
	b := a.As16()
	return h.u64(binary.LittleEndian.Uint64(b[:8])).u64(binary.LittleEndian.Uint64(b[8:]))
}

// initial is a small vocabulary's value (accept/reject, nodata/skipdata,
// ingress/egress) as its first byte, which tells its values apart.
func initial(s string) uint64 {
	if s == "" {
		return 0
	}
	return uint64(s[0])
}

// sum is never 0, which meter.UID would format as a bare "C0".
func (h hash) sum() uint64 {
	if h == 0 {
		return 1
	}
	return uint64(h)
}

// interner keeps one copy of the strings that repeat from record to record
// (accounts, interfaces, VPCs, actions, ARNs), so a record does not
// allocate them again. Looking a []byte up with m[string(b)] does not
// allocate; the map is cleared when it grows past maxInterned so that a
// high-cardinality field cannot make it grow without bound.
type interner struct{ m map[string]string }

const maxInterned = 1 << 16

func newInterner() interner { return interner{m: make(map[string]string, 256)} }

func (in *interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= maxInterned {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}
