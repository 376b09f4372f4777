package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// Rollups are written once: a minute rewritten by every batch that adds
// to it (DELETE … RETURNING and an insert, as before) cost ingest a fifth
// of its time and left deleted rows that every scan skips until a
// checkpoint (top talkers 20 → 12 ms once a 10 M load was checkpointed).
// So the rollups end at rolled: the records that end before it are in
// them, and reads take the rest from sessions (sqlstore.Rolled). A batch
// moves rolled past its newest record, summing the sessions in between
// by GROUP BY; hourly tables follow for each hour rolled passes, from the
// minute rollup (devices) and from sessions (addresses). The minute
// rolled is in gets rows from each batch that rolls part of it, summed
// into one a key once rolled is past it (compact). So a live dashboard
// reads no sessions: when rolled stopped at the minute, it read up to a
// minute of them — at 40 000 records/s, 1.8 M rows, and an application
// breakdown took 58 ms instead of 1.8 (docs/benchmarks.md).
//
// A late record, ending before rolled, is summed in Go and appended
// (newRollups), and its hour is compacted — each key's rows of it summed
// into one — once rolled is past the hour by settle. A sensor reports a
// flow when it ends or goes idle (TCP after 5 minutes), so a live stream
// holds many records a few minutes late: appended alone, they would give
// a rollup of few keys (apps) a row per key and batch.

// rollupState and lateHours are the migrations that add rollup_state
// and rollup_late.
const (
	rollupState = 6
	lateHours   = 7
)

// rollAhead bounds how far ahead of the clock a record may move rolled:
// one stamped in the future by a wrong clock would make every record
// late until then.
const rollAhead = time.Hour

// settle is how long after an hour with late records it is compacted.
const settle = 10 * minuteUs

// nextRolled is where rolled moves to with recs stored: past the newest.
func nextRolled(rolled int64, recs []*store.Record) int64 {
	limit := sqlstore.Micros(time.Now().Add(rollAhead))
	next := rolled
	for _, r := range recs {
		if e := sqlstore.Micros(r.End); e < limit {
			next = max(next, e+1)
		}
	}
	return next
}

// rolledUp is where the rollups end, for reads (sqlstore.Rolled). The
// writer stores newest before rolled, so that a read seeing the new end
// sees the records beyond it.
func (s *Store) rolledUp() sqlstore.Rolled {
	at := s.rolled.Load()
	return sqlstore.Rolled{At: time.UnixMicro(at), Column: "rolled_us", Table: "rollup_state", Beyond: s.newest.Load() >= at}
}

// Each rollup's sums of the sessions ending in [$1, $2), one row per key
// and bucket (of {unit} µs); the hourly device table sums the minute table.
var (
	measure = "d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, (seq = 0)::UBIGINT AS n"
	during  = " FROM sessions WHERE end_us >= $1 AND end_us < $2"
	rolling = per(minuteUs,
		`INSERT INTO rollup_app SELECT tenant, t, app, sum(b), sum(p), sum(n) FROM (
	SELECT tenant, end_us // {unit} * {unit} AS t, app, `+measure+during+`)
GROUP BY tenant, t, app ORDER BY t`,
		`INSERT INTO rollup_segment SELECT tenant, t, orig_segment, resp_segment, sum(b), sum(p), sum(n) FROM (
	SELECT tenant, end_us // {unit} * {unit} AS t, orig_segment, resp_segment, `+measure+during+`)
GROUP BY tenant, t, orig_segment, resp_segment ORDER BY t`,
		`INSERT INTO rollup_device SELECT tenant, t, device, sum(b), sum(p), sum(n) FROM (
	SELECT tenant, end_us // {unit} * {unit} AS t, orig_device AS device, `+measure+during+`
	UNION ALL SELECT tenant, end_us // {unit} * {unit}, resp_device, `+measure+during+`)
GROUP BY tenant, t, device ORDER BY t`)
	rollingHours = per(hourUs,
		`INSERT INTO rollup_device_hour SELECT tenant, minute_us // {unit} * {unit} AS t, device, sum(bytes), sum(packets), sum(sessions)
FROM rollup_device WHERE minute_us >= $1 AND minute_us < $2 GROUP BY tenant, t, device ORDER BY t`,
		`INSERT INTO rollup_ip_hour SELECT tenant, t, side, ip_hi, ip_lo, sum(b), sum(p), sum(n) FROM (
	SELECT tenant, end_us // {unit} * {unit} AS t, 0 AS side, orig_ip_hi AS ip_hi, orig_ip_lo AS ip_lo, `+measure+during+`
	UNION ALL SELECT tenant, end_us // {unit} * {unit}, 1, resp_ip_hi, resp_ip_lo, `+measure+during+`)
GROUP BY tenant, t, side, ip_hi, ip_lo ORDER BY t`)
)

// per writes unit into queries.
func per(unit int64, queries ...string) []string {
	for i, q := range queries {
		queries[i] = strings.ReplaceAll(q, "{unit}", strconv.FormatInt(unit, 10))
	}
	return queries
}

// rollForward sums the sessions ending in [from, to) into the minute
// rollups and, for the hours that to completes, the hourly ones, and
// records to as rolled. The minute from is in, when from is not on it,
// now has rows from more than one batch: once to is past it, they are
// compacted.
func rollForward(ctx context.Context, tx *sql.Tx, from, to int64) error {
	run := func(queries []string, from, to int64) error {
		for _, q := range queries {
			if _, err := tx.ExecContext(ctx, q, from, to); err != nil {
				return err
			}
		}
		return nil
	}
	if err := run(rolling, from, to); err != nil {
		return err
	}
	if m := floor(from, minuteUs); m < from && to >= m+minuteUs {
		if err := compact(ctx, tx, minuteTables, m, m+minuteUs); err != nil {
			return err
		}
	}
	if h0, h1 := floor(from, hourUs), floor(to, hourUs); h1 > h0 {
		if err := run(rollingHours, h0, h1); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE rollup_state SET rolled_us = ?", to)
	return err
}

// rollupTable is a rollup's time and key columns, for compact.
type rollupTable struct{ table, time, keys string }

// rollupTables are the rollups, the minute tables first.
var rollupTables = []rollupTable{
	{"rollup_app", "minute_us", "app"},
	{"rollup_segment", "minute_us", "orig_segment, resp_segment"},
	{"rollup_device", "minute_us", "device"},
	{"rollup_device_hour", "hour_us", "device"},
	{"rollup_ip_hour", "hour_us", "side, ip_hi, ip_lo"},
}

var minuteTables = rollupTables[:3]

// compact sums each key's rows of the buckets in [from, to) into one,
// in each of tables.
func compact(ctx context.Context, tx *sql.Tx, tables []rollupTable, from, to int64) error {
	for _, t := range tables {
		span := " FROM " + t.table + " WHERE " + t.time + " >= $1 AND " + t.time + " < $2"
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"CREATE OR REPLACE TEMP TABLE osprey_compact AS SELECT tenant, " + t.time + ", " + t.keys +
				", sum(bytes)::UBIGINT, sum(packets)::UBIGINT, sum(sessions)::UBIGINT" + span + " GROUP BY ALL", []any{from, to}},
			{"DELETE" + span, []any{from, to}},
			{"INSERT INTO " + t.table + " SELECT * FROM osprey_compact ORDER BY " + t.time, nil},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("compact %s: %w", t.table, err)
			}
		}
	}
	_, err := tx.ExecContext(ctx, "DROP TABLE osprey_compact")
	return err
}

// hoursOf are the hours (µs) of the records that end before rolled.
// (Those of the minute rolled is in are compacted with it.)
func hoursOf(recs []*store.Record, rolled int64) map[int64]bool {
	hours := map[int64]bool{}
	for _, r := range recs {
		if e := sqlstore.Micros(r.End); e < rolled {
			hours[floor(e, hourUs)] = true
		}
	}
	return hours
}

// markLate records the hours that late records were appended to and
// are not marked yet (late: the hours marked before).
func markLate(ctx context.Context, tx *sql.Tx, hours, late map[int64]bool) error {
	for h := range hours {
		if !late[h] {
			if _, err := tx.ExecContext(ctx, "INSERT INTO rollup_late VALUES (?)", h); err != nil {
				return err
			}
		}
	}
	return nil
}

// merged is the union of two sets of hours.
func merged(a, b map[int64]bool) map[int64]bool {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}

// compactLate compacts the marked hours that end settle before rolled,
// and returns them.
func compactLate(ctx context.Context, tx *sql.Tx, late map[int64]bool, rolled int64) ([]int64, error) {
	var done []int64
	for h := range late {
		if h+hourUs > rolled-settle {
			continue
		}
		if err := compact(ctx, tx, rollupTables, h, h+hourUs); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM rollup_late WHERE hour_us = ?", h); err != nil {
			return nil, err
		}
		done = append(done, h)
	}
	return done, nil
}

// loadRolled reads where the rollups end and the hours to compact.
func (s *Store) loadRolled(ctx context.Context) error {
	var us int64
	if err := s.SQL.QueryRowContext(ctx, "SELECT rolled_us FROM rollup_state").Scan(&us); err != nil {
		return err
	}
	s.rolled.Store(us)
	if err := s.SQL.QueryRowContext(ctx, "SELECT coalesce(max(end_us), -1) FROM sessions").Scan(&us); err != nil {
		return err
	}
	s.newest.Store(us)
	if len(migrations) <= lateHours { // tests of old schemas
		return nil
	}
	rows, err := s.SQL.QueryContext(ctx, "SELECT hour_us FROM rollup_late")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return err
		}
		s.late[h] = true
	}
	return rows.Err()
}
