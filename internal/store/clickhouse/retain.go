package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// Retain drops the day partitions past each table's retention, on every
// node (ClickHouse 18.16 has no TTL).
func (s *Store) Retain(ctx context.Context, now time.Time, r store.Retention) error {
	keep := map[string]time.Duration{
		"sessions": r.Sessions, "rollup_app": r.Rollups, "rollup_segment": r.Rollups, "rollup_device": r.Rollups,
		"rollup_device_hour": r.Rollups, "rollup_ip_hour": r.Rollups,
		"device_metrics": r.Metrics, "findings": r.Findings,
	}
	local := ""
	if s.opts.Cluster != "" {
		local = "_local"
	}
	for _, addr := range s.opts.Addr {
		conn, err := ch.Open(options(s.opts, addr, s.opts.Database))
		if err != nil {
			return fmt.Errorf("retention: %s: %w", addr, err)
		}
		err = retainNode(ctx, conn, s.opts.Database, local, now, keep)
		conn.Close()
		if err != nil {
			return fmt.Errorf("retention: %s: %w", addr, err)
		}
	}
	return nil
}

func retainNode(ctx context.Context, conn ch.Conn, db, local string, now time.Time, keep map[string]time.Duration) error {
	for table, d := range keep {
		if d <= 0 {
			continue
		}
		cut := sqlstore.Day(now.Add(-d)).Format("2006-01-02")
		rows, err := conn.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE database = ? AND table = ? AND active AND partition < ?",
			db, table+local, cut)
		if err != nil {
			return err
		}
		var parts []string
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			parts = append(parts, p)
		}
		rows.Close()
		for _, p := range parts {
			if err := conn.Exec(ctx, "ALTER TABLE "+db+"."+table+local+" DROP PARTITION '"+p+"'"); err != nil {
				return fmt.Errorf("%s: drop partition %s: %w", table, p, err)
			}
		}
	}
	return nil
}
