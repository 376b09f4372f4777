package duckdb

import (
	"net/netip"
	"strconv"
	"strings"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/derive"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// insertSessions stores a sessionBatch. Lists arrive joined (a LIST
// value costs the Go side several times a string) and are split here in
// one vectorised pass.
var insertSessions = "INSERT INTO sessions (" + sqlstore.ColumnList + ") SELECT * REPLACE (" +
	splitList("orig_tags") + " AS orig_tags, " + splitList("resp_tags") + " AS resp_tags, " +
	splitList("tunnel_parents") + " AS tunnel_parents, " + splitList("intel") + " AS intel, " +
	"CASE WHEN vlans::VARCHAR = '' THEN []::USMALLINT[] ELSE list_transform(string_split(vlans, ','), lambda v: v::USMALLINT) END AS vlans) " +
	"FROM osprey_batch(%d)"

// sep joins a list: the ASCII unit separator, which no tag, uid or name
// holds.
const sep = "\x1f"

func splitList(col string) string {
	return "CASE WHEN " + col + "::VARCHAR = '' THEN []::VARCHAR[] ELSE string_split(" + col + "::VARCHAR, chr(31)) END"
}

// enumMax is the most distinct values a string column may have in a
// batch to be handed over as an ENUM: DuckDB then gets small integers
// written in Go, where each VARCHAR value is a call into C. (The Go side
// rebuilds an ENUM's dictionary for every chunk, so large ones cost more
// than they save.)
const enumMax = 256

// sessionBatch is the records to store as a source for osprey_batch.
type sessionBatch struct {
	recs []*store.Record
	strs [][]string // by string column, by record
	dict []map[string]uint32
	info []duckdb.ColumnInfo
}

// A string column is read by text; the others are set by set.
type sessionColumn struct {
	name string
	text func(r *store.Record) (string, error)
	typ  duckdb.Type
	set  func(c duckdb.DataChunk, col, row int, r *store.Record) error
}

func newSessionBatch(recs []*store.Record) (*sessionBatch, error) {
	b := &sessionBatch{recs: recs}
	for _, col := range sessionColumns {
		if col.text == nil {
			t, err := duckdb.NewTypeInfo(col.typ)
			if err != nil {
				return nil, err
			}
			b.info = append(b.info, duckdb.ColumnInfo{Name: col.name, T: t})
			continue
		}
		vals := make([]string, len(recs))
		dict := map[string]uint32{}
		var last string
		for i, r := range recs {
			v, err := col.text(r)
			if err != nil {
				return nil, err
			}
			vals[i] = v
			if dict != nil && (i == 0 || v != last) {
				last = v
				if _, ok := dict[v]; !ok {
					dict[v] = uint32(len(dict))
					if len(dict) > enumMax || col.name == "uid" || col.name == "community_id" {
						dict = nil
					}
				}
			}
		}
		t, err := stringType(dict)
		if err != nil {
			return nil, err
		}
		b.strs = append(b.strs, vals)
		b.dict = append(b.dict, dict)
		b.info = append(b.info, duckdb.ColumnInfo{Name: col.name, T: t})
	}
	return b, nil
}

// stringType is an ENUM of dict's values, or VARCHAR without one.
func stringType(dict map[string]uint32) (duckdb.TypeInfo, error) {
	if dict == nil {
		return duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	}
	names := make([]string, len(dict))
	for v, i := range dict {
		names[i] = v
	}
	return duckdb.NewEnumInfo(names[0], names[1:]...)
}

// text is a string column's values, by record.
func (b *sessionBatch) text(name string) []string {
	s := 0
	for _, col := range sessionColumns {
		if col.name == name {
			return b.strs[s]
		}
		if col.text != nil {
			s++
		}
	}
	panic("no string column " + name)
}

func (b *sessionBatch) columns() []duckdb.ColumnInfo { return b.info }
func (b *sessionBatch) len() int                     { return len(b.recs) }

func (b *sessionBatch) fill(c duckdb.DataChunk, from, to int) error {
	s := 0
	for col, sc := range sessionColumns {
		if sc.text == nil {
			for i := from; i < to; i++ {
				if err := sc.set(c, col, i-from, b.recs[i]); err != nil {
					return err
				}
			}
			continue
		}
		for i, v := range b.strs[s][from:to] {
			var err error
			if b.dict[s] != nil {
				err = duckdb.SetChunkValue(c, col, i, v)
			} else {
				err = duckdb.SetChunkValue(c, col, i, bytesOf(v))
			}
			if err != nil {
				return err
			}
		}
		s++
	}
	return nil
}

// bytesOf is s without a copy: DuckDB copies it before we return.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func setter[T any](get func(r *store.Record) T) func(c duckdb.DataChunk, col, row int, r *store.Record) error {
	return func(c duckdb.DataChunk, col, row int, r *store.Record) error {
		return duckdb.SetChunkValue(c, col, row, get(r))
	}
}

func u64(get func(r *store.Record) uint64) sessionColumn {
	return sessionColumn{typ: duckdb.TYPE_UBIGINT, set: setter(get)}
}

// sessionColumns are sqlstore.SessionColumns' values for DuckDB.
var sessionColumns = func() []sessionColumn {
	str := func(get func(r *store.Record) string) sessionColumn {
		return sessionColumn{text: func(r *store.Record) (string, error) { return get(r), nil }}
	}
	list := func(get func(r *store.Record) []string) sessionColumn {
		return str(func(r *store.Record) string { return strings.Join(get(r), sep) })
	}
	addr := func(get func(r *store.Record) []byte) sessionColumn {
		return sessionColumn{typ: duckdb.TYPE_BLOB, set: setter(get)}
	}
	cols := []sessionColumn{
		str(func(r *store.Record) string { return r.Tenant }),
		{typ: duckdb.TYPE_DATE, set: setter(func(r *store.Record) any { return sqlstore.Day(r.End) })},
		str(func(r *store.Record) string { return r.UID }),
		{typ: duckdb.TYPE_UINTEGER, set: setter(func(r *store.Record) uint32 { return r.Seq })},
		{typ: duckdb.TYPE_BOOLEAN, set: setter(func(r *store.Record) bool { return r.Final })},
		str(func(r *store.Record) string { return r.EndReason }),
		str(func(r *store.Record) string { return r.Sensor }),
		str(func(r *store.Record) string { return r.Source }),
		{typ: duckdb.TYPE_BIGINT, set: setter(func(r *store.Record) int64 { return sqlstore.Micros(r.Start) })},
		{typ: duckdb.TYPE_BIGINT, set: setter(func(r *store.Record) int64 { return sqlstore.Micros(r.End) })},
		addr(func(r *store.Record) []byte { return store.Addr16(r.Orig.IP) }),
		{typ: duckdb.TYPE_USMALLINT, set: setter(func(r *store.Record) uint16 { return r.Orig.Port })},
		str(func(r *store.Record) string { return r.Orig.MAC }),
		str(func(r *store.Record) string { return r.Orig.Asset }),
		list(func(r *store.Record) []string { return r.Orig.Tags }),
		str(func(r *store.Record) string { return r.Orig.Segment }),
		str(func(r *store.Record) string { return sqlstore.Device(&r.Orig) }),
		addr(func(r *store.Record) []byte { return store.Addr16(r.Resp.IP) }),
		{typ: duckdb.TYPE_USMALLINT, set: setter(func(r *store.Record) uint16 { return r.Resp.Port })},
		str(func(r *store.Record) string { return r.Resp.MAC }),
		str(func(r *store.Record) string { return r.Resp.Asset }),
		list(func(r *store.Record) []string { return r.Resp.Tags }),
		str(func(r *store.Record) string { return r.Resp.Segment }),
		str(func(r *store.Record) string { return sqlstore.Device(&r.Resp) }),
		{typ: duckdb.TYPE_UTINYINT, set: setter(func(r *store.Record) uint8 { return r.Proto })},
		str(func(r *store.Record) string { return r.Transport }),
		str(func(r *store.Record) string { return r.Direction }),
		str(func(r *store.Record) string { return r.ConnState }),
		str(func(r *store.Record) string { return r.History }),
		u64(func(r *store.Record) uint64 { return r.OrigPkts }),
		u64(func(r *store.Record) uint64 { return r.RespPkts }),
		u64(func(r *store.Record) uint64 { return r.OrigBytes }),
		u64(func(r *store.Record) uint64 { return r.RespBytes }),
		u64(func(r *store.Record) uint64 { return r.OrigIPBytes }),
		u64(func(r *store.Record) uint64 { return r.RespIPBytes }),
		u64(func(r *store.Record) uint64 { return r.MissedBytes }),
		str(func(r *store.Record) string { return r.App }),
		str(func(r *store.Record) string { return joinU16(r.VLANs) }),
		str(func(r *store.Record) string {
			if r.Mirror == nil {
				return ""
			}
			return r.Mirror.Kind
		}),
		addr(func(r *store.Record) []byte {
			if r.Mirror == nil {
				return store.Addr16(netip.Addr{})
			}
			return store.Addr16(r.Mirror.Source)
		}),
		{typ: duckdb.TYPE_UINTEGER, set: setter(func(r *store.Record) uint32 {
			if r.Mirror == nil {
				return 0
			}
			return r.Mirror.VNI
		})},
		list(func(r *store.Record) []string { return r.TunnelParents }),
		str(func(r *store.Record) string { return r.CommunityID }),
		u64(func(r *store.Record) uint64 { return r.Delta.OrigBytes }),
		u64(func(r *store.Record) uint64 { return r.Delta.RespBytes }),
		u64(func(r *store.Record) uint64 { return r.Delta.OrigPkts }),
		u64(func(r *store.Record) uint64 { return r.Delta.RespPkts }),
		str(func(r *store.Record) string { return derive.Country(&r.Orig) }),
		str(func(r *store.Record) string { return derive.Country(&r.Resp) }),
		{typ: duckdb.TYPE_UINTEGER, set: setter(func(r *store.Record) uint32 { return derive.ASN(&r.Orig) })},
		{typ: duckdb.TYPE_UINTEGER, set: setter(func(r *store.Record) uint32 { return derive.ASN(&r.Resp) })},
		list(func(r *store.Record) []string { return derive.Intel(&r.Session) }),
		str(func(r *store.Record) string { return derive.FlowAction(&r.Session) }),
		str(func(r *store.Record) string { return derive.ServerName(&r.Session) }),
		{text: func(r *store.Record) (string, error) { return sqlstore.Detail(&r.Session) }},
	}
	for i := range cols {
		cols[i].name = sqlstore.SessionColumns[i]
	}
	return cols
}()

func joinU16(v []uint16) string {
	if len(v) == 0 {
		return ""
	}
	b := make([]byte, 0, 6*len(v))
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return string(b)
}
