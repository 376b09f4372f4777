// Package sqlstore holds what the SQL backends share: the sessions column
// layout, and the typed queries (search, top-N, series, matrix) written
// once over database/sql with a Dialect for the few places the SQL of
// DuckDB, ClickHouse and PostgreSQL differ.
package sqlstore

import "github.com/osprey-ndr/osprey/internal/store/filter"

// Dialect is what differs between backends.
type Dialect interface {
	filter.Dialect
	// Unnest is a list column as one row per element, in a SELECT list.
	Unnest(column string) string
	// Floor rounds an integer expression down to a multiple of step.
	Floor(expr string, step int64) string
	// Last is the value of v at the greatest t, as an aggregate.
	Last(v, t string) string
	// ListScanner scans a list column into *[]string or *[]uint16, and
	// TextScanner a string column into *string.
	ListScanner(dst any) any
	TextScanner(dst *string) any
	// Decode is the string of a string column's value e in a grouped
	// result: a backend that stores the column's strings as codes (see
	// Text) turns them back here.
	Decode(column, e string) string
	// Where is the keyword of a search's conditions: WHERE, or PREWHERE
	// where the engine can then read the wide rows of the matches only.
	Where() string
	// PageByFilter says a search reads its page's rows by its own
	// conditions narrowed to the page's span, rather than by uid: the
	// engine then reads the other columns only of the rows where the
	// filter holds (DuckDB).
	PageByFilter() bool
	// Signed is an unsigned integer expression as a signed 64-bit one,
	// so that it can be negated and summed with others.
	Signed(expr string) string
	// Addr reads an address column (orig_ip, a rollup's ip) as one value
	// that addrScanner takes, ordered as the address's 16 bytes.
	Addr(column string) string
	// SplitOr says the engine scans a filter's top-level OR faster as one
	// scan per branch (see disjoint).
	SplitOr() bool
	// Latest names a table of upserted entries (devices, findings) so
	// that a read sees only each entry's newest version.
	Latest(table string) string
}

// PlainText is the string methods of a Dialect for a backend that stores
// strings as they are.
type PlainText struct{}

func (PlainText) Text(col, v string, bind func(any) string) string { return col + " = " + bind(v) }
func (PlainText) Decode(_, e string) string                        { return e }
func (PlainText) TextScanner(dst *string) any                      { return dst }
