// Package store is Osprey's columnar source of truth: sessions, per-minute
// rollups, device metrics, devices and findings. Two backends implement
// Store — DuckDB embedded (the default, a data directory) and ClickHouse
// (native protocol, for clusters) — and both pass the conformance suite in
// store/storetest. Queries are typed: a filter (store/filter) compiled to
// parametrised SQL, never user SQL.
package store

import (
	"context"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// Store is one backend.
type Store interface {
	// WriteSessions stores a batch. It is idempotent by record id
	// (uid, seq): records already stored are skipped, so a retried batch
	// never duplicates, and the per-minute rollups count each record once.
	// Each session's Delta is what it adds to the rollups (Deltas computes
	// it); it returns how many records were new.
	WriteSessions(ctx context.Context, batch []Record) (int, error)
	// WriteMetrics stores device metrics, idempotent by (tenant, device,
	// name, time).
	WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) (int, error)
	// UpsertDevices and UpsertFindings replace entries by id.
	UpsertDevices(ctx context.Context, batch []schema.Device) error
	UpsertFindings(ctx context.Context, batch []schema.Finding) error

	// Previous returns the counters of the stored record before s (its
	// uid's, seq - 1), for Deltas after a restart; ok is false when it is
	// not stored.
	Previous(ctx context.Context, s *schema.Session) (Counters, bool, error)

	// Devices lists a tenant's inventory, most recently seen first.
	Devices(ctx context.Context, q DeviceQuery) ([]schema.Device, error)
	// Findings pages through a tenant's findings in their latest state,
	// most recently first seen first.
	Findings(ctx context.Context, q FindingQuery) (FindingPage, error)
	// FindingCounts counts the findings first seen in the range by
	// severity and state.
	FindingCounts(ctx context.Context, sc Scope) ([]FindingCount, error)

	Search(ctx context.Context, q SearchQuery) (SearchPage, error)
	Top(ctx context.Context, q TopQuery) ([]TopRow, error)
	Series(ctx context.Context, q SeriesQuery) ([]Point, error)
	Matrix(ctx context.Context, q MatrixQuery) ([]Cell, error)
	// Group sums sessions by several dimensions at once.
	Group(ctx context.Context, q GroupQuery) ([]GroupRow, error)
	// PairSeries is the traffic between each pair of segments per minute.
	PairSeries(ctx context.Context, q PairSeriesQuery) ([]PairPoint, error)

	// Retain deletes what is older than each table's retention, by whole
	// days (partitions).
	Retain(ctx context.Context, now time.Time, r Retention) error
	// SchemaVersion is the latest migration applied.
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// Record is a session with what it adds to the totals since the previous
// record of its uid (sessions are cumulative; docs/schema.md).
type Record struct {
	schema.Session
	Delta Counters
}

// Counters are the additive measures of a session record.
type Counters struct {
	OrigBytes, RespBytes, OrigPkts, RespPkts uint64
}

// Range is a half-open time range [Since, Until); zero ends are open.
// Searches select records overlapping it; aggregations count each record
// at its end time.
type Range struct{ Since, Until time.Time }

// Scope is what every query is restricted to: a tenant ("" is the
// default tenant) and a time range.
type Scope struct {
	Tenant string
	Range
}

// SearchQuery pages through session records, newest end first.
type SearchQuery struct {
	Scope
	Filter filter.Expr
	Limit  int    // default 100, at most 10 000
	Cursor string // from the previous page's Next
}

// SearchPage is one page; Next is empty on the last.
type SearchPage struct {
	Sessions []schema.Session
	Next     string
}

// Measure is what aggregations add up.
type Measure string

const (
	Bytes    Measure = "bytes"    // payload bytes both ways
	Packets  Measure = "packets"  // packets both ways
	Sessions Measure = "sessions" // flows, counted at their first record
)

// TopQuery ranks the values of a dimension: any filter field (src.ip,
// dst.port, app, src.tag, …) or "device" (either end of a session).
type TopQuery struct {
	Scope
	Filter    filter.Expr
	Dimension string
	By        Measure
	Limit     int // default 10
}

// TopRow is one ranked value, as text ("10.0.0.1", "443", "tls").
type TopRow struct {
	Key      string `json:"key"`
	Bytes    uint64 `json:"bytes"`
	Packets  uint64 `json:"packets"`
	Sessions uint64 `json:"sessions"`
}

// SeriesQuery is a time series by dimension. With Metric set it reads
// device metrics (Agg max, min, avg, sum or last of the metric's value,
// by device); otherwise it sums a session Measure by Dimension.
type SeriesQuery struct {
	Scope
	Step      time.Duration // bucket width, at least a minute; default 1 h
	Metric    string
	Device    string // restrict to one device
	Agg       string
	Filter    filter.Expr
	Dimension string
	By        Measure
	Limit     int // most series returned, by total; default 10
}

// Point is one bucket of one series.
type Point struct {
	Time  time.Time `json:"time"`
	Key   string    `json:"key"`
	Value float64   `json:"value"`
}

// MatrixQuery is the traffic between groups: "segment" or "tag".
type MatrixQuery struct {
	Scope
	Filter filter.Expr
	By     string
	Measure
}

// Cell is the traffic from Src to Dst.
type Cell struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Value uint64 `json:"value"`
}

// GroupQuery sums the measures of sessions by the values of several
// dimensions together (src.segment, dst.segment, proto, dst.port): filter
// fields of one column each — neither either-end fields (country) nor
// lists (tags).
type GroupQuery struct {
	Scope
	Filter     filter.Expr
	Dimensions []string
	By         Measure // the order, largest first; default bytes
	Limit      int     // default 1000, at most 100 000
}

// GroupRow is one combination of values, as text, in the order of the
// query's Dimensions.
type GroupRow struct {
	Keys     []string `json:"keys"`
	Bytes    uint64   `json:"bytes"`
	Packets  uint64   `json:"packets"`
	Sessions uint64   `json:"sessions"`
}

// PairSeriesQuery reads the per-minute segment rollup: the minutes that
// start within the range.
type PairSeriesQuery struct {
	Scope
}

// PairPoint is the traffic from segment Src (the originators') to Dst
// (the responders') in the minute that starts at Time; only minutes with
// traffic are returned.
type PairPoint struct {
	Time     time.Time `json:"time"`
	Src      string    `json:"src"`
	Dst      string    `json:"dst"`
	Bytes    uint64    `json:"bytes"`
	Packets  uint64    `json:"packets"`
	Sessions uint64    `json:"sessions"`
}

// Retention is how long each table keeps data; zero keeps it forever.
type Retention struct {
	Sessions, Rollups, Metrics, Findings time.Duration
}

// DeviceQuery selects inventory entries; ID or Category narrow it.
type DeviceQuery struct {
	Tenant   string
	ID       string
	Category string
	Limit    int
}

// FindingQuery selects findings by their first-seen time (Range) and
// exact values of the other fields; empty fields select all. Entity is
// one typed id the finding must name ("ip:10.0.0.5").
type FindingQuery struct {
	Scope
	ID, Detector, Rule, State, Entity string
	// MinSeverity keeps findings at least this severe (info < low <
	// medium < high < critical).
	MinSeverity string
	Limit       int    // default 100, at most 10 000
	Cursor      string // from the previous page's Next
}

// FindingPage is one page; Next is empty on the last.
type FindingPage struct {
	Findings []schema.Finding
	Next     string
}

// FindingCount is how many findings have one severity and state.
type FindingCount struct {
	Severity, State string
	Count           int
}

// Severities are the finding severities, least severe first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Addr16 is how stores keep addresses: 16 bytes, IPv4 as IPv4-mapped IPv6
// (as ClickHouse's IPv6 type does), so one column holds both families and
// a CIDR prefix is a byte range.
func Addr16(a netip.Addr) []byte {
	if !a.IsValid() {
		return make([]byte, 16)
	}
	b := a.As16()
	return b[:]
}

// AddrFrom16 reverses Addr16.
func AddrFrom16(b []byte) netip.Addr {
	if len(b) != 16 {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b)).Unmap()
}
