package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// Devices lists a tenant's devices, most recently seen first.
func (db *DB) Devices(ctx context.Context, q store.DeviceQuery) ([]schema.Device, error) {
	var args []any
	query := "SELECT id, first_seen_us, last_seen_us, macs, ips, category, risk, attributes FROM " + db.D.Latest("devices") +
		" WHERE tenant = " + db.bind(&args, q.Tenant)
	if q.Category != "" {
		query += " AND category = " + db.bind(&args, q.Category)
	}
	if q.ID != "" {
		query += " AND id = " + db.bind(&args, q.ID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	query += fmt.Sprintf(" ORDER BY last_seen_us DESC, id LIMIT %d", limit)
	rows, err := db.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	var out []schema.Device
	for rows.Next() {
		d := schema.Device{Tenant: q.Tenant}
		var first, last int64
		var attrs string
		if err := rows.Scan(&d.ID, &first, &last, db.D.ListScanner(&d.MACs), db.D.ListScanner(&d.IPs), &d.Category, &d.Risk, &attrs); err != nil {
			return nil, fmt.Errorf("devices: %w", err)
		}
		d.FirstSeen, d.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		if attrs != "" && attrs != "{}" {
			d.Attributes = json.RawMessage(attrs)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
