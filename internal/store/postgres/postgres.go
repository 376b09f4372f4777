// Package postgres is the row-store baseline: the store on PostgreSQL 15,
// the "legacy database" the columnar backends are measured against (make
// bench). It passes the same conformance suite.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// Store is a PostgreSQL store.
type Store struct {
	*sqlstore.DB
}

var _ store.Store = (*Store)(nil)

// Open connects (a pgx URL) and brings the schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{DB: &sqlstore.DB{SQL: db, D: dialect{types: pgtype.NewMap()}}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

var _ = stdlib.GetDefaultDriver // registers "pgx" with database/sql

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.SQL.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
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
		err := tx(ctx, s.SQL, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

// SchemaVersion is the latest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.SQL.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.SQL.Close() }

func tx(ctx context.Context, db *sql.DB, f func(*sql.Tx) error) error {
	t, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(t); err != nil {
		t.Rollback()
		return err
	}
	return t.Commit()
}

// dialect is PostgreSQL's SQL.
type dialect struct {
	sqlstore.PlainText
	types *pgtype.Map
}

func (dialect) Param(n int) string { return "$" + strconv.Itoa(n) }
func (dialect) ArrayHas(col, v string, bind func(any) string) string {
	return "(" + bind(v) + " = ANY(" + col + "))"
}
func (dialect) Unnest(col string) string { return "unnest(" + col + ")" }
func (dialect) Addr(col string) string   { return col }
func (dialect) Signed(e string) string   { return e } // its integers are signed
func (dialect) SplitOr() bool            { return false }
func (dialect) AddrIn(col string, first, last [16]byte, bind func(any) string) string {
	return filter.AddrBetween(col, first, last, func(a [16]byte) string { return bind(a[:]) })
}
func (dialect) Floor(e string, step int64) string {
	n := strconv.FormatInt(step, 10)
	return "((" + e + ") / " + n + " * " + n + ")"
}
func (dialect) Last(v, t string) string { return "(array_agg(" + v + " ORDER BY " + t + " DESC))[1]" }

func (dialect) Where() string          { return "WHERE" }
func (dialect) PageByFilter() bool     { return false }
func (dialect) Latest(t string) string { return t }

// ListScanner scans arrays with pgx's types; empty lists stay nil, as the
// Session contract omits them.
func (d dialect) ListScanner(dst any) any {
	return scanFunc(func(src any) error {
		switch p := dst.(type) {
		case *[]string:
			var v []string
			if err := d.types.SQLScanner(&v).Scan(src); err != nil {
				return err
			}
			*p = nil
			if len(v) > 0 {
				*p = v
			}
		case *[]uint16:
			var v []int32
			if err := d.types.SQLScanner(&v).Scan(src); err != nil {
				return err
			}
			*p = nil
			for _, n := range v {
				*p = append(*p, uint16(n))
			}
		default:
			return fmt.Errorf("list scanner: unsupported %T", dst)
		}
		return nil
	})
}

type scanFunc func(any) error

func (f scanFunc) Scan(src any) error { return f(src) }
