package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// rollups are the per-minute tables: their key columns, and those
// columns' values for each end of a staged record (the device rollup
// counts a record once per end).
var rollups = []struct {
	table, key string
	ends       []string
}{
	{"rollup_app", "app", []string{"app"}},
	{"rollup_segment", "orig_segment, resp_segment", []string{"orig_segment, resp_segment"}},
	{"rollup_device", "device", []string{"orig_device AS device", "resp_device AS device"}},
}

// rollupSQL keeps each rollup at one row per (tenant, minute, key): the
// minutes a batch touches are read back (zone maps prune the rest),
// merged with the batch's sums and rewritten, in the transaction that
// stores the batch. This is an upsert without an index.
func rollupSQL() []string {
	const span = "BETWEEN (SELECT min(end_us) // 60000000 * 60000000 FROM stage_sessions) AND (SELECT max(end_us) FROM stage_sessions)"
	const sums = "sum(bytes) AS bytes, sum(packets) AS packets, sum(sessions) AS sessions"
	var out []string
	for _, r := range rollups {
		var parts []string
		for _, e := range r.ends {
			parts = append(parts, "SELECT tenant, end_us // 60000000 * 60000000 AS minute_us, "+e+
				", d_orig_bytes + d_resp_bytes AS bytes, d_orig_pkts + d_resp_pkts AS packets, CASE WHEN seq = 0 THEN 1 ELSE 0 END AS sessions FROM stage_sessions")
		}
		parts = append(parts, "SELECT tenant, minute_us, "+r.key+", bytes, packets, sessions FROM "+r.table+" WHERE minute_us "+span)
		out = append(out,
			"CREATE OR REPLACE TEMP TABLE merged AS SELECT tenant, minute_us, "+r.key+", "+sums+" FROM ("+strings.Join(parts, " UNION ALL ")+") GROUP BY ALL",
			"DELETE FROM "+r.table+" WHERE minute_us "+span,
			"INSERT INTO "+r.table+" SELECT * FROM merged")
	}
	return append(out, "DROP TABLE merged")
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
		for _, q := range rollupSQL() {
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
// Rows go in statements of devicesPerInsert: one statement per device
// costs DuckDB milliseconds each, which an inventory of thousands feels.
func (s *Store) UpsertDevices(ctx context.Context, batch []schema.Device) error {
	const devicesPerInsert = 256
	batch = lastByID(batch)
	return s.exclusive(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(batch); start += devicesPerInsert {
			chunk := batch[start:min(start+devicesPerInsert, len(batch))]
			var sb strings.Builder
			sb.WriteString("INSERT OR REPLACE INTO devices VALUES ")
			args := make([]any, 0, 9*len(chunk))
			for i, d := range chunk {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
				attrs := string(d.Attributes)
				if attrs == "" {
					attrs = "{}"
				}
				args = append(args, d.Tenant, d.ID, d.FirstSeen.UnixMicro(), d.LastSeen.UnixMicro(), strList(d.MACs), strList(d.IPs), d.Category, d.Risk, attrs)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("devices %s…: %w", chunk[0].ID, err)
			}
		}
		return nil
	})
}

// lastByID keeps the last version of each (tenant, id): one statement
// may not insert a key twice.
func lastByID(batch []schema.Device) []schema.Device {
	type key struct{ tenant, id string }
	last := make(map[key]int, len(batch))
	for i, d := range batch {
		last[key{d.Tenant, d.ID}] = i
	}
	if len(last) == len(batch) {
		return batch
	}
	out := make([]schema.Device, 0, len(last))
	for i, d := range batch {
		if last[key{d.Tenant, d.ID}] == i {
			out = append(out, d)
		}
	}
	return out
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
