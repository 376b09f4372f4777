package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// Findings pages through a tenant's findings, most recently first seen
// first (ties by id); the cursor is the last one's time and id.
func (db *DB) Findings(ctx context.Context, q store.FindingQuery) (store.FindingPage, error) {
	var args []any
	conds := []string{"tenant = " + db.bind(&args, q.Tenant)}
	if q.Cursor != "" {
		a, id, ok := strings.Cut(q.Cursor, ".")
		t, err := strconv.ParseInt(a, 36, 64)
		if !ok || err != nil || id == "" {
			return store.FindingPage{}, fmt.Errorf("findings: bad cursor %q", q.Cursor)
		}
		t1, t2, i := db.bind(&args, t), db.bind(&args, t), db.bind(&args, id)
		conds = append(conds, "(time_us < "+t1+" OR (time_us = "+t2+" AND id > "+i+"))")
	}
	if !q.Since.IsZero() {
		conds = append(conds, "time_us >= "+db.bind(&args, q.Since.UnixMicro()))
	}
	if !q.Until.IsZero() {
		conds = append(conds, "time_us < "+db.bind(&args, q.Until.UnixMicro()))
	}
	for col, v := range map[string]string{"id": q.ID, "detector": q.Detector, "rule": q.Rule, "state": q.State} {
		if v != "" {
			conds = append(conds, col+" = "+db.bind(&args, v))
		}
	}
	if q.Entity != "" {
		conds = append(conds, db.D.ArrayHas("entities", q.Entity, func(v any) string { return db.bind(&args, v) }))
	}
	if q.MinSeverity != "" {
		i := slices.Index(store.Severities, q.MinSeverity)
		if i < 0 {
			return store.FindingPage{}, fmt.Errorf("findings: severity %q: want one of %s", q.MinSeverity, strings.Join(store.Severities, ", "))
		}
		var in []string
		for _, s := range store.Severities[i:] {
			in = append(in, db.bind(&args, s))
		}
		conds = append(conds, "severity IN ("+strings.Join(in, ", ")+")")
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 10000:
		limit = 10000
	}
	query := "SELECT id, time_us, detector, rule, severity, entities, evidence, state, dedupe_key, technique FROM " +
		db.D.Latest("findings") + " WHERE " + strings.Join(conds, " AND ") +
		fmt.Sprintf(" ORDER BY time_us DESC, id LIMIT %d", limit+1)
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return store.FindingPage{}, fmt.Errorf("findings: %w", err)
	}
	defer rows.Close()
	var out []schema.Finding
	for rows.Next() {
		f := schema.Finding{Tenant: q.Tenant}
		var t int64
		var ev string
		if err := rows.Scan(&f.ID, &t, &f.Detector, &f.Rule, &f.Severity, db.D.ListScanner(&f.Entities), &ev,
			&f.State, &f.DedupeKey, &f.Technique); err != nil {
			return store.FindingPage{}, fmt.Errorf("findings: %w", err)
		}
		f.Time = time.UnixMicro(t).UTC()
		if ev != "" && ev != "{}" {
			f.Evidence = json.RawMessage(ev)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return store.FindingPage{}, fmt.Errorf("findings: %w", err)
	}
	page := store.FindingPage{Findings: out}
	if len(out) > limit {
		page.Findings = out[:limit]
		last := out[limit-1]
		page.Next = strconv.FormatInt(last.Time.UnixMicro(), 36) + "." + last.ID
	}
	return page, nil
}

// FindingCounts counts a tenant's findings first seen in the range, in
// their latest state, by severity and state.
func (db *DB) FindingCounts(ctx context.Context, sc store.Scope) ([]store.FindingCount, error) {
	var args []any
	conds := "tenant = " + db.bind(&args, sc.Tenant)
	if !sc.Since.IsZero() {
		conds += " AND time_us >= " + db.bind(&args, sc.Since.UnixMicro())
	}
	if !sc.Until.IsZero() {
		conds += " AND time_us < " + db.bind(&args, sc.Until.UnixMicro())
	}
	rows, err := db.SQL.QueryContext(ctx, "SELECT severity, state, count(*) FROM "+db.D.Latest("findings")+" WHERE "+conds+
		" GROUP BY severity, state ORDER BY severity, state", args...)
	if err != nil {
		return nil, fmt.Errorf("finding counts: %w", err)
	}
	defer rows.Close()
	var out []store.FindingCount
	for rows.Next() {
		var c store.FindingCount
		if err := rows.Scan(&c.Severity, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("finding counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
