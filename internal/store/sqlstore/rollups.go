package sqlstore

import (
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
)

// rollup is a table of sums per time bucket and key, kept at ingest by
// every backend (docs/store.md): cond, when set, picks the rows of one
// dimension in a table that holds several (the address table's sides);
// addr marks a key that is an address.
type rollup struct {
	table, key, time, cond string
	addr                   bool
}

// minuteRollups and hourRollups are the rollup tables by the dimension
// they answer for. Per minute, a day of a busy site's devices is millions
// of rows; per hour, a few hundred thousand, so whole hours of a range
// are read from the hourly tables and only its ragged ends from finer
// ones.
var (
	minuteRollups = map[string]rollup{
		"app":    {table: "rollup_app", key: "app", time: "minute_us"},
		"device": {table: "rollup_device", key: "device", time: "minute_us"},
	}
	hourRollups = map[string]rollup{
		"device": {table: "rollup_device_hour", key: "device", time: "hour_us"},
		"src.ip": {table: "rollup_ip_hour", key: "ip", time: "hour_us", cond: "side = 0", addr: true},
		"dst.ip": {table: "rollup_ip_hour", key: "ip", time: "hour_us", cond: "side = 1", addr: true},
	}
)

// fromRollup is the rollup's rows in sc as rows() gives them.
func (db *DB) fromRollup(u rollup, sc store.Scope, args []any) (string, []any) {
	w, args := db.where(sc, nil, false, u.time, args)
	if u.cond != "" {
		w += " AND " + u.cond
	}
	key := u.key
	if u.addr {
		key = db.D.Addr(key)
	}
	return "SELECT " + key + " AS k, bytes AS b, packets AS p, sessions AS n, " + u.time + " AS t FROM " + u.table + " WHERE " + w, args
}

// pieces splits sc for a dimension without a filter: the whole hours
// from the hourly rollup, where there is one and grain allows, and the
// rest from the minute rollup when on minute boundaries, else from
// sessions (raw, nil u). grain is the coarsest bucket the caller can take
// (a series' step); zero takes any.
func pieces(dim string, sc store.Scope, grain time.Duration) []piece {
	fine := func(sc store.Scope) piece {
		if u, ok := minuteRollups[dim]; ok && on(sc.Since, time.Minute) && on(sc.Until, time.Minute) && (grain == 0 || grain%time.Minute == 0) {
			return piece{sc, &u}
		}
		return piece{sc, nil}
	}
	hour, ok := hourRollups[dim]
	if !ok || (grain != 0 && grain%time.Hour != 0) {
		return []piece{fine(sc)}
	}
	lo, hi := sc.Since, sc.Until
	if !lo.IsZero() && !on(lo, time.Hour) {
		lo = lo.Truncate(time.Hour).Add(time.Hour)
	}
	if !hi.IsZero() {
		hi = hi.Truncate(time.Hour)
	}
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		return []piece{fine(sc)} // within one hour
	}
	out := []piece{{store.Scope{Tenant: sc.Tenant, Range: store.Range{Since: lo, Until: hi}}, &hour}}
	if !lo.Equal(sc.Since) {
		out = append(out, fine(store.Scope{Tenant: sc.Tenant, Range: store.Range{Since: sc.Since, Until: lo}}))
	}
	if !hi.Equal(sc.Until) {
		out = append(out, fine(store.Scope{Tenant: sc.Tenant, Range: store.Range{Since: hi, Until: sc.Until}}))
	}
	return out
}

// piece is part of a range and the rollup that answers for it (nil:
// the sessions themselves).
type piece struct {
	sc store.Scope
	u  *rollup
}

// on says t is on a boundary of unit (the zero time, an open end, is).
func on(t time.Time, unit time.Duration) bool { return t.IsZero() || t.Equal(t.Truncate(unit)) }

func unionAll(parts []string) string { return strings.Join(parts, " UNION ALL ") }
