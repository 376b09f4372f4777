package sqlstore

import (
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
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
	// segments is the matrix's (its key is a pair: segmentRows).
	segments    = rollup{table: "rollup_segment", time: "minute_us"}
	hourRollups = map[string]rollup{
		"device": {table: "rollup_device_hour", key: "device", time: "hour_us"},
		"src.ip": {table: "rollup_ip_hour", key: "ip", time: "hour_us", cond: "side = 0", addr: true},
		"dst.ip": {table: "rollup_ip_hour", key: "ip", time: "hour_us", cond: "side = 1", addr: true},
	}
)

// fromRollup is a rollup piece's rows as rows() gives them; signed
// gives the sums as signed integers, negated for a minus piece.
func (db *DB) fromRollup(pc piece, signed bool, args []any) (string, []any) {
	u := *pc.u
	w, args := db.pieceWhere(pc, nil, u.time, args)
	if u.cond != "" {
		w += " AND " + u.cond
	}
	key := u.key
	if u.addr {
		key = db.D.Addr(key)
	}
	m := db.measured("bytes", "packets", "sessions", signed, pc.minus)
	return "SELECT " + key + " AS k, " + m + ", " + u.time + " AS t FROM " + u.table + " WHERE " + w, args
}

// measured is a piece's bytes, packets and flows as rows() has them (b,
// p, n): as signed integers when signed (ClickHouse has no common type
// of Int64 and UInt64), negated when minus.
func (db *DB) measured(b, p, n string, signed, minus bool) string {
	if signed {
		b, p, n = db.D.Signed(b), db.D.Signed(p), db.D.Signed(n)
	}
	if minus {
		b, p, n = "-"+b, "-"+p, "-"+n
	}
	return b + " AS b, " + p + " AS p, " + n + " AS n"
}

// pieceWhere is the conditions of a piece's rows, its time in timeCol:
// its scope's, f's, and a bound piece's bound.
func (db *DB) pieceWhere(p piece, f filter.Expr, timeCol string, args []any) (string, []any) {
	w, args := db.where(p.sc, f, false, timeCol, args)
	if p.bound != nil {
		var b string
		b, args = db.bound(p.sc, p.bound, args)
		op := " >= "
		if p.u != nil {
			op = " < "
		}
		w += " AND " + timeCol + op + b
	}
	return w, args
}

// Rolled is where a backend's rollups end when they do not hold every
// record stored (DuckDB's, rolled forward by each batch): the records
// that end before At are in them, the minute of At only up to At; the
// others are read from sessions.
type Rolled struct {
	At time.Time
	// Column of Table (one row) is the same end as a query reads it, in
	// its own snapshot: a batch committed between planning a query and
	// running it moves the end, and a bound read there still counts each
	// record once.
	Column, Table string
	// Beyond says that stored records end at or after At (stamped ahead
	// of the clock): without them, a range ending on a minute is read
	// from the rollups alone.
	Beyond bool
}

// pieces splits sc for a dimension without a filter: before the minute
// the rollups end in by pieces, the rest by live.
func (db *DB) pieces(dim string, sc store.Scope, grain time.Duration) []piece {
	minute, ok := minuteRollups[dim]
	head := func(sc store.Scope, rolled time.Time) []piece { return pieces(dim, sc, grain, rolled) }
	return db.byRolled(sc, head, &minute, ok && (grain == 0 || grain%time.Minute == 0))
}

// segmentPieces splits sc for the segment matrix: before the minute the
// rollups end in by byMinutes, the rest by live.
func (db *DB) segmentPieces(sc store.Scope) []piece {
	head := func(sc store.Scope, _ time.Time) []piece { return byMinutes(sc, &segments) }
	return db.byRolled(sc, head, &segments, true)
}

// byRolled splits sc at the minute the rollups end in (DB.Rolled): head
// answers for what is before it, given that minute, and live for the
// rest, with u as the minute rollup where byMinute.
func (db *DB) byRolled(sc store.Scope, head func(store.Scope, time.Time) []piece, u *rollup, byMinute bool) []piece {
	if db.Rolled == nil {
		return head(sc, time.Time{})
	}
	r := db.Rolled()
	m := r.At.Truncate(time.Minute)
	before, after := split(sc, m)
	var out []piece
	if before != nil {
		out = head(*before, m)
	}
	if after != nil {
		out = append(out, db.live(*after, u, byMinute, r)...)
	}
	return out
}

// byMinutes is sc's whole minutes from the minute rollup u and its
// ragged ends from sessions.
func byMinutes(sc store.Scope, u *rollup) []piece {
	lo, hi := sc.Since, sc.Until
	if !on(lo, time.Minute) {
		lo = lo.Truncate(time.Minute).Add(time.Minute)
	}
	hi = hi.Truncate(time.Minute) // the zero time stays
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		return []piece{{sc: sc}}
	}
	out := []piece{{sc: within(sc, lo, hi), u: u}}
	if !lo.Equal(sc.Since) {
		out = append(out, piece{sc: within(sc, sc.Since, lo)})
	}
	if !hi.Equal(sc.Until) {
		out = append(out, piece{sc: within(sc, hi, sc.Until)})
	}
	return out
}

// live is sc, from the minute the rollups end in on: where the minute
// rollup u can answer (byMinute, and sc begins on a minute), its rows
// before the rollups' end and sessions from there — both bounded by the
// end as the query reads it, unless sc ends on a minute and nothing is
// stored beyond the end, when the rollup holds every record of sc —
// else sessions alone.
func (db *DB) live(sc store.Scope, u *rollup, byMinute bool, r Rolled) []piece {
	switch {
	case !byMinute || !on(sc.Since, time.Minute):
		return []piece{{sc: sc}}
	case on(sc.Until, time.Minute) && !r.Beyond:
		return []piece{{sc: sc, u: u}}
	}
	return []piece{{sc: sc, u: u, bound: &r}, {sc: sc, bound: &r}}
}

// bound is where a live piece's rollup rows end and its sessions begin,
// as the query reads it: the rollups' end, or, when that is past sc,
// the minute sc ends in (whose rows hold records after sc). One scalar
// subquery, which DuckDB pushes into the scan as a filter once it is
// known (a CASE of two was evaluated row by row).
func (db *DB) bound(sc store.Scope, r *Rolled, args []any) (string, []any) {
	e := r.Column
	if !sc.Until.IsZero() {
		until, minute := db.bind(&args, Micros(sc.Until)), db.bind(&args, Micros(sc.Until.Truncate(time.Minute)))
		e = "CASE WHEN " + e + " <= " + until + " THEN " + e + " ELSE " + minute + " END"
	}
	return "(SELECT " + e + " FROM " + r.Table + ")", args
}

// split is sc before rolled and from it (nil when empty); a zero
// rolled is no end.
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
// and grain allows, the whole minutes of the rest from the minute rollup,
// where there is one and grain allows, and the seconds of ragged ends
// from sessions (raw, nil u). grain is the coarsest bucket the caller
// can take (a series' step); zero takes any, and then an end that covers
// more than half an hour is read as its hour less the part outside it
// (complement): a day ending at 10:42 reads 18 minutes of the hour
// rather than 42, and one from 10:17 reads 17 rather than 43. The sums
// stay exact, but a value whose traffic in the range is all outside such
// an end sums to zero rather than being absent (Top leaves zeros out).
// An hour the rollups do not cover whole is never complemented.
func pieces(dim string, sc store.Scope, grain time.Duration, rolled time.Time) []piece {
	minute, byMinute := minuteRollups[dim]
	fine := func(sc store.Scope) []piece {
		if byMinute && (grain == 0 || grain%time.Minute == 0) {
			return byMinutes(sc, &minute)
		}
		return []piece{{sc: sc}}
	}
	hour, ok := hourRollups[dim]
	if !ok || (grain != 0 && grain%time.Hour != 0) {
		return fine(sc)
	}
	lo, hi := sc.Since, sc.Until
	if !lo.IsZero() && !on(lo, time.Hour) {
		lo = lo.Truncate(time.Hour).Add(time.Hour)
	}
	if !hi.IsZero() {
		hi = hi.Truncate(time.Hour)
	}
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		return fine(sc) // within one hour
	}
	scope := func(since, until time.Time) store.Scope { return within(sc, since, until) }
	minus := func(ps []piece) []piece {
		for i := range ps {
			ps[i].minus = true
		}
		return ps
	}
	// end is the part of the hour h within [since, until).
	end := func(h, since, until time.Time) []piece {
		closed := rolled.IsZero() || !h.Add(time.Hour).After(rolled)
		if grain != 0 || until.Sub(since) <= 30*time.Minute || !closed {
			return fine(scope(since, until))
		}
		out := []piece{{sc: scope(h, h.Add(time.Hour)), u: &hour}}
		if since.After(h) {
			out = append(out, minus(fine(scope(h, since)))...)
		}
		if until.Before(h.Add(time.Hour)) {
			out = append(out, minus(fine(scope(until, h.Add(time.Hour))))...)
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
// the sessions themselves); a piece marked minus is subtracted; a
// bound piece holds only rows before (rollup) or records from
// (sessions) the bound of live.
type piece struct {
	sc    store.Scope
	u     *rollup
	minus bool
	bound *Rolled
}

// within is sc's tenant over [since, until).
func within(sc store.Scope, since, until time.Time) store.Scope {
	return store.Scope{Tenant: sc.Tenant, Range: store.Range{Since: since, Until: until}}
}

// on says t is on a boundary of unit (the zero time, an open end, is).
func on(t time.Time, unit time.Duration) bool { return t.IsZero() || t.Equal(t.Truncate(unit)) }

func unionAll(parts []string) string { return strings.Join(parts, " UNION ALL ") }
