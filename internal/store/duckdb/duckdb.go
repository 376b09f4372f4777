// Package duckdb is the embedded store, Osprey's default: one DuckDB
// database file in a data directory, no server to run.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// File is the database file inside the data directory.
const File = "osprey.duckdb"

// Store is a DuckDB store. Queries run on a pool of connections; writes
// go through connections of their own, so that one batch is prepared in
// Go while another is in DuckDB. DuckDB's share is serialised by mu,
// which keeps the skip-what-is-stored lookup exact.
type Store struct {
	*sqlstore.DB
	mu      sync.Mutex
	writers chan *sql.Conn
	batches batches
	strings *dictionary
	rolled  atomic.Int64   // where the rollups end, µs (roll.go)
	newest  atomic.Int64   // the newest stored record's end, µs
	late    map[int64]bool // hours to compact (roll.go), under mu
}

// stagers is how many batches may be written at once.
const stagers = 2

var (
	_ store.Store      = (*Store)(nil)
	_ store.BatchSizer = (*Store)(nil)
)

// RowGroup is DuckDB's row group size. A transaction that appends whole
// row groups has them written straight to the database file, compressed,
// at commit; a smaller one goes through the WAL and is compressed again
// by the next checkpoint, which about doubles DuckDB's CPU a row
// (docs/benchmarks.md, store section).
const RowGroup = 122880

// BatchSize is the store.Writer's batch when the configuration does not
// set one: a row group.
func (s *Store) BatchSize() int { return RowGroup }

// FlushInterval is how long the store.Writer lets a partial batch wait
// when the configuration does not say: 5 s, in which a row group fills
// at 25 000 records/s. A partial one is logged in the WAL, and the
// checkpoint that compresses it again stops the writer 17–23 s a
// gigabyte of WAL (2.6 M records): every minute at 40 000 records/s in
// batches of one second (docs/benchmarks.md).
func (s *Store) FlushInterval() time.Duration { return 5 * time.Second }

// Options tune DuckDB; the zero value is the default.
type Options struct {
	// Threads is DuckDB's threads, the caller's included; 0 is all cores
	// but one, at least one. A query running on one thread runs on its
	// caller's alone: with more, the caller spins on DuckDB's task queue
	// while the workers finish, which cost ingest 8–45 % more CPU a row
	// and slowed reads under ingest about twice as much on two cores
	// (docs/benchmarks.md, store section).
	Threads int
	// MemoryLimit caps DuckDB's memory ("4GB", "512MiB"): beyond it,
	// DuckDB evicts its cache and spills large sorts and joins to disk.
	// Empty is DuckDB's default, 80 % of RAM, which it fills as cache
	// (20.6 GB while upgrading a 10 M-session store on a 24 GiB machine).
	MemoryLimit string
}

// DefaultThreads is DuckDB's threads when Options do not say: the Go
// side (decoding, detection, the API) keeps one core.
func DefaultThreads() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// Open opens (creating when missing) the store in dir with the default
// options and brings its schema up to date; an empty dir is a store in
// memory, for tests.
func Open(ctx context.Context, dir string) (*Store, error) {
	return OpenWith(ctx, dir, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dir string, opt Options) (*Store, error) {
	path := ""
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store %s: %w", dir, err)
		}
		path = filepath.Join(dir, File)
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = DefaultThreads()
	}
	dsn := url.Values{"threads": {strconv.Itoa(threads)}}
	if opt.MemoryLimit != "" {
		dsn.Set("memory_limit", opt.MemoryLimit)
	}
	conn, err := duckdb.NewConnector(path+"?"+dsn.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	db := sql.OpenDB(conn)
	s := &Store{strings: &dictionary{}, late: map[int64]bool{}}
	s.DB = &sqlstore.DB{SQL: db, D: dialect{s.strings}, Rolled: s.rolledUp}
	err = s.migrate(ctx)
	if err == nil && len(migrations) > stringsTable { // shorter in tests of old schemas
		err = s.strings.load(ctx, db)
	}
	if err == nil && len(migrations) > rollupState {
		err = s.loadRolled(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s.writers = make(chan *sql.Conn, stagers)
	for i := range stagers {
		c, err := db.Conn(ctx)
		if err == nil && i == 0 {
			err = s.batches.register(c) // for the database, not only c
			if err == nil {
				err = s.strings.register(c)
			}
		}
		if err == nil {
			for _, q := range []string{
				"SET checkpoint_threshold = '1GB'", // fewer, larger checkpoints while ingesting
				"CREATE TEMP TABLE stage_metrics AS SELECT * FROM device_metrics LIMIT 0",
			} {
				if _, err = c.ExecContext(ctx, q); err != nil {
					break
				}
			}
			s.writers <- c
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	}
	return s, nil
}

// migrate applies the migrations not yet applied, each in a transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.SQL.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"); err != nil {
		return err
	}
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := len(migrations) - 1
	if have > latest {
		return fmt.Errorf("schema version %d is newer than this osprey knows (%d): upgrade osprey", have, latest)
	}
	for v := have + 1; v <= latest; v++ {
		tx, err := s.SQL.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES ("+strconv.Itoa(v)+")"); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

// SchemaVersion is the latest migration applied (0 for a new store).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.SQL.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Close closes the database; writes are synchronous, nothing is pending.
func (s *Store) Close() error {
	for len(s.writers) > 0 {
		(<-s.writers).Close()
	}
	return s.SQL.Close()
}

// writer takes a write connection until release.
func (s *Store) writer(ctx context.Context) (c *sql.Conn, release func(), err error) {
	select {
	case c = <-s.writers:
		return c, func() { s.writers <- c }, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// appender runs f with an appender on a staging table of c.
func appender(c *sql.Conn, table string, f func(*duckdb.Appender) error) error {
	return c.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return err
		}
		if err := f(a); err != nil {
			a.Close()
			return err
		}
		return a.Close()
	})
}

// dialect is DuckDB's SQL, with the strings of the coded columns.
type dialect struct{ strings *dictionary }

func (dialect) Param(int) string         { return "?" }
func (dialect) Unnest(col string) string { return "unnest(" + col + ")" }
func (dialect) Floor(e string, step int64) string {
	n := strconv.FormatInt(step, 10)
	return "((" + e + ") // " + n + " * " + n + ")"
}
func (dialect) Last(v, t string) string { return "arg_max(" + v + ", " + t + ")" }

// Text compares a string column with a value, ArrayHas looks for it in
// a list column; a coded column holds the value's code.
func (d dialect) Text(col, v string, bind func(any) string) string {
	return d.withValue(col, v, bind, func(p string) string { return col + " = " + p })
}

func (d dialect) ArrayHas(col, v string, bind func(any) string) string {
	return d.withValue(col, v, bind, func(p string) string { return "list_contains(" + col + ", " + p + ")" })
}

// withValue is cond of v bound as col holds it: a string not in the
// dictionary is in no session.
func (d dialect) withValue(col, v string, bind func(any) string, cond func(string) string) string {
	if !coded[col] {
		return cond(bind(v))
	}
	if c, ok := d.strings.code(v); ok {
		return cond(bind(c))
	}
	return "(1 = 0)"
}

// Decode is the string of a coded column's value, for the few rows of a
// grouped result.
func (dialect) Decode(col, e string) string {
	if !coded[col] {
		return e
	}
	return "osprey_text(" + e + ")"
}

func (dialect) Signed(e string) string { return "CAST(" + e + " AS BIGINT)" }

// Addr is an address's two halves as one 128-bit integer (see AddrIn).
func (dialect) Addr(col string) string {
	return "((" + col + "_hi::UHUGEINT << 64) | " + col + "_lo)"
}

// AddrIn compares the halves an address is stored as: two UBIGINT
// columns, which DuckDB compresses, prunes by zone map and compares
// fast (a BLOB compares as a string, and its UHUGEINT is bit-packed
// slowly: a day's scan for one address took 4.6 s, against 46 ms as
// halves and 100–300 ms as a BLOB). A prefix of /64 or longer fixes the
// high half; a shorter one spans whole low halves.
func (dialect) AddrIn(col string, first, last [16]byte, bind func(any) string) string {
	hi0, lo0 := halves(first)
	hi1, lo1 := halves(last)
	hi, lo := col+"_hi", col+"_lo"
	// database/sql refuses a uint64 over MaxInt64 unless typed.
	v := func(n uint64) string { return bind(duckdb.Typed(n, duckdb.TYPE_UBIGINT)) }
	switch {
	case hi0 == hi1 && lo0 == lo1:
		return hi + " = " + v(hi0) + " AND " + lo + " = " + v(lo0)
	case hi0 == hi1:
		return hi + " = " + v(hi0) + " AND " + lo + " BETWEEN " + v(lo0) + " AND " + v(lo1)
	}
	return hi + " BETWEEN " + v(hi0) + " AND " + v(hi1) // a prefix shorter than /64: whole low halves
}

// halves is a 16-byte address as the two integers it is stored as.
func halves(a [16]byte) (hi, lo uint64) {
	return binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
}

func (dialect) Where() string          { return "WHERE" }
func (dialect) SplitOr() bool          { return true }
func (dialect) PageByFilter() bool     { return true }
func (dialect) Latest(t string) string { return t }

func (d dialect) ListScanner(dst any) any     { return listScanner{dst, d.strings} }
func (d dialect) TextScanner(dst *string) any { return textScanner{dst, d.strings} }

// textScanner reads a string column, coded or not.
type textScanner struct {
	dst     *string
	strings *dictionary
}

func (t textScanner) Scan(src any) (err error) {
	*t.dst, err = t.strings.text(src)
	return err
}

// listScanner converts DuckDB's LIST values ([]any) to typed slices,
// codes to their strings.
type listScanner struct {
	dst     any
	strings *dictionary
}

func (l listScanner) Scan(src any) error {
	items, _ := src.([]any)
	switch d := l.dst.(type) {
	case *[]string:
		*d = nil
		for _, it := range items {
			s, err := l.strings.text(it)
			if err != nil {
				return err
			}
			*d = append(*d, s)
		}
	case *[]uint16:
		*d = nil
		for _, it := range items {
			n, ok := it.(uint16)
			if !ok {
				return fmt.Errorf("list element %T, want uint16", it)
			}
			*d = append(*d, n)
		}
	default:
		return fmt.Errorf("list scanner: unsupported %T", l.dst)
	}
	return nil
}
