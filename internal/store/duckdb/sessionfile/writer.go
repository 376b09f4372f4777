package sessionfile

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
)

// DefaultRowGroupRows is DuckDB's own row group size: a batch up to it
// is one row group.
const DefaultRowGroupRows = 122880

// ErrEmpty is returned for a batch without records: a file of no rows
// is of no use and would have no end_us range.
var ErrEmpty = errors.New("sessionfile: no records")

// endColumn is end_us, by which rows are sorted.
var endColumn = int32(slices.Index(sqlstore.SessionColumns, "end_us"))

// fillBlock is the records given to each builder in turn: small enough
// for the CPU's cache.
const fillBlock = 256

var schemaElements, leaves = fileSchema(Columns)

// Writer writes session files, keeping its column buffers from one file
// to the next. It is not safe for concurrent use.
type Writer struct {
	// RowGroupRows bounds a row group; 0 is DefaultRowGroupRows.
	RowGroupRows int

	builders []builder
	order    []*store.Record
	pw       pageWriter
}

// Write writes recs to path as one Parquet file, sorted by end time
// (stably), replacing any file there atomically.
func (w *Writer) Write(path string, recs []*store.Record) (Info, error) {
	if len(recs) == 0 {
		return Info{}, ErrEmpty
	}
	if w.builders == nil {
		for _, c := range Columns {
			w.builders = append(w.builders, newBuilder(c))
		}
		w.pw.codec.Level = zstd.SpeedFastest
	}
	recs = w.sorted(recs)
	defer clear(w.order) // let the batch go
	info := Info{Rows: len(recs), MinEndUs: sqlstore.Micros(recs[0].End), MaxEndUs: sqlstore.Micros(recs[len(recs)-1].End)}
	per := w.RowGroupRows
	if per <= 0 {
		per = DefaultRowGroupRows
	}
	md := &format.FileMetaData{Version: 1, Schema: schemaElements, NumRows: int64(len(recs)), CreatedBy: "osprey sessionfile",
		ColumnOrders: make([]format.ColumnOrder, len(leaves))}
	for i := range md.ColumnOrders {
		md.ColumnOrders[i].Value = &format.TypeDefinedOrder{}
	}
	var err error
	info.Bytes, err = writeAtomic(path, func(out *bufio.Writer) error {
		w.pw.out, w.pw.off = out, 0
		if err := w.pw.write([]byte(magic)); err != nil {
			return err
		}
		for from := 0; from < len(recs); from += per {
			rg, err := w.rowGroup(recs[from:min(from+per, len(recs))])
			if err != nil {
				return err
			}
			rg.Ordinal = int16(len(md.RowGroups))
			md.RowGroups = append(md.RowGroups, rg)
		}
		return writeFooter(out, md)
	})
	w.pw.out = nil
	if err != nil {
		return Info{}, fmt.Errorf("write %s: %w", path, err)
	}
	return info, nil
}

// sorted is recs by end_us, stable; recs itself is left as it is.
func (w *Writer) sorted(recs []*store.Record) []*store.Record {
	byEnd := func(a, b *store.Record) int { return cmp.Compare(sqlstore.Micros(a.End), sqlstore.Micros(b.End)) }
	if slices.IsSortedFunc(recs, byEnd) {
		return recs
	}
	w.order = append(w.order[:0], recs...)
	slices.SortStableFunc(w.order, byEnd)
	return w.order
}

// rowGroup writes recs as one row group, each column a chunk.
func (w *Writer) rowGroup(recs []*store.Record) (format.RowGroup, error) {
	for _, b := range w.builders {
		b.reset()
	}
	for from := 0; from < len(recs); from += fillBlock {
		block := recs[from:min(from+fillBlock, len(recs))]
		for _, b := range w.builders {
			if err := b.add(block); err != nil {
				return format.RowGroup{}, err
			}
		}
	}
	codec := w.pw.codec.CompressionCodec()
	rg := format.RowGroup{NumRows: int64(len(recs)), FileOffset: w.pw.off,
		SortingColumns: []format.SortingColumn{{ColumnIdx: endColumn}}}
	for i, b := range w.builders {
		cc := format.ColumnChunk{FileOffset: w.pw.off,
			MetaData: format.ColumnMetaData{Type: leaves[i].physical, PathInSchema: leaves[i].path, Codec: codec}}
		w.pw.md = &cc.MetaData
		if err := b.write(&w.pw); err != nil {
			return format.RowGroup{}, fmt.Errorf("column %s: %w", Columns[i].Name, err)
		}
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		rg.Columns = append(rg.Columns, cc)
	}
	return rg, nil
}
