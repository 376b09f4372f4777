// Package clickhouse is the store for more than one machine: ClickHouse
// over its native protocol (clickhouse-go v2), one server or a cluster of
// shards behind Distributed tables.
package clickhouse

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// Options say where the store is.
type Options struct {
	Addr     []string // every node; with Cluster, every shard
	Database string   // default "osprey"
	Username string   // default "default"
	Password string
	// Cluster, when set, names a cluster of the servers' remote_servers:
	// data lives in "_local" tables on every shard and the store reads and
	// writes Distributed tables over them.
	Cluster string
}

// Store is a ClickHouse store: shared queries over database/sql, inserts
// and id lookups over a native connection (batches, external tables).
type Store struct {
	*sqlstore.DB
	native driver.Conn
	opts   Options
}

var _ store.Store = (*Store)(nil)

// Open connects, creates the database and brings every node's schema up
// to date.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Database == "" {
		o.Database = "osprey"
	}
	if o.Username == "" {
		o.Username = "default"
	}
	if len(o.Addr) == 0 {
		return nil, fmt.Errorf("clickhouse: no address")
	}
	for _, addr := range o.Addr {
		if err := migrate(ctx, o, addr); err != nil {
			return nil, fmt.Errorf("clickhouse %s: %w", addr, err)
		}
	}
	opts := options(o, o.Addr[0], o.Database)
	// Inserts into Distributed tables reach the shards before they return,
	// so a batch is stored (or fails) as a whole from the caller's view.
	opts.Settings = ch.Settings{"insert_distributed_sync": 1}
	native, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return &Store{DB: &sqlstore.DB{SQL: ch.OpenDB(opts), D: dialect{}}, native: native, opts: o}, nil
}

func options(o Options, addr, db string) *ch.Options {
	return &ch.Options{Addr: []string{addr}, Auth: ch.Auth{Database: db, Username: o.Username, Password: o.Password}}
}

// migrate applies one node's pending migrations, in order.
func migrate(ctx context.Context, o Options, addr string) error {
	conn, err := ch.Open(options(o, addr, "default"))
	if err != nil {
		return err
	}
	defer conn.Close()
	q := func(s string) string {
		local := ""
		if o.Cluster != "" {
			local = "_local"
		}
		return strings.NewReplacer("{db}", o.Database, "{local}", local, "{cluster}", o.Cluster).Replace(s)
	}
	for _, s := range []string{
		"CREATE DATABASE IF NOT EXISTS {db}",
		"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, applied_at DateTime DEFAULT now()) ENGINE = TinyLog",
	} {
		if err := conn.Exec(ctx, q(s)); err != nil {
			return err
		}
	}
	have, err := version(ctx, conn, o.Database)
	if err != nil {
		return err
	}
	latest := len(migrations) - 1
	if have > latest {
		return fmt.Errorf("schema version %d is newer than this osprey knows (%d): upgrade osprey", have, latest)
	}
	for v := have + 1; v <= latest; v++ {
		stmts := migrations[v].stmts
		if o.Cluster != "" {
			stmts = append(slices.Clip(stmts), migrations[v].cluster...)
		}
		for _, s := range stmts {
			if err := conn.Exec(ctx, q(s)); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		// A native batch: an INSERT … VALUES through Exec waits forever
		// on 18.16 for data blocks the driver does not send.
		b, err := conn.PrepareBatch(ctx, q("INSERT INTO {db}.schema_migrations (version)"))
		if err == nil {
			if err = b.Append(uint32(v)); err == nil {
				err = b.Send()
			}
		}
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

func version(ctx context.Context, conn driver.Conn, db string) (int, error) {
	var v uint32
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM "+db+".schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v), nil
}

// SchemaVersion is the latest migration applied on the first node.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return version(ctx, s.native, s.opts.Database)
}

// Close closes both connections.
func (s *Store) Close() error {
	s.SQL.Close()
	return s.native.Close()
}

// dialect is ClickHouse's SQL.
type dialect struct{ sqlstore.PlainText }

func (dialect) Param(int) string { return "?" }

// AddrIn binds addresses as hex: the driver quotes strings, and unhex
// gives the 16 raw bytes back.
func (dialect) AddrIn(col string, first, last [16]byte, bind func(any) string) string {
	return filter.AddrBetween(col, first, last, func(a [16]byte) string {
		return "toFixedString(unhex(" + bind(hex.EncodeToString(a[:])) + "), 16)"
	})
}
func (dialect) ArrayHas(col, v string, bind func(any) string) string {
	return "has(" + col + ", " + bind(v) + ")"
}
func (dialect) Unnest(col string) string { return "arrayJoin(" + col + ")" }
func (dialect) Addr(col string) string   { return col }
func (dialect) Signed(e string) string   { return "toInt64(" + e + ")" }
func (dialect) SplitOr() bool            { return false }
func (dialect) Floor(e string, step int64) string {
	n := strconv.FormatInt(step, 10)
	return "(intDiv(" + e + ", " + n + ") * " + n + ")"
}
func (dialect) Last(v, t string) string { return "argMax(" + v + ", " + t + ")" }

// Where is PREWHERE: ClickHouse reads the condition's columns first and
// the other forty-odd only for the rows that match.
func (dialect) Where() string           { return "PREWHERE" }
func (dialect) PageByFilter() bool      { return false }
func (dialect) Latest(t string) string  { return t + " FINAL" } // ReplacingMergeTree
func (dialect) ListScanner(dst any) any { return listScanner{dst} }

// listScanner keeps empty arrays nil, as the Session contract omits them.
type listScanner struct{ dst any }

func (l listScanner) Scan(src any) error {
	switch d := l.dst.(type) {
	case *[]string:
		v, _ := src.([]string)
		*d = nil
		if len(v) > 0 {
			*d = v
		}
	case *[]uint16:
		v, _ := src.([]uint16)
		*d = nil
		if len(v) > 0 {
			*d = v
		}
	default:
		return fmt.Errorf("list scanner: unsupported %T", l.dst)
	}
	return nil
}

var _ sql.Scanner = listScanner{}
