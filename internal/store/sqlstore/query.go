package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// DB runs the typed queries against one backend.
type DB struct {
	SQL *sql.DB
	D   Dialect
}

// where builds the tenant, time and filter conditions, appending to args.
// Searches take records overlapping the range; aggregations count a
// record at its end (timeCol "end_us", or a rollup's "minute_us").
func (db *DB) where(sc store.Scope, f filter.Expr, overlap bool, timeCol string, args []any) (string, []any) {
	conds := []string{"tenant = " + db.bind(&args, sc.Tenant)}
	if !sc.Since.IsZero() {
		conds = append(conds, timeCol+" >= "+db.bind(&args, Micros(sc.Since)))
	}
	if !sc.Until.IsZero() {
		col := timeCol
		if overlap {
			col = "start_us"
		}
		conds = append(conds, col+" < "+db.bind(&args, Micros(sc.Until)))
	}
	if f != nil {
		var cond string
		cond, args = filter.SQL(f, db.D, args)
		conds = append(conds, cond)
	}
	return strings.Join(conds, " AND "), args
}

func (db *DB) bind(args *[]any, v any) string {
	*args = append(*args, v)
	return db.D.Param(len(*args))
}

// Search pages through records, newest end first, by keyset (no OFFSET:
// every page costs the same however deep). It looks back in widening
// windows of end time — the last hour, then 4 h before it, 16 h, … —
// and stops once a page is full: records arrive in time order, so each
// window reads only its own row groups or parts, and a page of a busy
// address costs an hour's scan instead of the whole range's.
func (db *DB) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	var c cursor
	if q.Cursor != "" {
		var ok bool
		if c, ok = parseCursor(q.Cursor); !ok {
			return store.SearchPage{}, fmt.Errorf("search: bad cursor %q", q.Cursor)
		}
	}
	top := time.Now() // windows count back from here, the cursor or until
	switch {
	case q.Cursor != "":
		top = time.UnixMicro(c.endUs + 1)
	case !q.Until.IsZero():
		top = q.Until
	}
	var page store.SearchPage
	var hi time.Time
	for span := time.Hour; ; span *= 4 {
		lo := top.Add(-span)
		last := span > 50*365*24*time.Hour || (!q.Since.IsZero() && !lo.After(q.Since))
		if last {
			lo = time.Time{}
		}
		got, err := db.searchWindow(ctx, q, c, lo, hi, limit+1-len(page.Sessions))
		if err != nil {
			return page, fmt.Errorf("search: %w", err)
		}
		page.Sessions = append(page.Sessions, got...)
		if len(page.Sessions) > limit || last {
			break
		}
		hi = lo
	}
	if len(page.Sessions) > limit {
		page.Sessions = page.Sessions[:limit]
		last := page.Sessions[limit-1]
		page.Next = cursor{Micros(last.End), last.UID, last.Seq}.String()
	}
	return page, nil
}

// searchWindow is one window of Search: records ending in [lo, hi) (open
// ends when zero), after the cursor c.
func (db *DB) searchWindow(ctx context.Context, q store.SearchQuery, c cursor, lo, hi time.Time, limit int) ([]schema.Session, error) {
	w, args := db.where(q.Scope, q.Filter, true, "end_us", nil)
	if !lo.IsZero() {
		w += " AND end_us >= " + db.bind(&args, Micros(lo))
	}
	if !hi.IsZero() {
		w += " AND end_us < " + db.bind(&args, Micros(hi))
	}
	if q.Cursor != "" {
		e1, e2, u1, u2, s := db.bind(&args, c.endUs), db.bind(&args, c.endUs), db.bind(&args, c.uid), db.bind(&args, c.uid), db.bind(&args, c.seq)
		w += " AND (end_us < " + e1 + " OR (end_us = " + e2 + " AND (uid < " + u1 + " OR (uid = " + u2 + " AND seq < " + s + "))))"
	}
	query := "SELECT " + ColumnList + " FROM sessions " + db.D.Where() + " " + w +
		" ORDER BY end_us DESC, uid DESC, seq DESC LIMIT " + strconv.Itoa(limit)
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schema.Session
	for rows.Next() {
		s, err := db.scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (db *DB) scanSession(rows *sql.Rows) (schema.Session, error) {
	var s schema.Session
	var day any
	var startUs, endUs int64
	var oip, rip, msrc []byte
	var odev, rdev, mkind string
	var vni uint32
	err := rows.Scan(&s.Tenant, &day, &s.UID, &s.Seq, &s.Final, &s.EndReason, &s.Sensor, &s.Source, &startUs, &endUs,
		&oip, &s.Orig.Port, &s.Orig.MAC, &s.Orig.Asset, db.D.ListScanner(&s.Orig.Tags), &s.Orig.Segment, &odev,
		&rip, &s.Resp.Port, &s.Resp.MAC, &s.Resp.Asset, db.D.ListScanner(&s.Resp.Tags), &s.Resp.Segment, &rdev,
		&s.Proto, &s.Transport, &s.Direction, &s.ConnState, &s.History,
		&s.OrigPkts, &s.RespPkts, &s.OrigBytes, &s.RespBytes, &s.OrigIPBytes, &s.RespIPBytes, &s.MissedBytes,
		&s.App, db.D.ListScanner(&s.VLANs), &mkind, &msrc, &vni, db.D.ListScanner(&s.TunnelParents), &s.CommunityID,
		new(uint64), new(uint64), new(uint64), new(uint64))
	if err != nil {
		return s, err
	}
	s.Version = schema.SessionVersion
	s.Start, s.End = time.UnixMicro(startUs).UTC(), time.UnixMicro(endUs).UTC()
	s.Orig.IP, s.Resp.IP = store.AddrFrom16(oip), store.AddrFrom16(rip)
	if mkind != "" {
		s.Mirror = &schema.Mirror{Kind: mkind, Source: store.AddrFrom16(msrc), VNI: vni}
	}
	return s, nil
}

// rows is the FROM of an aggregation: one row per record (or rollup
// row) with its key k, payload bytes b, packets p, flows n (counted at a
// flow's first record) and time t. Without a filter, on minute
// boundaries, the dimensions kept in per-minute rollups (app, device) are
// read from them instead of from sessions.
func (db *DB) rows(sc store.Scope, f filter.Expr, dim string, args []any) (from string, kind filter.Kind, _ []any, err error) {
	const m = "d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS n, end_us AS t"
	if rollup, ok := rollups[dim]; ok && f == nil && onMinute(sc.Since) && onMinute(sc.Until) {
		w, args := db.where(sc, nil, false, "minute_us", args)
		return "(SELECT " + rollup.key + " AS k, bytes AS b, packets AS p, sessions AS n, minute_us AS t FROM " + rollup.table +
			" WHERE " + w + ") AS r", filter.KindString, args, nil
	}
	if dim == "device" { // each record counts for both its ends
		w1, args := db.where(sc, f, false, "end_us", args)
		w2, args := db.where(sc, f, false, "end_us", args)
		return "(SELECT orig_device AS k, " + m + " FROM sessions WHERE " + w1 +
			" UNION ALL SELECT resp_device AS k, " + m + " FROM sessions WHERE " + w2 + ") AS ends", filter.KindString, args, nil
	}
	fd, ok := filter.Fields[dim]
	if !ok {
		return "", 0, nil, fmt.Errorf("unknown dimension %q (a filter field, or device)", dim)
	}
	col := fd.Column
	if fd.Array {
		col = db.D.Unnest(col)
	}
	w, args := db.where(sc, f, false, "end_us", args)
	return "(SELECT " + col + " AS k, " + m + " FROM sessions WHERE " + w + ") AS s", fd.Kind, args, nil
}

// rollups are the per-minute tables, by the dimension they are keyed on.
var rollups = map[string]struct{ table, key string }{
	"app":    {"rollup_app", "app"},
	"device": {"rollup_device", "device"},
}

func onMinute(t time.Time) bool { return t.IsZero() || t.Equal(t.Truncate(time.Minute)) }

// measure is the aggregate of a Measure over rows().
func measure(m store.Measure) (string, error) {
	switch m {
	case store.Bytes, "":
		return "sum(b)", nil
	case store.Packets:
		return "sum(p)", nil
	case store.Sessions:
		return "sum(n)", nil
	}
	return "", fmt.Errorf("unknown measure %q (bytes, packets or sessions)", m)
}

// Top ranks a dimension's values over the range.
func (db *DB) Top(ctx context.Context, q store.TopQuery) ([]store.TopRow, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	ord, err := measure(q.By)
	if err != nil {
		return nil, err
	}
	from, kind, args, err := db.rows(q.Scope, q.Filter, q.Dimension, nil)
	if err != nil {
		return nil, err
	}
	query := "SELECT k, sum(b), sum(p), sum(n) FROM " + from + " GROUP BY k ORDER BY " + ord + " DESC, k LIMIT " + strconv.Itoa(limit)
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	defer rows.Close()
	var out []store.TopRow
	for rows.Next() {
		var k any
		var r store.TopRow
		if err := rows.Scan(&k, &r.Bytes, &r.Packets, &r.Sessions); err != nil {
			return nil, fmt.Errorf("top: %w", err)
		}
		r.Key = keyText(k, kind)
		out = append(out, r)
	}
	return out, rows.Err()
}

// keyText renders a grouped value: addresses from their 16 bytes, numbers
// without a fraction, durations as Go durations.
func keyText(v any, kind filter.Kind) string {
	switch v := v.(type) {
	case []byte:
		if kind == filter.KindAddr {
			return store.AddrFrom16(v).String()
		}
		return string(v)
	case string:
		if kind == filter.KindAddr && len(v) == 16 {
			return store.AddrFrom16([]byte(v)).String()
		}
		return v
	case nil:
		return ""
	}
	s := fmt.Sprint(v)
	if kind == filter.KindDuration {
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return time.Duration(n).String()
		}
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n == math.Trunc(n) && math.Abs(n) < 1e18 {
		return strconv.FormatInt(int64(n), 10)
	}
	return s
}

// Series is a time series by dimension: device metrics aggregated per
// bucket and device, or a session measure per bucket and dimension value.
// At most Limit series are kept, the largest by total.
func (db *DB) Series(ctx context.Context, q store.SeriesQuery) ([]store.Point, error) {
	step := q.Step
	if step <= 0 {
		step = time.Hour
	}
	if step < time.Minute {
		return nil, fmt.Errorf("series: step %s is under a minute", step)
	}
	stepUs := step.Microseconds()
	var query string
	var args []any
	kind := filter.KindString
	if q.Metric != "" {
		agg, err := db.metricAgg(q.Agg)
		if err != nil {
			return nil, err
		}
		args = []any{q.Tenant, q.Metric}
		conds := "tenant = " + db.D.Param(1) + " AND name = " + db.D.Param(2)
		if !q.Since.IsZero() {
			conds += " AND time_us >= " + db.bind(&args, Micros(q.Since))
		}
		if !q.Until.IsZero() {
			conds += " AND time_us < " + db.bind(&args, Micros(q.Until))
		}
		if q.Device != "" {
			conds += " AND device = " + db.bind(&args, q.Device)
		}
		query = "SELECT " + db.D.Floor("time_us", stepUs) + " AS bucket, device AS k, " + agg +
			" AS v FROM device_metrics WHERE " + conds + " GROUP BY bucket, k ORDER BY bucket, k"
	} else {
		m, err := measure(q.By)
		if err != nil {
			return nil, err
		}
		dim := q.Dimension
		if dim == "" {
			dim = "app"
		}
		var from string
		from, kind, args, err = db.rows(q.Scope, q.Filter, dim, nil)
		if err != nil {
			return nil, err
		}
		query = "SELECT " + db.D.Floor("t", stepUs) + " AS bucket, k, " + m + " AS v FROM " + from + " GROUP BY bucket, k ORDER BY bucket, k"
	}
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	defer rows.Close()
	var pts []store.Point
	totals := map[string]float64{}
	for rows.Next() {
		var t int64
		var k any
		var v float64
		if err := rows.Scan(&t, &k, &v); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
		p := store.Point{Time: time.UnixMicro(t).UTC(), Key: keyText(k, kind), Value: v}
		pts = append(pts, p)
		totals[p.Key] += math.Abs(v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	return keepLargest(pts, totals, q.Limit), nil
}

func (db *DB) metricAgg(agg string) (string, error) {
	switch agg {
	case "max", "", "min", "avg", "sum":
		if agg == "" {
			agg = "max"
		}
		return agg + "(value)", nil
	case "last":
		return db.D.Last("value", "time_us"), nil
	}
	return "", fmt.Errorf("series: unknown aggregate %q (max, min, avg, sum or last)", agg)
}

func keepLargest(pts []store.Point, totals map[string]float64, limit int) []store.Point {
	if limit <= 0 {
		limit = 10
	}
	if len(totals) <= limit {
		return pts
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if totals[keys[i]] != totals[keys[j]] {
			return totals[keys[i]] > totals[keys[j]]
		}
		return keys[i] < keys[j]
	})
	keep := map[string]bool{}
	for _, k := range keys[:limit] {
		keep[k] = true
	}
	out := pts[:0]
	for _, p := range pts {
		if keep[p.Key] {
			out = append(out, p)
		}
	}
	return out
}

// Matrix sums traffic between the segments or tags of the two ends.
// Sessions without a tag take no part in a tag matrix.
func (db *DB) Matrix(ctx context.Context, q store.MatrixQuery) ([]store.Cell, error) {
	m, err := measure(q.Measure)
	if err != nil {
		return nil, err
	}
	const cols = "d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS n"
	var query string
	var args []any
	switch q.By {
	case "segment", "":
		if q.Filter == nil && onMinute(q.Since) && onMinute(q.Until) {
			var w string
			w, args = db.where(q.Scope, nil, false, "minute_us", nil)
			query = "SELECT orig_segment AS a, resp_segment AS c, sum(bytes) AS b, sum(packets) AS p, sum(sessions) AS n FROM rollup_segment WHERE " + w + " GROUP BY a, c"
			query = "SELECT a, c, " + m + " AS v FROM (" + query + ") AS r GROUP BY a, c"
			break
		}
		var w string
		w, args = db.where(q.Scope, q.Filter, false, "end_us", nil)
		query = "SELECT orig_segment AS a, resp_segment AS c, " + cols + " FROM sessions WHERE " + w
		query = "SELECT a, c, " + m + " AS v FROM (" + query + ") AS s GROUP BY a, c"
	case "tag":
		var w string
		w, args = db.where(q.Scope, q.Filter, false, "end_us", nil)
		inner := "SELECT " + db.D.Unnest("orig_tags") + " AS a, resp_tags, " + cols + " FROM sessions WHERE " + w
		pairs := "SELECT a, " + db.D.Unnest("resp_tags") + " AS c, b, p, n FROM (" + inner + ") AS o"
		query = "SELECT a, c, " + m + " AS v FROM (" + pairs + ") AS s GROUP BY a, c"
	default:
		return nil, fmt.Errorf("matrix: by %q: segment or tag", q.By)
	}
	rows, err := db.SQL.QueryContext(ctx, query+" ORDER BY v DESC, a, c", args...)
	if err != nil {
		return nil, fmt.Errorf("matrix: %w", err)
	}
	defer rows.Close()
	var out []store.Cell
	for rows.Next() {
		var c store.Cell
		if err := rows.Scan(&c.Src, &c.Dst, &c.Value); err != nil {
			return nil, fmt.Errorf("matrix: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Previous returns a stored record's counters.
func (db *DB) Previous(ctx context.Context, tenant, uid string, seq uint32) (store.Counters, bool, error) {
	var c store.Counters
	err := db.SQL.QueryRowContext(ctx, "SELECT orig_bytes, resp_bytes, orig_pkts, resp_pkts FROM sessions WHERE tenant = "+
		db.D.Param(1)+" AND uid = "+db.D.Param(2)+" AND seq = "+db.D.Param(3)+" LIMIT 1", tenant, uid, seq).
		Scan(&c.OrigBytes, &c.RespBytes, &c.OrigPkts, &c.RespPkts)
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("previous record: %w", err)
	}
	return c, true, nil
}
