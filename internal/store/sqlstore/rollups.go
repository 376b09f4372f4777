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

// fromRollup is the rollup's rows in sc as rows() gives them; signed
// gives the sums as signed integers, negated when minus.
func (db *DB) fromRollup(u rollup, sc store.Scope, signed, minus bool, args []any) (string, []any) {
	w, args := db.where(sc, nil, false, u.time, args)
	if u.cond != "" {
		w += " AND " + u.cond
	}
	key := u.key
	if u.addr {
		key = db.D.Addr(key)
	}
	b, p, n := "bytes", "packets", "sessions"
	if signed {
		b, p, n = db.D.Signed(b), db.D.Signed(p), db.D.Signed(n)
	}
	if minus {
		b, p, n = "-"+b, "-"+p, "-"+n
	}
	return "SELECT " + key + " AS k, " + b + " AS b, " + p + " AS p, " + n + " AS n, " + u.time + " AS t FROM " + u.table + " WHERE " + w, args
}

// pieces splits sc for a dimension without a filter: what ends after
// the rollups (DB.Rolled) is read from sessions, the rest by pieces.
func (db *DB) pieces(dim string, sc store.Scope, grain time.Duration) []piece {
	rolled := db.rolled()
	head, tail := split(sc, rolled)
	var out []piece
	if head != nil {
		out = pieces(dim, *head, grain, rolled)
	}
	if tail != nil {
		out = append(out, piece{sc: *tail})
	}
	return out
}

// rolled is where the rollups end, zero for no end.
func (db *DB) rolled() time.Time {
	if db.Rolled == nil {
		return time.Time{}
	}
	return db.Rolled()
}

// split is sc before the rollups' end, which they answer for, and after
// it, which only sessions do (nil when empty); a zero rolled is no end.
func split(sc store.Scope, rolled time.Time) (head, tail *store.Scope) {
	if rolled.IsZero() || (!sc.Until.IsZero() && !sc.Until.After(rolled)) {
		return &sc, nil
	}
	if !sc.Since.IsZero() && !sc.Since.Before(rolled) {
		return nil, &sc
	}
	h, t := sc, sc
	h.Until, t.Since = rolled, rolled
	return &h, &t
}

// pieces splits sc, within the rollups (ending at rolled), for a
// dimension: the whole hours from the hourly rollup, where there is one
// and grain allows, and the rest from the minute rollup when on minute
// boundaries, else from sessions (raw, nil u). grain is the coarsest
// bucket the caller can take (a series' step); zero takes any, and then
// an end that covers more than half an hour is read as its hour less the
// minutes outside it (complement): a day ending at 10:42 reads 18 minutes of the hour
// rather than 42, and one from 10:17 reads 17 rather than 43. The sums
// stay exact, but a value whose traffic in the range is all outside such
// an end sums to zero rather than being absent (Top leaves zeros out).
// An hour the rollups do not cover whole is never complemented.
func pieces(dim string, sc store.Scope, grain time.Duration, rolled time.Time) []piece {
	minute, byMinute := minuteRollups[dim]
	fine := func(sc store.Scope) piece {
		if byMinute && on(sc.Since, time.Minute) && on(sc.Until, time.Minute) && (grain == 0 || grain%time.Minute == 0) {
			return piece{sc: sc, u: &minute}
		}
		return piece{sc: sc}
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
	scope := func(since, until time.Time) store.Scope {
		return store.Scope{Tenant: sc.Tenant, Range: store.Range{Since: since, Until: until}}
	}
	// end is the part of the hour h within [since, until).
	end := func(h, since, until time.Time) []piece {
		p := fine(scope(since, until))
		closed := rolled.IsZero() || !h.Add(time.Hour).After(rolled)
		if grain != 0 || p.u == nil || until.Sub(since) <= 30*time.Minute || !closed {
			return []piece{p}
		}
		out := []piece{{sc: scope(h, h.Add(time.Hour)), u: &hour}}
		if since.After(h) {
			out = append(out, piece{sc: scope(h, since), u: &minute, minus: true})
		}
		if until.Before(h.Add(time.Hour)) {
			out = append(out, piece{sc: scope(until, h.Add(time.Hour)), u: &minute, minus: true})
		}
		return out
	}
	out := []piece{{sc: scope(lo, hi), u: &hour}}
	if !lo.Equal(sc.Since) {
		out = append(out, end(lo.Add(-time.Hour), sc.Since, lo)...)
	}
	if !hi.Equal(sc.Until) {
		out = append(out, end(hi, hi, sc.Until)...)
	}
	return out
}

// piece is part of a range and the rollup that answers for it (nil:
// the sessions themselves); a piece marked minus is subtracted.
type piece struct {
	sc    store.Scope
	u     *rollup
	minus bool
}

// on says t is on a boundary of unit (the zero time, an open end, is).
func on(t time.Time, unit time.Duration) bool { return t.IsZero() || t.Equal(t.Truncate(unit)) }

func unionAll(parts []string) string { return strings.Join(parts, " UNION ALL ") }
