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

// Rollups are written once, when their minute is over: a minute
// rewritten by every batch that adds to it (DELETE … RETURNING and an
// insert, as before) cost ingest a fifth of its time and left deleted
// rows that every scan skips until a checkpoint (top talkers 20 → 12 ms
// once a 10 M load was checkpointed). So the rollups end at rolled: the
// records that end before it are in them, and reads take the rest from
// sessions (sqlstore.DB.Rolled). A batch moves rolled to its newest
// record's minute, summing the sessions in between by GROUP BY; hourly
// tables follow for each hour rolled passes, from the minute rollup
// (devices) and from sessions (addresses). So a live dashboard ending on
// the current minute reads no sessions: a record of an earlier minute
// arriving after that is late.
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

// nextRolled is where rolled moves to with recs stored.
func nextRolled(rolled int64, recs []*store.Record) int64 {
	limit := sqlstore.Micros(time.Now().Add(rollAhead))
	next := rolled
	for _, r := range recs {
		if e := sqlstore.Micros(r.End); e < limit {
			next = max(next, floor(e, minuteUs))
		}
	}
	return next
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
// records to as rolled.
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
	if h0, h1 := floor(from, hourUs), floor(to, hourUs); h1 > h0 {
		if err := run(rollingHours, h0, h1); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE rollup_state SET rolled_us = ?", to)
	return err
}

// rollupTables are the rollups' time and key columns, for compactLate.
var rollupTables = []struct{ table, time, keys string }{
	{"rollup_app", "minute_us", "app"},
	{"rollup_segment", "minute_us", "orig_segment, resp_segment"},
	{"rollup_device", "minute_us", "device"},
	{"rollup_device_hour", "hour_us", "device"},
	{"rollup_ip_hour", "hour_us", "side, ip_hi, ip_lo"},
}

// hoursOf are the hours (µs) of the records that end before rolled.
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

// compactLate sums each key's rows into one in every rollup, for the
// marked hours that end settle before rolled, and returns them.
func compactLate(ctx context.Context, tx *sql.Tx, late map[int64]bool, rolled int64) ([]int64, error) {
	var done []int64
	for h := range late {
		if h+hourUs > rolled-settle {
			continue
		}
		for _, t := range rollupTables {
			span := " FROM " + t.table + " WHERE " + t.time + " >= $1 AND " + t.time + " < $2"
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"CREATE OR REPLACE TEMP TABLE osprey_compact AS SELECT tenant, " + t.time + ", " + t.keys +
					", sum(bytes)::UBIGINT, sum(packets)::UBIGINT, sum(sessions)::UBIGINT" + span + " GROUP BY ALL", []any{h, h + hourUs}},
				{"DELETE" + span, []any{h, h + hourUs}},
				{"INSERT INTO " + t.table + " SELECT * FROM osprey_compact ORDER BY " + t.time, nil},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					return nil, fmt.Errorf("compact %s: %w", t.table, err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM rollup_late WHERE hour_us = ?", h); err != nil {
			return nil, err
		}
		done = append(done, h)
	}
	if len(done) > 0 {
		if _, err := tx.ExecContext(ctx, "DROP TABLE osprey_compact"); err != nil {
			return nil, err
		}
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
