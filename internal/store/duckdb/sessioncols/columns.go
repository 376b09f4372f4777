// Package sessioncols describes DuckDB's sessions table column by column:
// each column's type and how its value is read from a record. The write
// path (internal/store/duckdb) builds its batches from it; the Parquet
// session-file writer on the parquet-sessions branch reads the same
// description, so that a file and the table cannot disagree.
package sessioncols

import (
	"net/netip"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/derive"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// Type is a column's type in DuckDB's sessions table; it says which of
// a Column's getters is set.
type Type uint8

const (
	Varchar       Type = iota + 1 // Text, or Device
	VarcharList                   // Texts
	Blob                          // Addr, stored as store.Addr16
	Date                          // Int: days since 1970-01-01
	Boolean                       // Bool
	Bigint                        // Int
	UTinyint                      // Uint
	USmallint                     // Uint
	UInteger                      // Uint
	UBigint                       // Uint
	USmallintList                 // Uint16s
)

// Column is one column of the sessions table and how its value is read
// from a record.
type Column struct {
	Name string
	Type Type
	// Distinct marks ids, whose values hardly repeat within a batch: a
	// dictionary of them costs more than it saves.
	Distinct bool

	Text func(*store.Record) (string, error)
	// Device is the end whose name in the device rollup,
	// sqlstore.Device, is the value: a writer can then keep each
	// address's name rather than format it for every row.
	Device  func(*store.Record) *schema.Endpoint
	Texts   func(*store.Record) []string
	Addr    func(*store.Record) netip.Addr
	Int     func(*store.Record) int64
	Uint    func(*store.Record) uint64
	Bool    func(*store.Record) bool
	Uint16s func(*store.Record) []uint16
}

// secondsPerDay converts a Date column's days.
const secondsPerDay = 86400

// Columns are sqlstore.SessionColumns, in order, with their values.
var Columns = func() []Column {
	str := func(get func(r *store.Record) string) Column {
		return Column{Type: Varchar, Text: func(r *store.Record) (string, error) { return get(r), nil }}
	}
	list := func(get func(r *store.Record) []string) Column { return Column{Type: VarcharList, Texts: get} }
	addr := func(get func(r *store.Record) netip.Addr) Column { return Column{Type: Blob, Addr: get} }
	u := func(t Type, get func(r *store.Record) uint64) Column { return Column{Type: t, Uint: get} }
	i64 := func(get func(r *store.Record) int64) Column { return Column{Type: Bigint, Int: get} }
	cols := []Column{
		str(func(r *store.Record) string { return r.Tenant }),
		{Type: Date, Int: func(r *store.Record) int64 { return sqlstore.Day(r.End).Unix() / secondsPerDay }},
		{Type: Varchar, Distinct: true, Text: func(r *store.Record) (string, error) { return r.UID, nil }},
		u(UInteger, func(r *store.Record) uint64 { return uint64(r.Seq) }),
		{Type: Boolean, Bool: func(r *store.Record) bool { return r.Final }},
		str(func(r *store.Record) string { return r.EndReason }),
		str(func(r *store.Record) string { return r.Sensor }),
		str(func(r *store.Record) string { return r.Source }),
		i64(func(r *store.Record) int64 { return sqlstore.Micros(r.Start) }),
		i64(func(r *store.Record) int64 { return sqlstore.Micros(r.End) }),
		addr(func(r *store.Record) netip.Addr { return r.Orig.IP }),
		u(USmallint, func(r *store.Record) uint64 { return uint64(r.Orig.Port) }),
		str(func(r *store.Record) string { return r.Orig.MAC }),
		str(func(r *store.Record) string { return r.Orig.Asset }),
		list(func(r *store.Record) []string { return r.Orig.Tags }),
		str(func(r *store.Record) string { return r.Orig.Segment }),
		{Type: Varchar, Device: func(r *store.Record) *schema.Endpoint { return &r.Orig }},
		addr(func(r *store.Record) netip.Addr { return r.Resp.IP }),
		u(USmallint, func(r *store.Record) uint64 { return uint64(r.Resp.Port) }),
		str(func(r *store.Record) string { return r.Resp.MAC }),
		str(func(r *store.Record) string { return r.Resp.Asset }),
		list(func(r *store.Record) []string { return r.Resp.Tags }),
		str(func(r *store.Record) string { return r.Resp.Segment }),
		{Type: Varchar, Device: func(r *store.Record) *schema.Endpoint { return &r.Resp }},
		u(UTinyint, func(r *store.Record) uint64 { return uint64(r.Proto) }),
		str(func(r *store.Record) string { return r.Transport }),
		str(func(r *store.Record) string { return r.Direction }),
		str(func(r *store.Record) string { return r.ConnState }),
		str(func(r *store.Record) string { return r.History }),
		u(UBigint, func(r *store.Record) uint64 { return r.OrigPkts }),
		u(UBigint, func(r *store.Record) uint64 { return r.RespPkts }),
		u(UBigint, func(r *store.Record) uint64 { return r.OrigBytes }),
		u(UBigint, func(r *store.Record) uint64 { return r.RespBytes }),
		u(UBigint, func(r *store.Record) uint64 { return r.OrigIPBytes }),
		u(UBigint, func(r *store.Record) uint64 { return r.RespIPBytes }),
		u(UBigint, func(r *store.Record) uint64 { return r.MissedBytes }),
		str(func(r *store.Record) string { return r.App }),
		{Type: USmallintList, Uint16s: func(r *store.Record) []uint16 { return r.VLANs }},
		str(func(r *store.Record) string {
			if r.Mirror == nil {
				return ""
			}
			return r.Mirror.Kind
		}),
		addr(func(r *store.Record) netip.Addr {
			if r.Mirror == nil {
				return netip.Addr{}
			}
			return r.Mirror.Source
		}),
		u(UInteger, func(r *store.Record) uint64 {
			if r.Mirror == nil {
				return 0
			}
			return uint64(r.Mirror.VNI)
		}),
		list(func(r *store.Record) []string { return r.TunnelParents }),
		{Type: Varchar, Distinct: true, Text: func(r *store.Record) (string, error) { return r.CommunityID, nil }},
		u(UBigint, func(r *store.Record) uint64 { return r.Delta.OrigBytes }),
		u(UBigint, func(r *store.Record) uint64 { return r.Delta.RespBytes }),
		u(UBigint, func(r *store.Record) uint64 { return r.Delta.OrigPkts }),
		u(UBigint, func(r *store.Record) uint64 { return r.Delta.RespPkts }),
		str(func(r *store.Record) string { return derive.Country(&r.Orig) }),
		str(func(r *store.Record) string { return derive.Country(&r.Resp) }),
		u(UInteger, func(r *store.Record) uint64 { return uint64(derive.ASN(&r.Orig)) }),
		u(UInteger, func(r *store.Record) uint64 { return uint64(derive.ASN(&r.Resp)) }),
		list(func(r *store.Record) []string { return derive.Intel(&r.Session) }),
		str(func(r *store.Record) string { return derive.FlowAction(&r.Session) }),
		str(func(r *store.Record) string { return derive.ServerName(&r.Session) }),
		{Type: Varchar, Text: func(r *store.Record) (string, error) { return sqlstore.Detail(&r.Session) }},
	}
	if len(cols) != len(sqlstore.SessionColumns) {
		panic("sessioncols: Columns and sqlstore.SessionColumns differ in length")
	}
	for i := range cols {
		cols[i].Name = sqlstore.SessionColumns[i]
	}
	return cols
}()
