package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// Group sums sessions by several one-column dimensions together.
func (db *DB) Group(ctx context.Context, q store.GroupQuery) ([]store.GroupRow, error) {
	if len(q.Dimensions) == 0 {
		return nil, fmt.Errorf("group: no dimensions")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	if limit > 100_000 {
		return nil, fmt.Errorf("group: limit %d is over 100000", limit)
	}
	ord, err := measure(q.By)
	if err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	cols := make([]string, len(q.Dimensions))
	keys := make([]string, len(q.Dimensions))
	codes := make([]string, len(q.Dimensions))
	named := make([]string, len(q.Dimensions))
	kinds := make([]filter.Kind, len(q.Dimensions))
	for i, dim := range q.Dimensions {
		fd, ok := filter.Fields[dim]
		if !ok || fd.Column == "" || fd.Array || fd.Ends != nil {
			return nil, fmt.Errorf("group: dimension %q is not a filter field of one value (src.segment, dst.port, proto, …)", dim)
		}
		keys[i] = "k" + strconv.Itoa(i)
		codes[i] = "c" + strconv.Itoa(i)
		cols[i] = db.column(fd) + " AS " + codes[i]
		named[i] = db.decode(fd, codes[i]) + " AS " + keys[i]
		kinds[i] = fd.Kind
	}
	const m = "d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS n"
	var parts []string
	var args []any
	for _, f := range db.disjoint(q.Filter) {
		var w string
		w, args = db.where(q.Scope, f, false, "end_us", args)
		parts = append(parts, "SELECT "+strings.Join(cols, ", ")+", "+m+" FROM sessions WHERE "+w)
	}
	cs := strings.Join(codes, ", ")
	query := "SELECT " + cs + ", sum(b) AS b, sum(p) AS p, sum(n) AS n FROM (" + unionAll(parts) + ") AS s GROUP BY " + cs
	query = "SELECT " + strings.Join(named, ", ") + ", b, p, n FROM (" + query + ") AS g ORDER BY " + ord + " DESC, " +
		strings.Join(keys, ", ") + " LIMIT " + strconv.Itoa(limit)
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	defer rows.Close()
	var out []store.GroupRow
	vals := make([]any, len(keys))
	dst := make([]any, len(keys)+3)
	for i := range vals {
		dst[i] = &vals[i]
	}
	for rows.Next() {
		var r store.GroupRow
		dst[len(keys)], dst[len(keys)+1], dst[len(keys)+2] = &r.Bytes, &r.Packets, &r.Sessions
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("group: %w", err)
		}
		r.Keys = make([]string, len(keys))
		for i, v := range vals {
			r.Keys[i] = keyText(v, kinds[i])
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	return out, nil
}

// PairSeries reads rollup_segment minute by minute, and sessions after
// the rollups' end.
func (db *DB) PairSeries(ctx context.Context, q store.PairSeriesQuery) ([]store.PairPoint, error) {
	from, args := db.segmentRows(q.Scope, nil, true)
	query := "SELECT t, x, y, sum(b) AS b, sum(p) AS p, sum(n) AS n FROM (" + from + ") AS r GROUP BY t, x, y"
	query = "SELECT t, " + db.D.Decode("orig_segment", "x") + " AS a, " + db.D.Decode("resp_segment", "y") + " AS c, b, p, n FROM (" +
		query + ") AS g ORDER BY t, a, c"
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pair series: %w", err)
	}
	defer rows.Close()
	var out []store.PairPoint
	for rows.Next() {
		var p store.PairPoint
		var t int64
		if err := rows.Scan(&t, &p.Src, &p.Dst, &p.Bytes, &p.Packets, &p.Sessions); err != nil {
			return nil, fmt.Errorf("pair series: %w", err)
		}
		p.Time = time.UnixMicro(t).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pair series: %w", err)
	}
	return out, nil
}
