package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// A source is rows in Go memory that DuckDB reads through the table
// function osprey_batch(id): DuckDB asks for chunks of 2 048 rows and
// fill writes them column by column with typed setters, so that no value
// is boxed and, for ENUM columns, none crosses into C (the Appender takes
// one boxed value at a time and one C call per string: ~45 % of a batch's
// time went there).
type source interface {
	columns() []duckdb.ColumnInfo
	len() int
	// fill writes rows [from, to) into the chunk's rows 0 … to-from-1.
	fill(c duckdb.DataChunk, from, to int) error
}

// batches are the sources being read, by id.
type batches struct {
	mu   sync.Mutex
	next int64
	m    map[int64]source
}

// add makes src readable as osprey_batch(id) until done is called.
func (b *batches) add(src source) (id int64, done func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id = b.next
	b.m[id] = src
	return id, func() {
		b.mu.Lock()
		delete(b.m, id)
		b.mu.Unlock()
	}
}

// register defines osprey_batch on the database of c.
func (b *batches) register(c *sql.Conn) error {
	b.m = map[int64]source{}
	bigint, err := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	if err != nil {
		return err
	}
	return duckdb.RegisterTableUDF(c, "osprey_batch", duckdb.ParallelChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.ParallelChunkTableSource, error) {
			id, _ := args[0].(int64)
			b.mu.Lock()
			src, ok := b.m[id]
			b.mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("osprey_batch(%d): no such batch", id)
			}
			return &scan{src: src}, nil
		},
	})
}

// scan is one read of a source. DuckDB may ask for chunks from several
// threads at once: each takes the next rows in turn, so fill only has to
// be safe for disjoint rows.
type scan struct {
	src  source
	next atomic.Int64
}

func (s *scan) ColumnInfos() []duckdb.ColumnInfo { return s.src.columns() }
func (s *scan) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(s.src.len()), Exact: true}
}
func (s *scan) Init() duckdb.ParallelTableSourceInfo { return duckdb.ParallelTableSourceInfo{} }
func (s *scan) NewLocalState() any                   { return new(struct{}) }

func (s *scan) FillChunk(_ any, c duckdb.DataChunk) error {
	size := int64(duckdb.GetDataChunkCapacity())
	from := s.next.Add(size) - size
	to := min(from+size, int64(s.src.len()))
	if from >= to {
		return c.SetSize(0)
	}
	if err := s.src.fill(c, int(from), int(to)); err != nil {
		return err
	}
	return c.SetSize(int(to - from))
}

// insert runs query, an INSERT … SELECT … FROM osprey_batch(%d), over
// src. (The id is written into the query: a table function's argument
// must be known when the query is bound.)
func (b *batches) insert(ctx context.Context, tx *sql.Tx, query string, src source) error {
	id, done := b.add(src)
	defer done()
	_, err := tx.ExecContext(ctx, fmt.Sprintf(query, id))
	return err
}
