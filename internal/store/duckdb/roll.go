package duckdb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// Rollups are written once, when their minute is over: records arrive
// about in time order, and a minute rewritten by every batch that adds
// to it left DuckDB's tables full of deleted rows, which every scan
// skips until a checkpoint (reads of the rollups 2–4× slower while
// ingesting). So the rollups end at rolled: the records that end before
// it are in them, and reads take what ends after it from sessions
// (sqlstore.DB.Rolled). A batch moves rolled up to a minute before the
// minute of its newest record, summing the sessions in between by
// GROUP BY; a late record, ending before rolled, is summed in Go and
// appended (newRollups). Hourly tables end at rolled's hour: an hour is
// summed from the minute rollup (devices) and from sessions (addresses)
// once rolled passes its end.

// rollupState is the migration that adds rollup_state.
const rollupState = 6

// rollLag is how far rolled stays behind the newest record, so that
// records a little out of order are not late.
const rollLag = minuteUs

// rollAhead bounds how far ahead of the clock a record may move rolled:
// one stamped in the future by a wrong clock would make every record
// late until then.
const rollAhead = time.Hour

// nextRolled is where rolled moves to with recs stored.
func nextRolled(rolled int64, recs []*store.Record) int64 {
	limit := sqlstore.Micros(time.Now().Add(rollAhead))
	next := rolled
	for _, r := range recs {
		if e := sqlstore.Micros(r.End); e < limit {
			next = max(next, floor(e, minuteUs)-rollLag)
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

// loadRolled reads where the rollups end.
func (s *Store) loadRolled(ctx context.Context) error {
	var us int64
	if err := s.SQL.QueryRowContext(ctx, "SELECT rolled_us FROM rollup_state").Scan(&us); err != nil {
		return err
	}
	s.rolled.Store(us)
	return nil
}
