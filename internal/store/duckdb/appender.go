package duckdb

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// stageTable is sessions with its lists as strings: the Appender takes a
// list value several times slower than a string (measured: the four list
// columns cost 45 % of the staging time), and DuckDB splits them back in
// one vectorised pass (insertSessions).
const stageTable = `CREATE TEMP TABLE stage_sessions AS SELECT * REPLACE (
	'' AS orig_tags, '' AS resp_tags, '' AS vlans, '' AS tunnel_parents) FROM sessions LIMIT 0`

// insertSessions moves the staged records into sessions.
var insertSessions = "INSERT INTO sessions SELECT * REPLACE (" + splitList("orig_tags") + " AS orig_tags, " +
	splitList("resp_tags") + " AS resp_tags, " + splitList("tunnel_parents") + " AS tunnel_parents, " +
	"CASE WHEN vlans = '' THEN []::USMALLINT[] ELSE list_transform(string_split(vlans, ','), v -> v::USMALLINT) END AS vlans) FROM stage_sessions"

// sep joins a staged list: the ASCII unit separator, which no tag, uid or
// name holds.
const sep = "\x1f"

func splitList(col string) string {
	return "CASE WHEN " + col + " = '' THEN []::VARCHAR[] ELSE string_split(" + col + ", chr(31)) END"
}

// stage loads the batch into stage_sessions with DuckDB's Appender.
// (Handing DuckDB Arrow columns instead was measured 10 % faster — most
// of the cost is DuckDB's own insert — and needs a build tag: not worth
// it.)
func stage(c *sql.Conn, batch []store.Record, skip func(*store.Record) bool) error {
	return appender(c, "stage_sessions", func(a *duckdb.Appender) error {
		row := make([]any, 0, len(sqlstore.SessionColumns))
		vals := make([]driver.Value, len(sqlstore.SessionColumns))
		for i := range batch {
			r := &batch[i]
			if skip(r) {
				continue
			}
			row = sqlstore.AppendRow(row[:0], r)
			for c, v := range row {
				switch v := v.(type) {
				case []string:
					vals[c] = strings.Join(v, sep)
				case []uint16:
					vals[c] = joinU16(v)
				default:
					vals[c] = v
				}
			}
			if err := a.AppendRow(vals...); err != nil {
				return fmt.Errorf("session %s/%d: %w", r.UID, r.Seq, err)
			}
		}
		return nil
	})
}

func joinU16(v []uint16) string {
	b := make([]byte, 0, 6*len(v))
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return string(b)
}
