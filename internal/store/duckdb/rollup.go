package duckdb

import (
	"context"
	"database/sql"
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

// rollup is one rollup table's sums of a batch's late records (see
// rollForward for the others), summed in Go from the batch (a GROUP BY
// in DuckDB over the batch cost more than the insert). A record counts
// once for each of ends; a table of the same keys in coarser buckets
// sums finer's rows instead (fewer than the records' ends). types are
// the key columns' (after tenant and time).
type rollup struct {
	table   string
	unit    int64
	types   []duckdb.Type
	ends    []keyOf
	finer   *rollup
	index   map[rollupKey]int // into keys and sums: no pointer for the GC to follow
	keys    []rollupKey
	sums    []sums
	names   *names
	strings *dictionary
}

// newRollups are the sums of the late records of b, those that end
// before rolled (µs): the minute tables take those that end before it,
// the hourly tables those before its hour (the rest of its hour is
// summed from the minute table when the hour is rolled forward). nil
// when there are none, as in a stream in time order; the work is the
// late records'.
func newRollups(b *sessionBatch, strs *dictionary, rolled int64) []*rollup {
	var late []int
	for i, r := range b.recs {
		if sqlstore.Micros(r.End) < rolled {
			late = append(late, i)
		}
	}
	if len(late) == 0 {
		return nil
	}
	recs := make([]*store.Record, len(late))
	for j, i := range late {
		recs[j] = b.recs[i]
	}
	n := newNames()
	ns := &n
	column := func(col string) []uint32 { // of the late records
		all, vals := b.text(col), make([]string, len(late))
		for j, i := range late {
			vals[j] = all[i]
		}
		return ns.column(vals)
	}
	text := func(col string) keyOf {
		v := column(col)
		return func(i int) (uint32, uint32) { return v[i], 0 }
	}
	pair := func(x, y string) keyOf {
		v, w := column(x), column(y)
		return func(i int) (uint32, uint32) { return v[i], w[i] }
	}
	addrs := map[netip.Addr]uint32{} // a batch has few addresses, each in many records
	side := func(n byte, ip func(*store.Record) netip.Addr) keyOf {
		sid := ns.id(string([]byte{n}))
		return func(i int) (uint32, uint32) {
			a := ip(recs[i])
			id, ok := addrs[a]
			if !ok {
				id = ns.id(string(store.Addr16(a)))
				addrs[a] = id
			}
			return sid, id
		}
	}
	str, u8 := duckdb.TYPE_VARCHAR, duckdb.TYPE_UTINYINT
	devices := &rollup{table: "rollup_device", unit: minuteUs, types: []duckdb.Type{str},
		ends: []keyOf{text("orig_device"), text("resp_device")}}
	out := []*rollup{
		{table: "rollup_app", unit: minuteUs, types: []duckdb.Type{codeKey}, ends: []keyOf{text("app")}},
		{table: "rollup_segment", unit: minuteUs, types: []duckdb.Type{codeKey, codeKey},
			ends: []keyOf{pair("orig_segment", "resp_segment")}},
		devices,
		{table: "rollup_device_hour", unit: hourUs, types: []duckdb.Type{str}, finer: devices},
		{table: "rollup_ip_hour", unit: hourUs, types: []duckdb.Type{u8, addrKey}, ends: []keyOf{
			side(0, func(r *store.Record) netip.Addr { return r.Orig.IP }),
			side(1, func(r *store.Record) netip.Addr { return r.Resp.IP }),
		}},
	}
	tenants := column("tenant")
	for _, u := range out { // finer tables come first
		u.names, u.strings = ns, strs
		limit := rolled // in the minute tables, every late record
		if u.unit == hourUs {
			limit = floor(rolled, hourUs)
		}
		u.add(recs, tenants, limit)
	}
	return out
}

// add sums the records that end before limit.
func (u *rollup) add(recs []*store.Record, tenants []uint32, limit int64) {
	u.index, u.keys, u.sums = make(map[rollupKey]int), nil, nil
	if u.finer != nil {
		for i, k := range u.finer.keys {
			if k.bucket = floor(k.bucket, u.unit); k.bucket < limit {
				u.sum(k, u.finer.sums[i])
			}
		}
		return
	}
	for _, end := range u.ends {
		for i, r := range recs {
			k := rollupKey{tenant: tenants[i], bucket: floor(sqlstore.Micros(r.End), u.unit)}
			if k.bucket >= limit {
				continue
			}
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

// store appends the sums to the table: a bucket may then have more than
// one row for a key, which every read sums.
func (u *rollup) store(ctx context.Context, tx *sql.Tx, b *batches) error {
	if len(u.keys) == 0 {
		return nil
	}
	src := &rollupRows{types: u.types, keys: u.keys, sums: u.sums, names: u.names, strings: u.strings}
	return b.insert(ctx, tx, fmt.Sprintf("INSERT INTO %s SELECT * FROM osprey_batch(%%d)", u.table), src)
}

// floor is t (µs) rounded down to a multiple of unit.
func floor(t, unit int64) int64 { return t / unit * unit }

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
