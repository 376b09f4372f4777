package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// dedupe drops what is already stored, by record id: a time-pruned lookup
// (the zone maps skip every row group outside the batch's span).
const dedupe = `DELETE FROM stage_sessions s WHERE EXISTS (
	SELECT 1 FROM sessions t WHERE t.end_us BETWEEN (SELECT min(end_us) FROM stage_sessions) AND (SELECT max(end_us) FROM stage_sessions)
	AND t.tenant = s.tenant AND t.uid = s.uid AND t.seq = s.seq)`

// rollupSQL maintains the per-minute rollups from the new records, in the
// transaction that stores them: a record's delta counts at its end minute.
var rollupSQL = []string{
	`INSERT INTO rollup_app SELECT tenant, end_us // 60000000 * 60000000, app,
		sum(d_orig_bytes + d_resp_bytes), sum(d_orig_pkts + d_resp_pkts), sum(CASE WHEN seq = 0 THEN 1 ELSE 0 END)
	FROM stage_sessions GROUP BY ALL
	ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, packets = packets + excluded.packets, sessions = sessions + excluded.sessions`,
	`INSERT INTO rollup_segment SELECT tenant, end_us // 60000000 * 60000000, orig_segment, resp_segment,
		sum(d_orig_bytes + d_resp_bytes), sum(d_orig_pkts + d_resp_pkts), sum(CASE WHEN seq = 0 THEN 1 ELSE 0 END)
	FROM stage_sessions GROUP BY ALL
	ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, packets = packets + excluded.packets, sessions = sessions + excluded.sessions`,
	`INSERT INTO rollup_device SELECT tenant, m, device, sum(b), sum(p), sum(n) FROM (
		SELECT tenant, end_us // 60000000 * 60000000 AS m, orig_device AS device, d_orig_bytes + d_resp_bytes AS b,
			d_orig_pkts + d_resp_pkts AS p, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS n FROM stage_sessions
		UNION ALL
		SELECT tenant, end_us // 60000000 * 60000000, resp_device, d_orig_bytes + d_resp_bytes,
			d_orig_pkts + d_resp_pkts, CASE WHEN seq = 0 THEN 1 ELSE 0 END FROM stage_sessions
	) GROUP BY ALL
	ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes, packets = packets + excluded.packets, sessions = sessions + excluded.sessions`,
}

// WriteSessions appends the batch to a staging table with DuckDB's
// Appender, drops records already stored, and moves the rest into
// sessions and the rollups in one transaction: a retried batch, or one
// that failed half-way, never counts twice.
func (s *Store) WriteSessions(ctx context.Context, batch []store.Record) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	c, release, err := s.writer(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	type id struct {
		tenant, uid string
		seq         uint32
	}
	seen := make(map[id]bool, len(batch))
	err = stage(c, batch, func(r *store.Record) bool {
		k := id{r.Tenant, r.UID, r.Seq}
		if seen[k] {
			return true // the same record twice in one batch
		}
		seen[k] = true
		return false
	})
	defer c.ExecContext(context.WithoutCancel(ctx), "DELETE FROM stage_sessions")
	if err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	var n int
	s.mu.Lock()
	defer s.mu.Unlock()
	err = tx(ctx, c, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, dedupe); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM stage_sessions").Scan(&n); err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertSessions); err != nil {
			return err
		}
		for _, q := range rollupSQL {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	return n, nil
}

// WriteMetrics stores device metrics, skipping those already stored.
func (s *Store) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	c, release, err := s.writer(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	err = appender(c, "stage_metrics", func(a *duckdb.Appender) error {
		for _, m := range batch {
			if err := a.AppendRow(m.Tenant, sqlstore.Day(m.Time), m.Time.UnixMicro(), m.Device, m.Name, m.Value, strList(m.List)); err != nil {
				return fmt.Errorf("metric %s %s: %w", m.Device, m.Name, err)
			}
		}
		return nil
	})
	defer c.ExecContext(context.WithoutCancel(ctx), "DELETE FROM stage_metrics")
	if err != nil {
		return 0, fmt.Errorf("write metrics: %w", err)
	}
	var n int64
	s.mu.Lock()
	defer s.mu.Unlock()
	err = tx(ctx, c, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO device_metrics SELECT DISTINCT ON (tenant, device, name, time_us) * FROM stage_metrics s
			WHERE NOT EXISTS (SELECT 1 FROM device_metrics t
				WHERE t.time_us BETWEEN (SELECT min(time_us) FROM stage_metrics) AND (SELECT max(time_us) FROM stage_metrics)
				AND t.tenant = s.tenant AND t.device = s.device AND t.name = s.name AND t.time_us = s.time_us)`)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("write metrics: %w", err)
	}
	return int(n), nil
}

// UpsertDevices replaces devices by (tenant, id).
func (s *Store) UpsertDevices(ctx context.Context, batch []schema.Device) error {
	return s.exclusive(ctx, func(tx *sql.Tx) error {
		for _, d := range batch {
			attrs := string(d.Attributes)
			if attrs == "" {
				attrs = "{}"
			}
			if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				d.Tenant, d.ID, d.FirstSeen.UnixMicro(), d.LastSeen.UnixMicro(), strList(d.MACs), strList(d.IPs), d.Category, d.Risk, attrs); err != nil {
				return fmt.Errorf("device %s: %w", d.ID, err)
			}
		}
		return nil
	})
}

// UpsertFindings replaces findings by (tenant, id).
func (s *Store) UpsertFindings(ctx context.Context, batch []schema.Finding) error {
	return s.exclusive(ctx, func(tx *sql.Tx) error {
		for _, f := range batch {
			ev := string(f.Evidence)
			if ev == "" {
				ev = "{}"
			}
			if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				f.Tenant, f.ID, sqlstore.Day(f.Time), f.Time.UnixMicro(), f.Detector, f.Rule, f.Severity, strList(f.Entities),
				ev, f.State, f.DedupeKey, f.Technique); err != nil {
				return fmt.Errorf("finding %s: %w", f.ID, err)
			}
		}
		return nil
	})
}

// Retain deletes whole days past each table's retention.
func (s *Store) Retain(ctx context.Context, now time.Time, r store.Retention) error {
	cut := func(d time.Duration) time.Time { return sqlstore.Day(now.Add(-d)) }
	return s.exclusive(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			keep time.Duration
			sql  string
			arg  func(time.Time) any
		}{
			{r.Sessions, "DELETE FROM sessions WHERE day < ?", func(t time.Time) any { return t }},
			{r.Rollups, "DELETE FROM rollup_app WHERE minute_us < ?", micros},
			{r.Rollups, "DELETE FROM rollup_segment WHERE minute_us < ?", micros},
			{r.Rollups, "DELETE FROM rollup_device WHERE minute_us < ?", micros},
			{r.Metrics, "DELETE FROM device_metrics WHERE day < ?", func(t time.Time) any { return t }},
			{r.Findings, "DELETE FROM findings WHERE day < ?", func(t time.Time) any { return t }},
		} {
			if q.keep <= 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, q.sql, q.arg(cut(q.keep))); err != nil {
				return fmt.Errorf("retention: %w", err)
			}
		}
		return nil
	})
}

func micros(t time.Time) any { return t.UnixMicro() }

// exclusive runs f in a transaction on a write connection, alone.
func (s *Store) exclusive(ctx context.Context, f func(*sql.Tx) error) error {
	c, release, err := s.writer(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.mu.Lock()
	defer s.mu.Unlock()
	return tx(ctx, c, f)
}

func tx(ctx context.Context, c *sql.Conn, f func(*sql.Tx) error) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// strList gives a list as the Appender takes it: never nil, which it
// would store as NULL.
func strList(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
