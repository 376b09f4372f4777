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
	kinds := make([]filter.Kind, len(q.Dimensions))
	for i, dim := range q.Dimensions {
		fd, ok := filter.Fields[dim]
		if !ok || fd.Column == "" || fd.Array || fd.Ends != nil {
			return nil, fmt.Errorf("group: dimension %q is not a filter field of one value (src.segment, dst.port, proto, …)", dim)
		}
		keys[i] = "k" + strconv.Itoa(i)
		cols[i] = db.column(fd) + " AS " + keys[i]
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
	ks := strings.Join(keys, ", ")
	query := "SELECT " + ks + ", sum(b), sum(p), sum(n) FROM (" + unionAll(parts) + ") AS s GROUP BY " + ks +
		" ORDER BY " + ord + " DESC, " + ks + " LIMIT " + strconv.Itoa(limit)
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

// PairSeries reads rollup_segment minute by minute.
func (db *DB) PairSeries(ctx context.Context, q store.PairSeriesQuery) ([]store.PairPoint, error) {
	w, args := db.where(q.Scope, nil, false, "minute_us", nil)
	rows, err := db.SQL.QueryContext(ctx, "SELECT minute_us, orig_segment, resp_segment, sum(bytes), sum(packets), sum(sessions) FROM rollup_segment WHERE "+
		w+" GROUP BY minute_us, orig_segment, resp_segment ORDER BY minute_us, orig_segment, resp_segment", args...)
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
