package sqlstore

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/derive"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// SessionColumns is the sessions table's column list, in the order Row
// gives values; every backend names its columns alike so that filters and
// queries are written once.
var SessionColumns = []string{
	"tenant", "day", "uid", "seq", "final", "end_reason", "sensor", "source", "start_us", "end_us",
	"orig_ip", "orig_port", "orig_mac", "orig_asset", "orig_tags", "orig_segment", "orig_device",
	"resp_ip", "resp_port", "resp_mac", "resp_asset", "resp_tags", "resp_segment", "resp_device",
	"ip_proto", "transport", "direction", "conn_state", "history",
	"orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_ip_bytes", "resp_ip_bytes", "missed_bytes",
	"app", "vlans", "mirror_kind", "mirror_source", "mirror_vni", "tunnel_parents", "community_id",
	"d_orig_bytes", "d_resp_bytes", "d_orig_pkts", "d_resp_pkts",
	// Migration 2: enrichment, L7 and flow metadata.
	"orig_country", "resp_country", "orig_asn", "resp_asn", "intel", "flow_action", "server_name", "detail",
}

// ColumnList is SessionColumns joined for SQL.
var ColumnList = strings.Join(SessionColumns, ", ")

// selectList is SessionColumns as a SELECT reads them, addresses through
// the dialect.
func (db *DB) selectList() string {
	cols := make([]string, len(SessionColumns))
	for i, c := range SessionColumns {
		cols[i] = c
		if AddrColumns[c] {
			cols[i] = db.D.Addr(c)
		}
	}
	return strings.Join(cols, ", ")
}

// AddrColumns are the sessions columns that hold an address: those of
// the filter's address fields.
var AddrColumns = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range filter.Fields {
		if f.Kind == filter.KindAddr && f.Column != "" {
			m[f.Column] = true
		}
	}
	return m
}()

// column is a field's column as a SELECT reads it.
func (db *DB) column(f *filter.Field) string {
	if f.Kind == filter.KindAddr {
		return db.D.Addr(f.Column)
	}
	return f.Column
}

// addrScanner scans an address as a backend gives it (16 bytes, or
// DuckDB's 128-bit integer) into *netip.Addr.
type addrScanner struct{ dst *netip.Addr }

func (s addrScanner) Scan(v any) error {
	switch v := v.(type) {
	case []byte:
		*s.dst = store.AddrFrom16(v)
	case string:
		*s.dst = store.AddrFrom16([]byte(v))
	case *big.Int:
		var b [16]byte
		if v.Sign() < 0 || v.BitLen() > 128 {
			return fmt.Errorf("address %v out of range", v)
		}
		*s.dst = store.AddrFrom16(v.FillBytes(b[:]))
	case nil:
		*s.dst = netip.Addr{}
	default:
		return fmt.Errorf("address of type %T", v)
	}
	return nil
}

// Micros is how stores keep times: microseconds since the Unix epoch, a
// plain integer every backend (ClickHouse 18.16 included) compares and
// buckets alike.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Day is the UTC day of a record, its partition.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Device is the name an end is counted under in the device rollup: its
// asset id once enrichment knows it, else its address.
func Device(e *schema.Endpoint) string {
	if e.Asset != "" {
		return e.Asset
	}
	return e.IP.Unmap().String()
}

// AppendRow appends a record's values in SessionColumns order to dst:
// lists as []string and []uint16 (empty, never nil), addresses as 16
// bytes, times as Micros and the day as a time.Time.
func AppendRow(dst []any, r *store.Record) ([]any, error) {
	s := &r.Session
	detail, err := Detail(s)
	if err != nil {
		return dst, err
	}
	var mk string
	var vni uint32
	msrc := zero16
	if s.Mirror != nil {
		mk, msrc, vni = s.Mirror.Kind, store.Addr16(s.Mirror.Source), s.Mirror.VNI
	}
	return append(dst,
		s.Tenant, Day(s.End), s.UID, s.Seq, s.Final, s.EndReason, s.Sensor, s.Source, Micros(s.Start), Micros(s.End),
		store.Addr16(s.Orig.IP), s.Orig.Port, s.Orig.MAC, s.Orig.Asset, strs(s.Orig.Tags), s.Orig.Segment, Device(&s.Orig),
		store.Addr16(s.Resp.IP), s.Resp.Port, s.Resp.MAC, s.Resp.Asset, strs(s.Resp.Tags), s.Resp.Segment, Device(&s.Resp),
		s.Proto, s.Transport, s.Direction, s.ConnState, s.History,
		s.OrigPkts, s.RespPkts, s.OrigBytes, s.RespBytes, s.OrigIPBytes, s.RespIPBytes, s.MissedBytes,
		s.App, u16s(s.VLANs), mk, msrc, vni, strs(s.TunnelParents), s.CommunityID,
		r.Delta.OrigBytes, r.Delta.RespBytes, r.Delta.OrigPkts, r.Delta.RespPkts,
		derive.Country(&s.Orig), derive.Country(&s.Resp), derive.ASN(&s.Orig), derive.ASN(&s.Resp),
		strs(derive.Intel(s)), derive.FlowAction(s), derive.ServerName(s), detail,
	), nil
}

var zero16 = make([]byte, 16)

func strs(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func u16s(v []uint16) []uint16 {
	if v == nil {
		return []uint16{}
	}
	return v
}

// cursor is the position after the last record of a page.
type cursor struct {
	endUs int64
	uid   string
	seq   uint32
}

func (c cursor) String() string {
	return strconv.FormatInt(c.endUs, 36) + "." + c.uid + "." + strconv.FormatUint(uint64(c.seq), 36)
}

func parseCursor(s string) (cursor, bool) {
	a, rest, ok1 := strings.Cut(s, ".")
	uid, seq, ok2 := strings.Cut(rest, ".")
	e, err1 := strconv.ParseInt(a, 36, 64)
	n, err2 := strconv.ParseUint(seq, 36, 32)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || uid == "" || strings.Contains(uid, ".") {
		return cursor{}, false
	}
	return cursor{e, uid, uint32(n)}, true
}
