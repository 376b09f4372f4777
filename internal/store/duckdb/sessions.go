package duckdb

import (
	"strings"
	"sync"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/osprey-ndr/osprey/internal/store"
)

// insertSessions stores a sessionBatch. Lists arrive joined (a LIST
// value costs the Go side several times a string) and are split here in
// one vectorised pass; coded lists arrive as their codes joined by commas.
var insertSessions = "INSERT INTO sessions (" + strings.Join(columnNames, ", ") + ") SELECT * REPLACE (" +
	splitInts("orig_tags", "UINTEGER") + " AS orig_tags, " + splitInts("resp_tags", "UINTEGER") + " AS resp_tags, " +
	splitList("tunnel_parents") + " AS tunnel_parents, " + splitInts("intel", "UINTEGER") + " AS intel, " +
	splitInts("vlans", "USMALLINT") + " AS vlans) FROM osprey_batch(%d)"

// sep joins a list: the ASCII unit separator, which no tag, uid or name
// holds.
const sep = "\x1f"

func splitList(col string) string {
	return "CASE WHEN " + col + "::VARCHAR = '' THEN []::VARCHAR[] ELSE string_split(" + col + "::VARCHAR, chr(31)) END"
}

// splitInts splits numbers joined by commas.
func splitInts(col, typ string) string {
	return "CASE WHEN " + col + "::VARCHAR = '' THEN []::" + typ + "[] ELSE list_transform(string_split(" + col +
		"::VARCHAR, ','), lambda v: v::" + typ + ") END"
}

// enumMax is the most distinct values a string column may have in a
// batch to be handed over as an ENUM: DuckDB then gets small integers
// written in Go, where each VARCHAR value is a call into C. (The Go side
// rebuilds an ENUM's dictionary for every chunk, so large ones cost more
// than they save.)
const enumMax = 256

// sessionBatch is the records to store as a source for osprey_batch.
type sessionBatch struct {
	recs  []*store.Record
	strs  [][]string // by string column, by record
	codes [][]uint32 // the same, for a coded column
	dict  []map[string]uint32
	info  []duckdb.ColumnInfo
}

// A string column is read by text; the others are set by set. A
// distinct column (ids) is never an ENUM; a list is joined by sep.
type sessionColumn struct {
	name     string
	distinct bool
	list     bool
	text     func(r *store.Record) (string, error)
	typ      duckdb.Type
	set      func(c duckdb.DataChunk, col, row int, r *store.Record) error
}

func newSessionBatch(recs []*store.Record, strs *dictionary) (*sessionBatch, error) {
	b := &sessionBatch{recs: recs}
	for _, col := range sessionColumns {
		if col.text == nil {
			t, err := duckdb.NewTypeInfo(col.typ)
			if err != nil {
				return nil, err
			}
			b.info = append(b.info, duckdb.ColumnInfo{Name: col.name, T: t})
			continue
		}
		vals := columnPool.get(len(recs))
		for i, r := range recs {
			v, err := col.text(r)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		var codes []uint32
		var dict map[string]uint32
		switch {
		case coded[col.name] && col.list:
			strs.codeLists(vals)
			dict = enumOf(vals)
		case coded[col.name]:
			codes = strs.codesOf(vals)
		case !col.distinct:
			dict = enumOf(vals)
		}
		t, err := stringType(dict, codes != nil)
		if err != nil {
			return nil, err
		}
		b.strs = append(b.strs, vals)
		b.codes = append(b.codes, codes)
		b.dict = append(b.dict, dict)
		b.info = append(b.info, duckdb.ColumnInfo{Name: col.name, T: t})
	}
	return b, nil
}

// release hands the batch's string columns back for the next batch: at a
// row group a batch, they were 40 % of the write path's allocations.
func (b *sessionBatch) release() {
	if b == nil {
		return
	}
	for _, v := range b.strs {
		columnPool.put(v)
	}
	for _, c := range b.codes {
		if c != nil {
			codeColumns.put(c)
		}
	}
	b.strs, b.codes = nil, nil
}

// codeColumns keeps coded columns between batches. Unlike a sync.Pool
// it keeps them across garbage collections, which do not scan them (no
// pointers); a few batches' worth, 0.5 MB a column.
var codeColumns = freeList[uint32]{free: make(chan []uint32, 64)}

// freeList keeps buffers until the next get.
type freeList[T any] struct{ free chan []T }

// get is a buffer of n, its contents left as they were.
func (f freeList[T]) get(n int) []T {
	select {
	case b := <-f.free:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	return make([]T, n)
}

func (f freeList[T]) put(b []T) {
	select {
	case f.free <- b:
	default:
	}
}

// columnPool keeps string columns between batches.
var columnPool = stringsPool{p: sync.Pool{New: func() any { return new([]string) }}}

type stringsPool struct{ p sync.Pool }

func (p *stringsPool) get(n int) []string {
	v := *p.p.Get().(*[]string)
	if cap(v) < n {
		return make([]string, n)
	}
	return v[:n]
}

func (p *stringsPool) put(v []string) {
	clear(v) // let the strings go
	p.p.Put(&v)
}

// enumOf is the ENUM that vals can be handed over as, nil with more
// than enumMax values.
func enumOf(vals []string) map[string]uint32 {
	dict := map[string]uint32{}
	for i, v := range vals {
		if i > 0 && v == vals[i-1] {
			continue
		}
		if _, ok := dict[v]; !ok {
			dict[v] = uint32(len(dict))
			if len(dict) > enumMax {
				return nil
			}
		}
	}
	return dict
}

// stringType is an ENUM of dict's values, UINTEGER for codes, or
// VARCHAR.
func stringType(dict map[string]uint32, codes bool) (duckdb.TypeInfo, error) {
	if codes {
		return duckdb.NewTypeInfo(duckdb.TYPE_UINTEGER)
	}
	if dict == nil {
		return duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	}
	names := make([]string, len(dict))
	for v, i := range dict {
		names[i] = v
	}
	return duckdb.NewEnumInfo(names[0], names[1:]...)
}

// text is a string column's values, by record.
func (b *sessionBatch) text(name string) []string {
	s := 0
	for _, col := range sessionColumns {
		if col.name == name {
			return b.strs[s]
		}
		if col.text != nil {
			s++
		}
	}
	panic("no string column " + name)
}

func (b *sessionBatch) columns() []duckdb.ColumnInfo { return b.info }
func (b *sessionBatch) len() int                     { return len(b.recs) }

func (b *sessionBatch) fill(c duckdb.DataChunk, from, to int) error {
	s := 0
	for col, sc := range sessionColumns {
		if sc.text == nil {
			for i := from; i < to; i++ {
				if err := sc.set(c, col, i-from, b.recs[i]); err != nil {
					return err
				}
			}
			continue
		}
		if codes := b.codes[s]; codes != nil {
			for i, code := range codes[from:to] {
				if err := duckdb.SetChunkValue(c, col, i, code); err != nil {
					return err
				}
			}
			s++
			continue
		}
		for i, v := range b.strs[s][from:to] {
			var err error
			if b.dict[s] != nil {
				err = duckdb.SetChunkValue(c, col, i, v)
			} else {
				err = duckdb.SetChunkValue(c, col, i, bytesOf(v))
			}
			if err != nil {
				return err
			}
		}
		s++
	}
	return nil
}

// bytesOf is s without a copy: DuckDB copies it before we return.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
