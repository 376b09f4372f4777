package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// DB runs the typed queries against one backend.
type DB struct {
	SQL *sql.DB
	D   Dialect
}

// where builds the tenant, time and filter conditions, appending to args.
// Searches take records overlapping the range; aggregations count a
// record at its end (timeCol "end_us", or a rollup's "minute_us").
func (db *DB) where(sc store.Scope, f filter.Expr, overlap bool, timeCol string, args []any) (string, []any) {
	conds := []string{"tenant = " + db.bind(&args, sc.Tenant)}
	if !sc.Since.IsZero() {
		conds = append(conds, timeCol+" >= "+db.bind(&args, Micros(sc.Since)))
	}
	if !sc.Until.IsZero() {
		col := timeCol
		if overlap {
			col = "start_us"
		}
		conds = append(conds, col+" < "+db.bind(&args, Micros(sc.Until)))
	}
	if f != nil {
		var cond string
		cond, args = filter.SQL(f, db.D, args)
		conds = append(conds, cond)
	}
	return strings.Join(conds, " AND "), args
}

func (db *DB) bind(args *[]any, v any) string {
	*args = append(*args, v)
	return db.D.Param(len(*args))
}

// Previous returns a stored record's counters.
func (db *DB) Previous(ctx context.Context, tenant, uid string, seq uint32) (store.Counters, bool, error) {
	var c store.Counters
	err := db.SQL.QueryRowContext(ctx, "SELECT orig_bytes, resp_bytes, orig_pkts, resp_pkts FROM sessions WHERE tenant = "+
		db.D.Param(1)+" AND uid = "+db.D.Param(2)+" AND seq = "+db.D.Param(3)+" LIMIT 1", tenant, uid, seq).
		Scan(&c.OrigBytes, &c.RespBytes, &c.OrigPkts, &c.RespPkts)
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("previous record: %w", err)
	}
	return c, true, nil
}
