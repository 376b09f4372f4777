package audit

import (
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// seat is one device's latest session under a key (a client
// certificate, an MQTT client id at a broker).
type seat struct {
	dev        device
	ip         netip.Addr
	start, end time.Time // of the device's latest session
	example    ref
}

// holders are the devices that used one key within the window.
type holders struct {
	seats    []seat
	reported time.Time // when the conflict was last reported
	overlaps bool      // two devices' sessions overlapped
	returns  bool      // the key went back to a device after another one
}

// takeoverGrace is how long two devices' sessions may overlap and still
// be one device moving: a device back at a new address (its lease
// lapsed) reconnects while the broker still holds its old connection,
// which the broker closes when the new CONNECT takes the client id over
// — the old record ends a handshake after the new one starts. Clones
// overlap for as long as both stay connected, or knock each other off
// in turn, which the alternation test catches.
const takeoverGrace = 10 * time.Second

// overlapping says whether two sessions overlap other than by a
// takeover: the later one started before the earlier one ended, and
// either lies within it or overlaps it by more than takeoverGrace.
func overlapping(s1, e1, s2, e2 time.Time) bool {
	if s2.Before(s1) {
		s1, e1, s2, e2 = s2, e2, s1, e1
	}
	return s2.Before(e1) && (!e1.Before(e2) || e1.Sub(s2) > takeoverGrace)
}

// tracker keeps, per key, the devices that used it and tells when two of
// them used it at once (their sessions overlap) or in turn (A, B, then A
// again). A device that merely changes address uses it before, then
// after, never in turn, and is not a conflict.
type tracker[K comparable] struct {
	window     time.Duration
	maxDevices int // seats kept per key
	maxKeys    int
	keys       map[K]*holders
	free       []*holders // expired holders kept for reuse
	evicted    uint64
	sweep      sweeper
}

func newTracker[K comparable](window time.Duration, maxDevices, maxKeys int) *tracker[K] {
	return &tracker[K]{window: window, maxDevices: maxDevices, maxKeys: maxKeys,
		keys: make(map[K]*holders), sweep: sweeper{every: window}}
}

// observe records that the device at e used k in session s and reports
// whether that conflicts with another device's use within the window.
func (tr *tracker[K]) observe(k K, s *schema.Session, e *schema.Endpoint) (h *holders, conflict bool) {
	h = tr.keys[k]
	if h == nil {
		if len(tr.keys) >= tr.maxKeys {
			evictOne(tr.keys)
			tr.evicted++
		}
		if n := len(tr.free); n > 0 {
			h = tr.free[n-1]
			tr.free = tr.free[:n-1]
		} else {
			h = &holders{}
		}
		tr.keys[k] = h
	}
	dev := deviceOf(e)
	mine := -1
	for i := range h.seats {
		if h.seats[i].dev == dev {
			mine = i
		}
	}
	for i := range h.seats {
		o := &h.seats[i]
		// The window runs from the other device's last use to this
		// record's end: a long connection's hourly record must not
		// recall a device that left hours ago.
		if i == mine || s.End.Sub(o.end) > tr.window {
			continue
		}
		if overlapping(s.Start, s.End, o.start, o.end) {
			h.overlaps, conflict = true, true
		}
		// A new session of ours after another device's began since our
		// previous one.
		if mine >= 0 {
			prev := h.seats[mine].start
			if prev.Before(o.start) && o.start.Before(s.Start) {
				h.returns, conflict = true, true
			}
		}
	}
	tr.seat(h, mine, dev, s, e)
	return h, conflict
}

// seat updates the device's seat, or gives it one: a free place, else
// the place of a device gone quiet for the window; when every place is
// held by a recent device the newcomer is left out (the conflict is
// known by then).
func (tr *tracker[K]) seat(h *holders, mine int, dev device, s *schema.Session, e *schema.Endpoint) {
	if mine >= 0 {
		st := &h.seats[mine]
		switch {
		case s.Start.After(st.start): // a new session
			st.start, st.end, st.ip, st.example = s.Start, s.End, e.IP, refOf(s)
		case s.End.After(st.end):
			st.end = s.End
		}
		return
	}
	n := seat{dev: dev, ip: e.IP, start: s.Start, end: s.End, example: refOf(s)}
	if len(h.seats) < tr.maxDevices {
		h.seats = append(h.seats, n)
		return
	}
	for i := range h.seats {
		if s.Start.Sub(h.seats[i].end) > tr.window {
			h.seats[i] = n
			return
		}
	}
}

// recent lists the seats used within the window before t.
func (tr *tracker[K]) recent(h *holders, t time.Time) []*seat {
	var out []*seat
	for i := range h.seats {
		if t.Sub(h.seats[i].end) <= tr.window {
			out = append(out, &h.seats[i])
		}
	}
	return out
}

// expire drops the seats quiet for the window, and the keys left with
// none.
func (tr *tracker[K]) expire(now time.Time) {
	if !tr.sweep.due(now) {
		return
	}
	for k, h := range tr.keys {
		kept := h.seats[:0]
		for _, st := range h.seats {
			if now.Sub(st.end) <= tr.window {
				kept = append(kept, st)
			}
		}
		clear(h.seats[len(kept):])
		h.seats = kept
		if len(kept) == 0 {
			delete(tr.keys, k)
			*h = holders{seats: h.seats[:0]}
			tr.free = append(tr.free, h)
		}
	}
}
