package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// upsertRollup is an upsert adding the new rows' sums into a rollup of
// buckets of unit µs, from rows (new_rows, or a query over it with the
// key's columns); key is the table's key columns after tenant and time.
// Rows go in key order, so that two batches adding to the same rows (the
// writer's two flushers, in the same hour) lock them in the same order
// rather than deadlock.
func upsertRollup(table, timeCol string, unit int64, key, sel, rows string) string {
	u := strconv.FormatInt(unit, 10)
	return table + " AS (INSERT INTO " + table + " SELECT tenant, end_us / " + u + " * " + u + ", " + sel +
		", sum(d_orig_bytes + d_resp_bytes), sum(d_orig_pkts + d_resp_pkts), sum(CASE WHEN seq = 0 THEN 1 ELSE 0 END) FROM " + rows +
		" GROUP BY 1, 2, " + key + " ORDER BY 1, 2, " + key + " ON CONFLICT (tenant, " + timeCol + ", " + key + ") DO UPDATE SET bytes = " + table +
		".bytes + excluded.bytes, packets = " + table + ".packets + excluded.packets, sessions = " + table +
		".sessions + excluded.sessions RETURNING 1)"
}

const (
	minuteUs = 60_000_000
	hourUs   = 60 * minuteUs
	// byEnd is new_rows once per end, for the rollups a record counts in
	// at each end.
	byEnd = "(SELECT tenant, end_us, seq, orig_device AS device, 0 AS side, orig_ip AS ip, d_orig_bytes, d_resp_bytes, d_orig_pkts, d_resp_pkts FROM new_rows " +
		"UNION ALL SELECT tenant, end_us, seq, resp_device, 1, resp_ip, d_orig_bytes, d_resp_bytes, d_orig_pkts, d_resp_pkts FROM new_rows) AS ends"
)

// moveSessions inserts the staged records not stored yet and adds exactly
// those to the rollups, in one statement.
var moveSessions = "WITH new_rows AS (INSERT INTO sessions SELECT * FROM stage_sessions ON CONFLICT (tenant, uid, seq) DO NOTHING RETURNING *), " +
	upsertRollup("rollup_app", "minute_us", minuteUs, "app", "app", "new_rows") + ", " +
	upsertRollup("rollup_segment", "minute_us", minuteUs, "orig_segment, resp_segment", "orig_segment, resp_segment", "new_rows") + ", " +
	upsertRollup("rollup_device", "minute_us", minuteUs, "device", "device", byEnd) + ", " +
	upsertRollup("rollup_device_hour", "hour_us", hourUs, "device", "device", byEnd) + ", " +
	upsertRollup("rollup_ip_hour", "hour_us", hourUs, "side, ip", "side, ip", byEnd) +
	" SELECT count(*) FROM new_rows"

// WriteSessions copies the batch into a temporary table (COPY, the bulk
// path) and moves the new records into sessions and the rollups in one
// transaction, idempotent by the unique record id.
func (s *Store) WriteSessions(ctx context.Context, batch []store.Record) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	var n int
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		t, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer t.Rollback(ctx)
		if _, err := t.Exec(ctx, "CREATE TEMP TABLE stage_sessions (LIKE sessions) ON COMMIT DROP"); err != nil {
			return err
		}
		rows := make([][]any, 0, len(batch))
		for i := range batch {
			row, err := sqlstore.AppendRow(make([]any, 0, len(sqlstore.SessionColumns)), &batch[i])
			if err != nil {
				return err
			}
			for c, v := range row {
				switch v := v.(type) { // no unsigned types in PostgreSQL
				case uint64:
					row[c] = int64(v)
				case uint32:
					row[c] = int64(v)
				case uint16:
					row[c] = int32(v)
				case uint8:
					row[c] = int16(v)
				case []uint16:
					ints := make([]int32, len(v))
					for i, x := range v {
						ints[i] = int32(x)
					}
					row[c] = ints
				}
			}
			rows = append(rows, row)
		}
		if _, err := t.CopyFrom(ctx, pgx.Identifier{"stage_sessions"}, sqlstore.SessionColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		// The same record twice in one batch: keep one.
		if _, err := t.Exec(ctx, "DELETE FROM stage_sessions a USING stage_sessions b WHERE a.ctid < b.ctid AND a.tenant = b.tenant AND a.uid = b.uid AND a.seq = b.seq"); err != nil {
			return err
		}
		if err := t.QueryRow(ctx, moveSessions).Scan(&n); err != nil {
			return err
		}
		return t.Commit(ctx)
	})
	if err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	return n, nil
}

func (s *Store) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	c, err := s.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error { return f(dc.(*stdlib.Conn).Conn()) })
}

// WriteMetrics inserts the metrics not stored yet.
func (s *Store) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) (int, error) {
	var n int64
	err := tx(ctx, s.SQL, func(t *sql.Tx) error {
		for _, m := range batch {
			list := m.List
			if list == nil {
				list = []string{}
			}
			res, err := t.ExecContext(ctx, "INSERT INTO device_metrics VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
				m.Tenant, sqlstore.Day(m.Time), m.Time.UnixMicro(), m.Device, m.Name, m.Value, list)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("write metrics: %w", err)
	}
	return int(n), nil
}

// UpsertDevices replaces devices by (tenant, id).
func (s *Store) UpsertDevices(ctx context.Context, batch []schema.Device) error {
	return tx(ctx, s.SQL, func(t *sql.Tx) error {
		for _, d := range batch {
			_, err := t.ExecContext(ctx, `INSERT INTO devices VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (tenant, id) DO UPDATE SET first_seen_us = excluded.first_seen_us, last_seen_us = excluded.last_seen_us,
				macs = excluded.macs, ips = excluded.ips, category = excluded.category, risk = excluded.risk, attributes = excluded.attributes`,
				d.Tenant, d.ID, d.FirstSeen.UnixMicro(), d.LastSeen.UnixMicro(), nonNil(d.MACs), nonNil(d.IPs), d.Category, d.Risk, orEmptyJSON(d.Attributes))
			if err != nil {
				return fmt.Errorf("device %s: %w", d.ID, err)
			}
		}
		return nil
	})
}

// UpsertFindings replaces findings by (tenant, id).
func (s *Store) UpsertFindings(ctx context.Context, batch []schema.Finding) error {
	return tx(ctx, s.SQL, func(t *sql.Tx) error {
		for _, f := range batch {
			_, err := t.ExecContext(ctx, `INSERT INTO findings VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
				ON CONFLICT (tenant, id) DO UPDATE SET day = excluded.day, time_us = excluded.time_us, detector = excluded.detector,
				rule = excluded.rule, severity = excluded.severity, entities = excluded.entities, evidence = excluded.evidence,
				state = excluded.state, dedupe_key = excluded.dedupe_key, technique = excluded.technique`,
				f.Tenant, f.ID, sqlstore.Day(f.Time), f.Time.UnixMicro(), f.Detector, f.Rule, f.Severity, nonNil(f.Entities),
				orEmptyJSON(f.Evidence), f.State, f.DedupeKey, f.Technique)
			if err != nil {
				return fmt.Errorf("finding %s: %w", f.ID, err)
			}
		}
		return nil
	})
}

// Retain deletes what is past each table's retention.
func (s *Store) Retain(ctx context.Context, now time.Time, r store.Retention) error {
	day := func(d time.Duration) any { return sqlstore.Day(now.Add(-d)) }
	micros := func(d time.Duration) any { return sqlstore.Day(now.Add(-d)).UnixMicro() }
	return tx(ctx, s.SQL, func(t *sql.Tx) error {
		for _, q := range []struct {
			keep time.Duration
			sql  string
			arg  func(time.Duration) any
		}{
			{r.Sessions, "DELETE FROM sessions WHERE day < $1", day},
			{r.Rollups, "DELETE FROM rollup_app WHERE minute_us < $1", micros},
			{r.Rollups, "DELETE FROM rollup_segment WHERE minute_us < $1", micros},
			{r.Rollups, "DELETE FROM rollup_device WHERE minute_us < $1", micros},
			{r.Rollups, "DELETE FROM rollup_device_hour WHERE hour_us < $1", micros},
			{r.Rollups, "DELETE FROM rollup_ip_hour WHERE hour_us < $1", micros},
			{r.Metrics, "DELETE FROM device_metrics WHERE day < $1", day},
			{r.Findings, "DELETE FROM findings WHERE day < $1", day},
		} {
			if q.keep <= 0 {
				continue
			}
			if _, err := t.ExecContext(ctx, q.sql, q.arg(q.keep)); err != nil {
				return fmt.Errorf("retention: %w", err)
			}
		}
		return nil
	})
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
