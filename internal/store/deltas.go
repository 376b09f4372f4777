package store

import (
	"context"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Deltas turns cumulative session records (docs/schema.md) into what each
// adds since the previous record of its uid, for the rollups and every
// sum. It remembers the latest counters of flows that have not ended yet;
// for a flow it has not seen (a restart, or one forgotten at the cap) it
// asks the store for the previous record.
type Deltas struct {
	// Previous looks up a stored record; nil treats every unseen flow's
	// record as its first.
	Previous func(ctx context.Context, s *schema.Session) (Counters, bool, error)
	// Max bounds the flows remembered (default 1 M, ~100 B each).
	Max  int
	live map[flowID]Counters
}

type flowID struct{ tenant, uid string }

// Record is s with its delta.
func (d *Deltas) Record(ctx context.Context, s *schema.Session) (Record, error) {
	cur := Counters{OrigBytes: s.OrigBytes, RespBytes: s.RespBytes, OrigPkts: s.OrigPkts, RespPkts: s.RespPkts}
	r := Record{Session: *s, Delta: cur}
	if d.live == nil {
		d.live = map[flowID]Counters{}
	}
	id := flowID{s.Tenant, s.UID}
	if s.Seq > 0 {
		prev, ok := d.live[id]
		if !ok && d.Previous != nil {
			var err error
			if prev, ok, err = d.Previous(ctx, s); err != nil {
				return r, err
			}
		}
		if ok {
			r.Delta = sub(cur, prev)
		}
	}
	if s.Final {
		delete(d.live, id)
		return r, nil
	}
	max := d.Max
	if max <= 0 {
		max = 1 << 20
	}
	if _, ok := d.live[id]; !ok && len(d.live) >= max {
		for k := range d.live { // forget one; the store answers for it later
			delete(d.live, k)
			break
		}
	}
	d.live[id] = cur
	return r, nil
}

// sub never goes below zero: counters only grow within a flow.
func sub(a, b Counters) Counters {
	f := func(x, y uint64) uint64 {
		if x < y {
			return 0
		}
		return x - y
	}
	return Counters{f(a.OrigBytes, b.OrigBytes), f(a.RespBytes, b.RespBytes), f(a.OrigPkts, b.OrigPkts), f(a.RespPkts, b.RespPkts)}
}
