package duckdb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"net/netip"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

const (
	minuteUs = 60_000_000
	hourUs   = 60 * minuteUs
)

// rollupKey is one row of a rollup, its strings as ids of the batch's
// names (an address as its 16 bytes, a side as one byte): b is 0 but in
// a table of two key columns (rollup_segment's second segment,
// rollup_ip_hour's address). Each record is summed under six keys: ids
// hash faster than the strings (a quarter less time summing).
type rollupKey struct {
	bucket       int64
	tenant, a, b uint32
}

type sums struct{ bytes, packets, sessions uint64 }

// keyOf is a record's key in a rollup, by its index in the batch.
type keyOf func(i int) (a, b uint32)

// addrKey is the type of a key that is an address: 16 bytes in names,
// stored as its two UBIGINT halves (dialect.AddrIn); codeKey is a string
// stored as its code (see coded).
const (
	addrKey = duckdb.TYPE_UHUGEINT
	codeKey = duckdb.TYPE_UINTEGER
)

// rollup is one rollup table: sums by key, summed in Go from the batch
// (a GROUP BY in DuckDB over the batch cost more than the insert). A
// record counts once for each of ends; a table of the same keys in
// coarser buckets sums finer's rows instead (fewer than the records'
// ends). types are the key columns' (after tenant and time).
type rollup struct {
	table, key, time string
	unit             int64
	types            []duckdb.Type
	ends             []keyOf
	finer            *rollup
	index            map[rollupKey]int // into keys and sums: no pointer for the GC to follow
	keys             []rollupKey
	sums             []sums
	names            *names
	strings          *dictionary
}

// newRollups are the rollups (sqlstore's rollups.go reads them), summed
// over b.
func newRollups(b *sessionBatch, strs *dictionary) []*rollup {
	n := newNames()
	ns := &n
	text := func(col string) keyOf {
		v := ns.column(b.text(col))
		return func(i int) (uint32, uint32) { return v[i], 0 }
	}
	pair := func(x, y string) keyOf {
		v, w := ns.column(b.text(x)), ns.column(b.text(y))
		return func(i int) (uint32, uint32) { return v[i], w[i] }
	}
	addrs := map[netip.Addr]uint32{} // a batch has few addresses, each in many records
	side := func(n byte, ip func(*store.Record) netip.Addr) keyOf {
		sid := ns.id(string([]byte{n}))
		return func(i int) (uint32, uint32) {
			a := ip(b.recs[i])
			id, ok := addrs[a]
			if !ok {
				id = ns.id(string(store.Addr16(a)))
				addrs[a] = id
			}
			return sid, id
		}
	}
	str, u8 := duckdb.TYPE_VARCHAR, duckdb.TYPE_UTINYINT
	devices := &rollup{table: "rollup_device", key: "device", time: "minute_us", unit: minuteUs, types: []duckdb.Type{str},
		ends: []keyOf{text("orig_device"), text("resp_device")}}
	out := []*rollup{
		{table: "rollup_app", key: "app", time: "minute_us", unit: minuteUs, types: []duckdb.Type{codeKey}, ends: []keyOf{text("app")}},
		{table: "rollup_segment", key: "orig_segment, resp_segment", time: "minute_us", unit: minuteUs, types: []duckdb.Type{codeKey, codeKey},
			ends: []keyOf{pair("orig_segment", "resp_segment")}},
		devices,
		{table: "rollup_device_hour", key: "device", time: "hour_us", unit: hourUs, types: []duckdb.Type{str}, finer: devices},
		{table: "rollup_ip_hour", key: "side, ip_hi, ip_lo", time: "hour_us", unit: hourUs, types: []duckdb.Type{u8, addrKey}, ends: []keyOf{
			side(0, func(r *store.Record) netip.Addr { return r.Orig.IP }),
			side(1, func(r *store.Record) netip.Addr { return r.Resp.IP }),
		}},
	}
	tenants := ns.column(b.text("tenant"))
	for _, u := range out { // finer tables come first
		u.names, u.strings = ns, strs
		u.add(b.recs, tenants)
	}
	return out
}

func (u *rollup) add(recs []*store.Record, tenants []uint32) {
	u.index, u.keys, u.sums = make(map[rollupKey]int, len(recs)/4), nil, nil
	if u.finer != nil {
		for i, k := range u.finer.keys {
			k.bucket = k.bucket / u.unit * u.unit
			u.sum(k, u.finer.sums[i])
		}
		return
	}
	for _, end := range u.ends {
		for i, r := range recs {
			k := rollupKey{tenant: tenants[i], bucket: sqlstore.Micros(r.End) / u.unit * u.unit}
			k.a, k.b = end(i)
			v := sums{bytes: r.Delta.OrigBytes + r.Delta.RespBytes, packets: r.Delta.OrigPkts + r.Delta.RespPkts}
			if r.Seq == 0 {
				v.sessions = 1
			}
			u.sum(k, v)
		}
	}
}

func (u *rollup) sum(k rollupKey, v sums) {
	if i, ok := u.index[k]; ok {
		s := &u.sums[i]
		s.bytes, s.packets, s.sessions = s.bytes+v.bytes, s.packets+v.packets, s.sessions+v.sessions
		return
	}
	u.index[k] = len(u.keys)
	u.keys = append(u.keys, k)
	u.sums = append(u.sums, v)
}

// store merges the batch's sums into the table, keeping one row per
// (tenant, bucket, key): the stored rows of the buckets the batch
// touches are taken out (zone maps prune the others), added in, and
// everything is written back.
func (u *rollup) store(ctx context.Context, tx *sql.Tx, b *batches, spans [][2]int64) error {
	for _, sp := range spans {
		rows, err := tx.QueryContext(ctx, "DELETE FROM "+u.table+" WHERE "+u.time+" BETWEEN ? AND ? RETURNING tenant, "+u.time+", "+u.key+", bytes, packets, sessions",
			sp[0]/u.unit*u.unit, sp[1])
		if err != nil {
			return err
		}
		var tenant string
		var k rollupKey
		var v sums
		var keys [2]any
		var hi, lo uint64
		dst := []any{&tenant, &k.bucket}
		for i, t := range u.types {
			if t == addrKey {
				dst = append(dst, &hi, &lo)
			} else {
				dst = append(dst, &keys[i])
			}
		}
		dst = append(dst, &v.bytes, &v.packets, &v.sessions)
		for rows.Next() {
			keys = [2]any{}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			var a, b string
			if a, err = u.keyText(keys[0]); err == nil {
				b, err = u.keyText(keys[1])
			}
			if err != nil {
				rows.Close()
				return err
			}
			if u.types[len(u.types)-1] == addrKey {
				b = addrText(hi, lo)
			}
			k.tenant, k.a, k.b = u.names.id(tenant), u.names.id(a), u.names.id(b)
			u.sum(k, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	src := &rollupRows{types: u.types, keys: u.keys, sums: u.sums, names: u.names, strings: u.strings}
	return b.insert(ctx, tx, fmt.Sprintf("INSERT INTO %s SELECT * FROM osprey_batch(%%d)", u.table), src)
}

// addrText is an address's halves as rollupKey holds it.
func addrText(hi, lo uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return string(b[:])
}

// keyText is a scanned key column as rollupKey holds it.
func (u *rollup) keyText(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case uint8:
		return string([]byte{v}), nil
	case uint32:
		return u.strings.value(v)
	}
	return "", nil
}

// rollupRows is a rollup's rows as a source for osprey_batch.
type rollupRows struct {
	types   []duckdb.Type
	keys    []rollupKey
	sums    []sums
	names   *names
	strings *dictionary
}

func (s *rollupRows) len() int { return len(s.keys) }

func (s *rollupRows) columns() []duckdb.ColumnInfo {
	info := func(name string, t duckdb.Type) duckdb.ColumnInfo {
		ti, _ := duckdb.NewTypeInfo(t)
		return duckdb.ColumnInfo{Name: name, T: ti}
	}
	cols := []duckdb.ColumnInfo{info("tenant", duckdb.TYPE_VARCHAR), info("bucket", duckdb.TYPE_BIGINT)}
	for i, t := range s.types {
		if t == addrKey {
			cols = append(cols, info(fmt.Sprint("k", i, "_hi"), duckdb.TYPE_UBIGINT), info(fmt.Sprint("k", i, "_lo"), duckdb.TYPE_UBIGINT))
		} else {
			cols = append(cols, info(fmt.Sprint("k", i), t))
		}
	}
	return append(cols, info("bytes", duckdb.TYPE_UBIGINT), info("packets", duckdb.TYPE_UBIGINT), info("sessions", duckdb.TYPE_UBIGINT))
}

func (s *rollupRows) fill(c duckdb.DataChunk, from, to int) error {
	for i := from; i < to; i++ {
		k, v, row := &s.keys[i], &s.sums[i], i-from
		err := duckdb.SetChunkValue(c, 0, row, bytesOf(s.names.strs[k.tenant]))
		if err == nil {
			err = duckdb.SetChunkValue(c, 1, row, k.bucket)
		}
		col := 2
		for j, t := range s.types {
			key := s.names.strs[k.a]
			if j == 1 {
				key = s.names.strs[k.b]
			}
			switch {
			case err != nil:
			case t == addrKey:
				hi, lo := halves([16]byte([]byte(key)))
				err = duckdb.SetChunkValue(c, col, row, hi)
				if err == nil {
					err = duckdb.SetChunkValue(c, col+1, row, lo)
				}
				col++
			case t == duckdb.TYPE_UTINYINT:
				err = duckdb.SetChunkValue(c, col, row, key[0])
			case t == codeKey:
				err = duckdb.SetChunkValue(c, col, row, s.strings.add(key)) // coded with the batch already
			default:
				err = duckdb.SetChunkValue(c, col, row, bytesOf(key))
			}
			col++
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
