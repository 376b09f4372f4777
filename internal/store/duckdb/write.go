package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// WriteSessions drops the records already stored (and repeats within
// the batch), then stores the rest in sessions and adds them to the
// rollups, in one transaction: a retried batch, or one that failed
// half-way, never counts twice. The batch is written at a lower CPU
// priority than the queries (background).
func (s *Store) WriteSessions(ctx context.Context, batch []store.Record) (n int, err error) {
	if len(batch) > 0 {
		background(func() { n, err = s.writeSessions(ctx, batch) })
	}
	return n, err
}

func (s *Store) writeSessions(ctx context.Context, batch []store.Record) (int, error) {
	c, release, err := s.writer(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	// Go's share is done before taking the lock, while another batch may
	// be in DuckDB; it is redone in the rare case that some records turn
	// out to be stored already (a retry). Late records' rollups are
	// summed under it, knowing where the rollups end.
	recs := uniqueRecords(batch)
	spans := timeSpans(recs)
	src, err := newSessionBatch(recs, s.strings)
	if err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	defer func() { src.release() }() // src as it is at the end
	// From the lookup to the commit, so that the lookup stays exact.
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(recs)
	if recs, err = s.unstored(ctx, c, recs, spans); err != nil || len(recs) == 0 {
		return 0, err
	}
	if len(recs) < n {
		src.release()
		if src, err = newSessionBatch(recs, s.strings); err != nil {
			return 0, fmt.Errorf("write sessions: %w", err)
		}
	}
	rolled := s.rolled.Load()
	late, hours, next := newRollups(src, s.strings, rolled), hoursOf(recs, floor(rolled, minuteUs)), nextRolled(rolled, recs)
	var stored func()
	var compacted []int64
	err = tx(ctx, c, func(tx *sql.Tx) error {
		if stored, err = s.strings.store(ctx, tx); err != nil {
			return err
		}
		if err := s.batches.insert(ctx, tx, insertSessions, src); err != nil {
			return err
		}
		for _, u := range late {
			if err := u.store(ctx, tx, &s.batches); err != nil {
				return fmt.Errorf("%s: %w", u.table, err)
			}
		}
		if err := markLate(ctx, tx, hours, s.late); err != nil {
			return err
		}
		if next > rolled {
			if err := rollForward(ctx, tx, rolled, next); err != nil {
				return fmt.Errorf("roll up: %w", err)
			}
		}
		compacted, err = compactLate(ctx, tx, merged(s.late, hours), next)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("write sessions: %w", err)
	}
	stored()
	newest := s.newest.Load()
	for _, r := range recs {
		newest = max(newest, sqlstore.Micros(r.End))
	}
	s.newest.Store(newest)
	s.rolled.Store(next)
	for h := range hours {
		s.late[h] = true
	}
	for _, h := range compacted {
		delete(s.late, h)
	}
	return len(recs), nil
}

type recordID struct {
	tenant, uid string
	seq         uint32
}

// idHash hashes an id for uniqueRecords (a variable for tests).
var idHash = func(seed maphash.Seed) func(recordID) uint64 {
	return func(k recordID) uint64 { return maphash.Comparable(seed, k) }
}(maphash.MakeSeed())

// uniqueRecords is the batch without repeated ids, first kept. Ids are
// looked up by hash in a map without pointers, which the garbage
// collector does not scan (keyed by the ids themselves, it was 40 % of a
// batch's allocation); ids of equal hashes are told apart.
func uniqueRecords(batch []store.Record) []*store.Record {
	first := make(map[uint64]int32, len(batch)) // by hash, the first record's index
	var others map[recordID]bool                // ids whose hash an earlier id has
	out := make([]*store.Record, 0, len(batch))
	for i := range batch {
		r := &batch[i]
		k := recordID{r.Tenant, r.UID, r.Seq}
		h := idHash(k)
		j, ok := first[h]
		switch {
		case !ok:
			first[h] = int32(i)
		case recordID{batch[j].Tenant, batch[j].UID, batch[j].Seq} == k || others[k]:
			continue
		default:
			if others == nil {
				others = map[recordID]bool{}
			}
			others[k] = true
		}
		out = append(out, r)
	}
	return out
}

// maxSpans bounds the ranges of end time a batch is looked up in.
const maxSpans = 8

// timeSpans are the ranges of end time (µs, inclusive) the records fall
// in: one for records arriving in time order, more when some are late,
// so that the lookup does not read the hours in between.
func timeSpans(recs []*store.Record) [][2]int64 {
	ends := make([]int64, len(recs))
	for i, r := range recs {
		ends[i] = sqlstore.Micros(r.End)
	}
	slices.Sort(ends)
	spans := [][2]int64{{ends[0], ends[0]}}
	for _, e := range ends[1:] {
		if last := &spans[len(spans)-1]; e-last[1] <= minuteUs {
			last[1] = e
		} else {
			spans = append(spans, [2]int64{e, e})
		}
	}
	for len(spans) > maxSpans { // join the two closest
		j := 1
		for i := 2; i < len(spans); i++ {
			if spans[i][0]-spans[i-1][1] < spans[j][0]-spans[j-1][1] {
				j = i
			}
		}
		spans[j-1][1] = spans[j][1]
		spans = slices.Delete(spans, j, j+1)
	}
	return spans
}

// unstored drops the records already in sessions: the ids stored in the
// batch's spans are read back (zone maps on end_us skip the rest).
func (s *Store) unstored(ctx context.Context, c *sql.Conn, recs []*store.Record, spans [][2]int64) ([]*store.Record, error) {
	var where []string
	var args []any
	for _, sp := range spans {
		where = append(where, "end_us BETWEEN ? AND ?")
		args = append(args, sp[0], sp[1])
	}
	rows, err := c.QueryContext(ctx, "SELECT tenant, uid, seq FROM sessions WHERE "+strings.Join(where, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("write sessions: %w", err)
	}
	defer rows.Close()
	stored := map[recordID]struct{}{}
	for rows.Next() {
		var k recordID
		if err := rows.Scan(&k.tenant, &k.uid, &k.seq); err != nil {
			return nil, fmt.Errorf("write sessions: %w", err)
		}
		stored[k] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("write sessions: %w", err)
	}
	if len(stored) == 0 {
		return recs, nil
	}
	return slices.DeleteFunc(recs, func(r *store.Record) bool {
		_, ok := stored[recordID{r.Tenant, r.UID, r.Seq}]
		return ok
	}), nil
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

// findingsPerStatement bounds one upsert statement: a statement per row
// cost about 6 ms each (DuckDB plans every statement and checks the key
// index per statement), so rows go in many at a time.
const findingsPerStatement = 250

// UpsertFindings replaces findings by (tenant, id); of repeats of one id
// within the batch the last wins (one statement may not name a key twice).
func (s *Store) UpsertFindings(ctx context.Context, batch []schema.Finding) error {
	last := make(map[[2]string]int, len(batch))
	for i, f := range batch {
		last[[2]string{f.Tenant, f.ID}] = i
	}
	rows := make([]schema.Finding, 0, len(last))
	for i, f := range batch {
		if last[[2]string{f.Tenant, f.ID}] == i {
			rows = append(rows, f)
		}
	}
	return s.exclusive(ctx, func(tx *sql.Tx) error {
		for len(rows) > 0 {
			n := min(len(rows), findingsPerStatement)
			var q strings.Builder
			q.WriteString("INSERT OR REPLACE INTO findings VALUES ")
			args := make([]any, 0, 12*n)
			for i, f := range rows[:n] {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				ev := string(f.Evidence)
				if ev == "" {
					ev = "{}"
				}
				args = append(args, f.Tenant, f.ID, sqlstore.Day(f.Time), f.Time.UnixMicro(), f.Detector, f.Rule, f.Severity,
					strList(f.Entities), ev, f.State, f.DedupeKey, f.Technique)
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("findings %s…: %w", rows[0].ID, err)
			}
			rows = rows[n:]
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
			{r.Rollups, "DELETE FROM rollup_device_hour WHERE hour_us < ?", micros},
			{r.Rollups, "DELETE FROM rollup_ip_hour WHERE hour_us < ?", micros},
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
	// Begun without ctx's cancel: database/sql closes the connection of a
	// transaction whose context ends (duckdb-go resets no sessions), and
	// c is one of the store's kept write connections. A cancel still
	// stops the statement under way, and the transaction is rolled back.
	tx, err := c.BeginTx(context.WithoutCancel(ctx), nil)
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
