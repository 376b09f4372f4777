package audit

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// maxExamples bounds the session ids a report carries.
const maxExamples = 8

// ref is a session record id kept unformatted until a report needs it.
type ref struct {
	uid string
	seq uint32
}

func refOf(s *schema.Session) ref { return ref{s.UID, s.Seq} }

func (r ref) String() string { return r.uid + "/" + strconv.FormatUint(uint64(r.seq), 10) }

// device is a device as the audits key it, as the behavioural detectors
// do: its asset id when the inventory knows it (a device keeps its
// identity across address changes), else its address.
type device struct {
	asset string
	ip    netip.Addr
}

func deviceOf(e *schema.Endpoint) device {
	if e.Asset != "" {
		return device{asset: e.Asset}
	}
	return device{ip: e.IP}
}

// String is the device as an entity id: "asset:i-0abc" or "ip:10.0.0.5".
func (d device) String() string {
	if d.asset != "" {
		return "asset:" + d.asset
	}
	return "ip:" + d.ip.String()
}

// answered says the responder took part: a TCP session past the
// handshake, or a UDP one it replied to. A refused or ignored attempt
// (a scan) says nothing about the services a device offers.
func answered(s *schema.Session) bool {
	switch s.ConnState {
	case "S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR":
		return false
	case "RSTO", "RSTR":
		return s.OrigBytes > 0 || s.RespBytes > 0
	}
	return s.RespPkts > 0
}

// evictOne drops an arbitrary entry: Go randomises where map iteration
// starts, so this is random eviction in constant time, which a flood of
// new keys cannot aim at old ones.
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}

// sweeper rate-limits full scans of a check's state on Tick to once per
// interval of session time.
type sweeper struct {
	every time.Duration
	last  time.Time
}

func (w *sweeper) due(now time.Time) bool {
	if now.Sub(w.last) < w.every {
		return false
	}
	w.last = now
	return true
}

// throttle remembers when each finding was last reported, so that a
// problem seen on every session is reported once per interval. It holds
// at most max keys; past that a random one is forgotten (and counted),
// which at worst reports that finding again early.
type throttle[K comparable] struct {
	every   time.Duration
	max     int
	last    map[K]time.Time
	evicted uint64
	sweep   sweeper
}

func newThrottle[K comparable](every time.Duration, max int) *throttle[K] {
	return &throttle[K]{every: every, max: max, last: make(map[K]time.Time), sweep: sweeper{every: every}}
}

// due reports whether k should be reported at t, and if so notes it.
func (th *throttle[K]) due(k K, t time.Time) bool {
	last, ok := th.last[k]
	if ok && t.Sub(last) < th.every {
		return false
	}
	if !ok && len(th.last) >= th.max {
		evictOne(th.last)
		th.evicted++
	}
	th.last[k] = t
	return true
}

// expire forgets the keys whose interval has passed: they would be due
// anyway.
func (th *throttle[K]) expire(now time.Time) {
	if !th.sweep.due(now) {
		return
	}
	for k, t := range th.last {
		if now.Sub(t) >= th.every {
			delete(th.last, k)
		}
	}
}
