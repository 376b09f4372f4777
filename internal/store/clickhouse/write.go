package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

type recordID struct {
	tenant, uid string
	seq         uint32
}

// WriteSessions skips the records already stored — looked up through an
// external table of the batch's ids, within the batch's time span — and
// inserts the rest as one native batch with an explicit column list. The
// rollups' materialised views see exactly that insert, so a retried batch
// counts once there too. ClickHouse has no transactions: a batch that
// failed half-way on a cluster may have reached some shards; its retry
// inserts only what is missing.
func (s *Store) WriteSessions(ctx context.Context, batch []store.Record) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	ids, err := ext.NewTable("batch_ids", ext.Column("tenant", "String"), ext.Column("uid", "String"), ext.Column("seq", "UInt32"))
	if err != nil {
		return 0, err
	}
	lo, hi := int64(1<<63-1), int64(-1<<63)
	for i := range batch {
		r := &batch[i]
		if err := ids.Append(r.Tenant, r.UID, r.Seq); err != nil {
			return 0, err
		}
		e := sqlstore.Micros(r.End)
		lo, hi = min(lo, e), max(hi, e)
	}
	stored := map[recordID]bool{}
	rows, err := s.native.Query(ch.Context(ctx, ch.WithExternalTable(ids)),
		"SELECT tenant, uid, seq FROM sessions WHERE end_us BETWEEN ? AND ? AND (tenant, uid, seq) GLOBAL IN (SELECT tenant, uid, seq FROM batch_ids)", lo, hi)
	if err != nil {
		return 0, fmt.Errorf("write sessions: stored ids: %w", err)
	}
	for rows.Next() {
		var id recordID
		if err := rows.Scan(&id.tenant, &id.uid, &id.seq); err != nil {
			rows.Close()
			return 0, fmt.Errorf("write sessions: stored ids: %w", err)
		}
		stored[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("write sessions: stored ids: %w", err)
	}

	b, err := s.native.PrepareBatch(ctx, "INSERT INTO sessions ("+sqlstore.ColumnList+")")
	if err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	defer b.Abort()
	n := 0
	row := make([]any, 0, len(sqlstore.SessionColumns))
	for i := range batch {
		r := &batch[i]
		id := recordID{r.Tenant, r.UID, r.Seq}
		if stored[id] {
			continue
		}
		stored[id] = true // the same record twice in one batch
		row, err = sqlstore.AppendRow(row[:0], r)
		if err != nil {
			return 0, fmt.Errorf("write sessions: %w", err)
		}
		row[4] = boolU8(r.Final) // no Bool type in 18.16
		if err := b.Append(row...); err != nil {
			return 0, fmt.Errorf("write sessions: session %s/%d: %w", r.UID, r.Seq, err)
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.Send(); err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	return n, nil
}

func boolU8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// WriteMetrics inserts the metrics not stored yet, by (tenant, device,
// name, time).
func (s *Store) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	ids, err := ext.NewTable("batch_ids", ext.Column("tenant", "String"), ext.Column("device", "String"),
		ext.Column("name", "String"), ext.Column("time_us", "Int64"))
	if err != nil {
		return 0, err
	}
	type key struct {
		tenant, device, name string
		t                    int64
	}
	lo, hi := int64(1<<63-1), int64(-1<<63)
	for _, m := range batch {
		t := m.Time.UnixMicro()
		if err := ids.Append(m.Tenant, m.Device, m.Name, t); err != nil {
			return 0, err
		}
		lo, hi = min(lo, t), max(hi, t)
	}
	stored := map[key]bool{}
	rows, err := s.native.Query(ch.Context(ctx, ch.WithExternalTable(ids)),
		"SELECT tenant, device, name, time_us FROM device_metrics WHERE time_us BETWEEN ? AND ? AND (tenant, device, name, time_us) GLOBAL IN (SELECT * FROM batch_ids)", lo, hi)
	if err != nil {
		return 0, fmt.Errorf("write metrics: stored ids: %w", err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.tenant, &k.device, &k.name, &k.t); err != nil {
			rows.Close()
			return 0, err
		}
		stored[k] = true
	}
	rows.Close()
	b, err := s.native.PrepareBatch(ctx, "INSERT INTO device_metrics (tenant, day, time_us, device, name, value, list)")
	if err != nil {
		return 0, fmt.Errorf("write metrics: %w", err)
	}
	defer b.Abort()
	n := 0
	for _, m := range batch {
		k := key{m.Tenant, m.Device, m.Name, m.Time.UnixMicro()}
		if stored[k] {
			continue
		}
		stored[k] = true
		list := m.List
		if list == nil {
			list = []string{}
		}
		if err := b.Append(m.Tenant, sqlstore.Day(m.Time), k.t, m.Device, m.Name, m.Value, list); err != nil {
			return 0, fmt.Errorf("write metrics: %w", err)
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.Send(); err != nil {
		return 0, fmt.Errorf("write metrics: %w", err)
	}
	return n, nil
}

// UpsertDevices inserts new versions; ReplacingMergeTree keeps the latest.
func (s *Store) UpsertDevices(ctx context.Context, batch []schema.Device) error {
	b, err := s.native.PrepareBatch(ctx, "INSERT INTO devices (tenant, id, first_seen_us, last_seen_us, macs, ips, category, risk, attributes, version)")
	if err != nil {
		return fmt.Errorf("upsert devices: %w", err)
	}
	defer b.Abort()
	v := uint64(time.Now().UnixNano())
	for i, d := range batch {
		if err := b.Append(d.Tenant, d.ID, d.FirstSeen.UnixMicro(), d.LastSeen.UnixMicro(), nonNil(d.MACs), nonNil(d.IPs),
			d.Category, d.Risk, orEmptyJSON(d.Attributes), v+uint64(i)); err != nil {
			return fmt.Errorf("upsert devices: %s: %w", d.ID, err)
		}
	}
	return b.Send()
}

// UpsertFindings inserts new versions; ReplacingMergeTree keeps the latest.
func (s *Store) UpsertFindings(ctx context.Context, batch []schema.Finding) error {
	b, err := s.native.PrepareBatch(ctx, "INSERT INTO findings (tenant, id, day, time_us, detector, rule, severity, entities, evidence, state, dedupe_key, technique, version)")
	if err != nil {
		return fmt.Errorf("upsert findings: %w", err)
	}
	defer b.Abort()
	v := uint64(time.Now().UnixNano())
	for i, f := range batch {
		if err := b.Append(f.Tenant, f.ID, sqlstore.Day(f.Time), f.Time.UnixMicro(), f.Detector, f.Rule, f.Severity, nonNil(f.Entities),
			orEmptyJSON(f.Evidence), f.State, f.DedupeKey, f.Technique, v+uint64(i)); err != nil {
			return fmt.Errorf("upsert findings: %s: %w", f.ID, err)
		}
	}
	return b.Send()
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func orEmptyJSON(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}
