package duckdb

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/derive"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// sessionColumns are the sessions table's columns, in the order of
// sqlstore.SessionColumns, each read from a record as the batch hands it
// to DuckDB: lists joined into a string (insertSessions splits them),
// addresses as their two halves (dialect.AddrIn), days as a time.Time.
var sessionColumns = func() []sessionColumn {
	str := func(get func(r *store.Record) string) sessionColumn {
		return sessionColumn{text: func(r *store.Record) (string, error) { return get(r), nil }}
	}
	id := func(get func(r *store.Record) string) sessionColumn { // never an ENUM
		c := str(get)
		c.distinct = true
		return c
	}
	list := func(get func(r *store.Record) []string) sessionColumn {
		c := str(func(r *store.Record) string { return strings.Join(get(r), sep) })
		c.list = true
		return c
	}
	// DuckDB narrows an unsigned value to its column's type.
	u := func(t duckdb.Type, get func(r *store.Record) uint64) sessionColumn {
		return sessionColumn{typ: t, set: setter(get)}
	}
	u8, u16, u32, u64 := duckdb.TYPE_UTINYINT, duckdb.TYPE_USMALLINT, duckdb.TYPE_UINTEGER, duckdb.TYPE_UBIGINT
	addr := func(get func(r *store.Record) netip.Addr) []sessionColumn {
		return []sessionColumn{
			u(u64, func(r *store.Record) uint64 { hi, _ := halves(get(r).As16()); return hi }),
			u(u64, func(r *store.Record) uint64 { _, lo := halves(get(r).As16()); return lo }),
		}
	}
	i64 := func(get func(r *store.Record) int64) sessionColumn {
		return sessionColumn{typ: duckdb.TYPE_BIGINT, set: setter(get)}
	}
	// An end's columns: address, port, MAC, asset, tags, segment, and the
	// name it is counted under in the device rollup.
	endpoint := func(end func(r *store.Record) *schema.Endpoint) []sessionColumn {
		return append(addr(func(r *store.Record) netip.Addr { return end(r).IP }),
			u(u16, func(r *store.Record) uint64 { return uint64(end(r).Port) }),
			str(func(r *store.Record) string { return end(r).MAC }),
			str(func(r *store.Record) string { return end(r).Asset }),
			list(func(r *store.Record) []string { return end(r).Tags }),
			str(func(r *store.Record) string { return end(r).Segment }),
			str(func(r *store.Record) string { return sqlstore.Device(end(r)) }),
		)
	}
	mirror := func(r *store.Record) schema.Mirror {
		if r.Mirror == nil {
			return schema.Mirror{}
		}
		return *r.Mirror
	}
	cols := []sessionColumn{
		str(func(r *store.Record) string { return r.Tenant }),
		{typ: duckdb.TYPE_DATE, set: setter(func(r *store.Record) time.Time { return sqlstore.Day(r.End) })},
		id(func(r *store.Record) string { return r.UID }),
		u(u32, func(r *store.Record) uint64 { return uint64(r.Seq) }),
		{typ: duckdb.TYPE_BOOLEAN, set: setter(func(r *store.Record) bool { return r.Final })},
		str(func(r *store.Record) string { return r.EndReason }),
		str(func(r *store.Record) string { return r.Sensor }),
		str(func(r *store.Record) string { return r.Source }),
		i64(func(r *store.Record) int64 { return sqlstore.Micros(r.Start) }),
		i64(func(r *store.Record) int64 { return sqlstore.Micros(r.End) }),
	}
	cols = append(cols, endpoint(func(r *store.Record) *schema.Endpoint { return &r.Orig })...)
	cols = append(cols, endpoint(func(r *store.Record) *schema.Endpoint { return &r.Resp })...)
	cols = append(cols, []sessionColumn{
		u(u8, func(r *store.Record) uint64 { return uint64(r.Proto) }),
		str(func(r *store.Record) string { return r.Transport }),
		str(func(r *store.Record) string { return r.Direction }),
		str(func(r *store.Record) string { return r.ConnState }),
		str(func(r *store.Record) string { return r.History }),
		u(u64, func(r *store.Record) uint64 { return r.OrigPkts }),
		u(u64, func(r *store.Record) uint64 { return r.RespPkts }),
		u(u64, func(r *store.Record) uint64 { return r.OrigBytes }),
		u(u64, func(r *store.Record) uint64 { return r.RespBytes }),
		u(u64, func(r *store.Record) uint64 { return r.OrigIPBytes }),
		u(u64, func(r *store.Record) uint64 { return r.RespIPBytes }),
		u(u64, func(r *store.Record) uint64 { return r.MissedBytes }),
		str(func(r *store.Record) string { return r.App }),
		str(func(r *store.Record) string { return joinU16(r.VLANs) }),
		str(func(r *store.Record) string { return mirror(r).Kind }),
	}...)
	cols = append(cols, addr(func(r *store.Record) netip.Addr { return mirror(r).Source })...)
	cols = append(cols, []sessionColumn{
		u(u32, func(r *store.Record) uint64 { return uint64(mirror(r).VNI) }),
		list(func(r *store.Record) []string { return r.TunnelParents }),
		id(func(r *store.Record) string { return r.CommunityID }),
		u(u64, func(r *store.Record) uint64 { return r.Delta.OrigBytes }),
		u(u64, func(r *store.Record) uint64 { return r.Delta.RespBytes }),
		u(u64, func(r *store.Record) uint64 { return r.Delta.OrigPkts }),
		u(u64, func(r *store.Record) uint64 { return r.Delta.RespPkts }),
		str(func(r *store.Record) string { return derive.Country(&r.Orig) }),
		str(func(r *store.Record) string { return derive.Country(&r.Resp) }),
		u(u32, func(r *store.Record) uint64 { return uint64(derive.ASN(&r.Orig)) }),
		u(u32, func(r *store.Record) uint64 { return uint64(derive.ASN(&r.Resp)) }),
		list(func(r *store.Record) []string { return derive.Intel(&r.Session) }),
		str(func(r *store.Record) string { return derive.FlowAction(&r.Session) }),
		str(func(r *store.Record) string { return derive.ServerName(&r.Session) }),
		{text: func(r *store.Record) (string, error) { return sqlstore.Detail(&r.Session) }},
	}...)
	if len(cols) != len(columnNames) {
		panic("duckdb: sessionColumns and columnNames differ in length")
	}
	for i := range cols {
		cols[i].name = columnNames[i]
	}
	return cols
}()

// columnNames are sqlstore.SessionColumns with each address as its
// halves' columns.
var columnNames = func() (out []string) {
	for _, c := range sqlstore.SessionColumns {
		if sqlstore.AddrColumns[c] {
			out = append(out, c+"_hi", c+"_lo")
		} else {
			out = append(out, c)
		}
	}
	return out
}()

func setter[T any](get func(r *store.Record) T) func(c duckdb.DataChunk, col, row int, r *store.Record) error {
	return func(c duckdb.DataChunk, col, row int, r *store.Record) error {
		return duckdb.SetChunkValue(c, col, row, get(r))
	}
}

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
