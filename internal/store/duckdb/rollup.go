package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

const minuteUs = 60_000_000

// rollupKey is one row of a per-minute rollup: b is empty but in
// rollup_segment (the pair's second segment).
type rollupKey struct {
	tenant string
	minute int64
	a, b   string
}

type sums struct{ bytes, packets, sessions uint64 }

// rollup is one per-minute table: sums by key, summed in Go from the
// batch (a GROUP BY in DuckDB over the batch cost more than the insert).
// ends are the session columns that make its key, once per end that a
// record counts for.
type rollup struct {
	table, key string
	ends       [][]string
	rows       map[rollupKey]*sums
}

func newRollups() []*rollup {
	return []*rollup{
		{table: "rollup_app", key: "app", ends: [][]string{{"app"}}},
		{table: "rollup_segment", key: "orig_segment, resp_segment", ends: [][]string{{"orig_segment", "resp_segment"}}},
		{table: "rollup_device", key: "device", ends: [][]string{{"orig_device"}, {"resp_device"}}}, // a record counts once per end
	}
}

func (u *rollup) add(b *sessionBatch) {
	u.rows = make(map[rollupKey]*sums, len(b.recs)/4)
	for _, cols := range u.ends {
		a, second := b.text(cols[0]), []string(nil)
		if len(cols) > 1 {
			second = b.text(cols[1])
		}
		for i, r := range b.recs {
			k := rollupKey{tenant: r.Tenant, minute: sqlstore.Micros(r.End) / minuteUs * minuteUs, a: a[i]}
			if second != nil {
				k.b = second[i]
			}
			v := sums{bytes: r.Delta.OrigBytes + r.Delta.RespBytes, packets: r.Delta.OrigPkts + r.Delta.RespPkts}
			if r.Seq == 0 {
				v.sessions = 1
			}
			u.sum(k, v)
		}
	}
}

func (u *rollup) sum(k rollupKey, v sums) {
	if s := u.rows[k]; s != nil {
		s.bytes, s.packets, s.sessions = s.bytes+v.bytes, s.packets+v.packets, s.sessions+v.sessions
		return
	}
	u.rows[k] = &v
}

// store merges the batch's sums into the table, keeping one row per
// (tenant, minute, key): the stored rows of the minutes the batch
// touches are taken out (zone maps prune the others), added in, and
// everything is written back.
func (u *rollup) store(ctx context.Context, tx *sql.Tx, b *batches, spans [][2]int64) error {
	for _, sp := range spans {
		rows, err := tx.QueryContext(ctx, "DELETE FROM "+u.table+" WHERE minute_us BETWEEN ? AND ? RETURNING tenant, minute_us, "+u.key+", bytes, packets, sessions",
			sp[0]/minuteUs*minuteUs, sp[1])
		if err != nil {
			return err
		}
		for rows.Next() {
			var k rollupKey
			var v sums
			dst := []any{&k.tenant, &k.minute, &k.a, &k.b, &v.bytes, &v.packets, &v.sessions}
			if len(u.ends[0]) == 1 {
				dst = append(dst[:3], dst[4:]...)
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			u.sum(k, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	src := &rollupRows{pair: len(u.ends[0]) == 2}
	for k, v := range u.rows {
		src.keys = append(src.keys, k)
		src.sums = append(src.sums, *v)
	}
	return b.insert(ctx, tx, fmt.Sprintf("INSERT INTO %s SELECT * FROM osprey_batch(%%d)", u.table), src)
}

// rollupRows is a rollup's rows as a source for osprey_batch.
type rollupRows struct {
	pair bool
	keys []rollupKey
	sums []sums
}

func (s *rollupRows) len() int { return len(s.keys) }

func (s *rollupRows) columns() []duckdb.ColumnInfo {
	info := func(name string, t duckdb.Type) duckdb.ColumnInfo {
		ti, _ := duckdb.NewTypeInfo(t)
		return duckdb.ColumnInfo{Name: name, T: ti}
	}
	cols := []duckdb.ColumnInfo{info("tenant", duckdb.TYPE_VARCHAR), info("minute_us", duckdb.TYPE_BIGINT), info("a", duckdb.TYPE_VARCHAR)}
	if s.pair {
		cols = append(cols, info("b", duckdb.TYPE_VARCHAR))
	}
	return append(cols, info("bytes", duckdb.TYPE_UBIGINT), info("packets", duckdb.TYPE_UBIGINT), info("sessions", duckdb.TYPE_UBIGINT))
}

func (s *rollupRows) fill(c duckdb.DataChunk, from, to int) error {
	for i := from; i < to; i++ {
		k, v, row, col := &s.keys[i], &s.sums[i], i-from, 3
		err := duckdb.SetChunkValue(c, 0, row, bytesOf(k.tenant))
		if err == nil {
			err = duckdb.SetChunkValue(c, 1, row, k.minute)
		}
		if err == nil {
			err = duckdb.SetChunkValue(c, 2, row, bytesOf(k.a))
		}
		if err == nil && s.pair {
			err, col = duckdb.SetChunkValue(c, 3, row, bytesOf(k.b)), 4
		}
		for j, n := range []uint64{v.bytes, v.packets, v.sessions} {
			if err == nil {
				err = duckdb.SetChunkValue(c, col+j, row, n)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
