package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// coded are the sessions columns (and lists) that hold strings of few
// distinct values as codes of one dictionary, the strings table. DuckDB
// stores a VARCHAR row at several times the CPU of an integer one:
// copying one batch into sessions took 2.2× as long with these columns
// as strings (docs/benchmarks.md, store section). uid, community_id,
// server_name and detail stay strings (nearly one value a session), and
// so do tenant (every query's condition), mirror_kind (filter.Field's
// Present compares it with the empty string) and the device names (an
// address for every end without an asset: the dictionary would grow
// with the Internet). rollup_app and rollup_segment key by the same
// codes, so that their rows and the sessions' union alike.
var coded = map[string]bool{
	"end_reason": true, "sensor": true, "source": true,
	"orig_mac": true, "orig_asset": true, "orig_tags": true, "orig_segment": true,
	"resp_mac": true, "resp_asset": true, "resp_tags": true, "resp_segment": true,
	"transport": true, "direction": true, "conn_state": true, "history": true, "app": true,
	"orig_country": true, "resp_country": true, "intel": true, "flow_action": true,
}

// stringsTable is the migration that adds the strings table.
const stringsTable = 5

// dictionary is the strings table in memory. Codes are handed out as
// batches are prepared, which may run side by side, and stored with the
// first batch that commits after them: codes [0, stored) are in the
// table. A failed commit leaves its codes to the next one, so a code in
// a stored row is always in the table. Code 0 is the empty string.
type dictionary struct {
	mu sync.RWMutex
	names
	stored int
}

// names gives each string an id, in order: 0 is the empty string.
type names struct {
	ids  map[string]uint32
	strs []string
}

func newNames() names { return names{ids: map[string]uint32{"": 0}, strs: []string{""}} }

func (n *names) id(s string) uint32 {
	id, ok := n.ids[s]
	if !ok {
		id = uint32(len(n.strs))
		n.ids[s] = id
		n.strs = append(n.strs, s)
	}
	return id
}

// column is the ids of a column's values, by record.
func (n *names) column(vals []string) []uint32 {
	out := make([]uint32, len(vals))
	for i, v := range vals {
		if i > 0 && v == vals[i-1] {
			out[i] = out[i-1]
		} else {
			out[i] = n.id(v)
		}
	}
	return out
}

// load reads the strings table.
func (d *dictionary) load(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT code, value FROM strings ORDER BY code")
	if err != nil {
		return fmt.Errorf("strings: %w", err)
	}
	defer rows.Close()
	d.names = newNames()
	for n := uint32(0); rows.Next(); n++ {
		var c uint32
		var v string
		if err := rows.Scan(&c, &v); err != nil {
			return fmt.Errorf("strings: %w", err)
		}
		if c != n || (c == 0) != (v == "") || (c > 0 && d.id(v) != c) {
			return fmt.Errorf("strings: code %d (%q) where code %d was due, or a repeated string", c, v, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("strings: %w", err)
	}
	d.stored = len(d.strs)
	return nil
}

// code is v's code; ok is false for a string no session holds.
func (d *dictionary) code(v string) (c uint32, ok bool) {
	d.mu.RLock()
	c, ok = d.ids[v]
	d.mu.RUnlock()
	return c, ok
}

// add is v's code, handed out when v is new.
func (d *dictionary) add(v string) uint32 {
	if c, ok := d.code(v); ok {
		return c
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.id(v)
}

// value is the string of a code.
func (d *dictionary) value(c uint32) (string, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if int(c) >= len(d.strs) {
		return "", fmt.Errorf("string code %d not in the dictionary (%d codes)", c, len(d.strs))
	}
	return d.strs[c], nil
}

// store inserts the codes not in the table yet, in the batch's
// transaction; commit marks them stored once it has committed.
func (d *dictionary) store(ctx context.Context, tx *sql.Tx) (commit func(), err error) {
	d.mu.RLock()
	from, vals := d.stored, d.strs[d.stored:]
	d.mu.RUnlock()
	const per = 500 // rows an INSERT, bound as parameters
	for i := 0; i < len(vals); i += per {
		part := vals[i:min(i+per, len(vals))]
		args := make([]any, 0, 2*len(part))
		for j, v := range part {
			args = append(args, uint32(from+i+j), v)
		}
		q := "INSERT INTO strings (code, value) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(part)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("strings: %w", err)
		}
	}
	return func() {
		d.mu.Lock()
		d.stored = max(d.stored, from+len(vals))
		d.mu.Unlock()
	}, nil
}

// text is a scanned string column's value: a string, or a code.
func (d *dictionary) text(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case uint32:
		return d.value(v)
	}
	return "", fmt.Errorf("string column holds %T", v)
}

// codesOf is a batch's column as codes, new strings given theirs; the
// batch hands it back to codeColumns.
func (d *dictionary) codesOf(vals []string) []uint32 {
	out := codeColumns.get(len(vals))
	seen := map[string]uint32{}
	for i, v := range vals {
		if i > 0 && v == vals[i-1] {
			out[i] = out[i-1]
			continue
		}
		c, ok := seen[v]
		if !ok {
			c = d.add(v)
			seen[v] = c
		}
		out[i] = c
	}
	return out
}

// codeLists turns a batch's lists, joined by sep, into their codes
// joined by commas.
func (d *dictionary) codeLists(vals []string) {
	seen := map[string]string{}
	for i, v := range vals {
		if v == "" {
			continue
		}
		c, ok := seen[v]
		if !ok {
			var b []byte
			for j, s := range strings.Split(v, sep) {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendUint(b, uint64(d.add(s)), 10)
			}
			c = string(b)
			seen[v] = c
		}
		vals[i] = c
	}
}

// register defines osprey_text(code), the string of a code, on the
// database of c. It reads the dictionary in memory: decoding by a join
// with the strings table scanned all of it for every query, 1 ms at
// 1 000 strings and 54 ms at a million.
func (d *dictionary) register(c *sql.Conn) error {
	code, err := duckdb.NewTypeInfo(duckdb.TYPE_UINTEGER)
	if err != nil {
		return err
	}
	text, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return err
	}
	return duckdb.RegisterScalarUDF(c, "osprey_text", textFunc{d, code, text})
}

type textFunc struct {
	d          *dictionary
	code, text duckdb.TypeInfo
}

func (f textFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{f.code}, ResultTypeInfo: f.text}
}

func (f textFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(v []driver.Value) (any, error) { return f.d.text(v[0]) }}
}
