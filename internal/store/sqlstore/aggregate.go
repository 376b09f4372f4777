package sqlstore

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// rows is the FROM of an aggregation: one row per record (or rollup
// row) with its key k, payload bytes b, packets p, flows n (counted at a
// flow's first record) and time t. Without a filter, the dimensions kept
// in rollups are read from them (pieces); grain is the coarsest time
// bucket the caller can take, zero for any.
func (db *DB) rows(sc store.Scope, f filter.Expr, dim string, grain time.Duration, args []any) (from string, fd *filter.Field, _ []any, err error) {
	fd, ok := filter.Fields[dim]
	if dim == "device" {
		fd, ok = device, true
	}
	if !ok {
		return "", nil, nil, fmt.Errorf("unknown dimension %q (a filter field, or device)", dim)
	}
	ps := []piece{{sc: sc}}
	if f == nil {
		ps = db.pieces(dim, sc, grain)
	}
	signed := slices.ContainsFunc(ps, func(p piece) bool { return p.minus })
	var parts []string
	for _, p := range ps {
		var part string
		if p.u != nil {
			part, args = db.fromRollup(p, signed, args)
		} else {
			part, args = db.fromSessions(fd, p, f, signed, args)
		}
		parts = append(parts, part)
	}
	return "(" + unionAll(parts) + ") AS s", fd, args, nil
}

// decode is a grouped key e of field fd as its text (see Dialect.Decode).
func (db *DB) decode(fd *filter.Field, e string) string {
	if fd.Kind != filter.KindString {
		return e
	}
	if fd.Ends != nil {
		fd = fd.Ends[0] // both ends are stored alike
	}
	return db.D.Decode(fd.Column, e)
}

// fromSessions is the sessions' rows of a piece as rows() gives them: a
// record counts once for each end of an either-end field. signed and
// minus are as for fromRollup.
func (db *DB) fromSessions(fd *filter.Field, pc piece, f filter.Expr, signed bool, args []any) (string, []any) {
	m := db.measured(sessionBytes, sessionPackets, sessionFlows, signed, pc.minus) + ", end_us AS t"
	ends := fd.Ends
	if ends == nil {
		ends = []*filter.Field{fd}
	}
	var parts []string
	for _, e := range ends {
		col := db.column(e)
		if e.Array {
			col = db.D.Unnest(col)
		}
		for _, b := range db.disjoint(f) {
			var w string
			w, args = db.pieceWhere(pc, b, "end_us", args)
			parts = append(parts, "SELECT "+col+" AS k, "+m+" FROM sessions WHERE "+w)
		}
	}
	return unionAll(parts), args
}

// A session record's payload bytes, packets and flows (counted at a
// flow's first record), and the three as rows() has them.
const (
	sessionBytes   = "d_orig_bytes + d_resp_bytes"
	sessionPackets = "d_orig_pkts + d_resp_pkts"
	sessionFlows   = "CASE WHEN seq = 0 THEN 1 ELSE 0 END"
	measures       = sessionBytes + " AS b, " + sessionPackets + " AS p, " + sessionFlows + " AS n"
)

// device is the dimension of the device rollups: either end's asset, or
// address without one.
var device = &filter.Field{Name: "device", Kind: filter.KindString, Ends: []*filter.Field{
	{Name: "src.device", Kind: filter.KindString, Column: "orig_device"},
	{Name: "dst.device", Kind: filter.KindString, Column: "resp_device"},
}}

// measure is the column of a Measure in rows().
func measure(m store.Measure) (string, error) {
	switch m {
	case store.Bytes, "":
		return "b", nil
	case store.Packets:
		return "p", nil
	case store.Sessions:
		return "n", nil
	}
	return "", fmt.Errorf("unknown measure %q (bytes, packets or sessions)", m)
}

// Top ranks a dimension's values over the range: those with traffic,
// a value whose bytes, packets and sessions all sum to zero left out.
func (db *DB) Top(ctx context.Context, q store.TopQuery) ([]store.TopRow, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	ord, err := measure(q.By)
	if err != nil {
		return nil, err
	}
	from, fd, args, err := db.rows(q.Scope, q.Filter, q.Dimension, 0, nil)
	if err != nil {
		return nil, err
	}
	query := "SELECT " + db.decode(fd, "c") + " AS k, b, p, n FROM (SELECT k AS c, sum(b) AS b, sum(p) AS p, sum(n) AS n FROM " + from +
		" GROUP BY c) AS g WHERE b <> 0 OR p <> 0 OR n <> 0 ORDER BY " + ord + " DESC, k LIMIT " + strconv.Itoa(limit)
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
		r.Key = keyText(k, fd.Kind)
		out = append(out, r)
	}
	return out, rows.Err()
}

// keyText renders a grouped value: addresses from their 16 bytes, numbers
// without a fraction, durations as Go durations.
func keyText(v any, kind filter.Kind) string {
	switch v := v.(type) {
	case []byte:
		if kind != filter.KindAddr {
			return string(v)
		}
	case string:
		if kind != filter.KindAddr || len(v) != 16 {
			return v
		}
	case nil:
		return ""
	}
	if kind == filter.KindAddr {
		var a netip.Addr
		if err := (addrScanner{&a}).Scan(v); err == nil {
			return a.String()
		}
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
		from, fd, a, err := db.rows(q.Scope, q.Filter, dim, step, nil)
		if err != nil {
			return nil, err
		}
		kind, args = fd.Kind, a
		query = "SELECT bucket, " + db.decode(fd, "c") + " AS k, v FROM (SELECT " + db.D.Floor("t", stepUs) + " AS bucket, k AS c, sum(" + m +
			") AS v FROM " + from + " GROUP BY bucket, c) AS g ORDER BY bucket, k"
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

// segmentRows are the rows of sc by segment pair (x, y), with their
// minute t and b, p, n: with byRollup from rollup_segment up to the
// rollups' end and from sessions after it (segmentPieces), else all
// from sessions matching f.
func (db *DB) segmentRows(sc store.Scope, f filter.Expr, byRollup bool) (string, []any) {
	ps := []piece{{sc: sc}}
	if byRollup {
		ps = db.segmentPieces(sc)
	}
	var parts []string
	var args []any
	var w string
	for _, p := range ps {
		if p.u != nil {
			w, args = db.pieceWhere(p, nil, "minute_us", args)
			parts = append(parts, "SELECT minute_us AS t, orig_segment AS x, resp_segment AS y, bytes AS b, packets AS p, sessions AS n FROM rollup_segment WHERE "+w)
		} else {
			w, args = db.pieceWhere(p, f, "end_us", args)
			t := db.D.Floor("end_us", int64(time.Minute/time.Microsecond))
			parts = append(parts, "SELECT "+t+" AS t, orig_segment AS x, resp_segment AS y, "+measures+" FROM sessions WHERE "+w)
		}
	}
	return unionAll(parts), args
}

// Matrix sums traffic between the segments or tags of the two ends.
// Sessions without a tag take no part in a tag matrix.
func (db *DB) Matrix(ctx context.Context, q store.MatrixQuery) ([]store.Cell, error) {
	m, err := measure(q.Measure)
	if err != nil {
		return nil, err
	}
	var query string
	var args []any
	col := "orig_segment" // the keys' column, for Decode
	switch q.By {
	case "segment", "":
		query, args = db.segmentRows(q.Scope, q.Filter, q.Filter == nil)
	case "tag":
		col = "orig_tags"
		var w string
		w, args = db.where(q.Scope, q.Filter, false, "end_us", nil)
		inner := "SELECT " + db.D.Unnest("orig_tags") + " AS x, resp_tags, " + measures + " FROM sessions WHERE " + w
		query = "SELECT x, " + db.D.Unnest("resp_tags") + " AS y, b, p, n FROM (" + inner + ") AS o"
	default:
		return nil, fmt.Errorf("matrix: by %q: segment or tag", q.By)
	}
	query = "SELECT x, y, sum(" + m + ") AS v FROM (" + query + ") AS s GROUP BY x, y"
	query = "SELECT " + db.D.Decode(col, "x") + " AS a, " + db.D.Decode(col, "y") + " AS c, v FROM (" + query + ") AS g"
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
