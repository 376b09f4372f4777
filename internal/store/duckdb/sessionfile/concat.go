package sessionfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"

	"github.com/parquet-go/parquet-go/format"
)

// Concat writes to dst one file holding the row groups of srcs, in
// order, their pages copied byte for byte: only the footer is new, with
// each row group's offsets moved and its statistics kept, so that DuckDB
// still skips row groups by end_us. The sources must share one schema.
// dst is replaced atomically, as by Write.
func Concat(dst string, srcs []string) (Info, error) {
	if len(srcs) == 0 {
		return Info{}, ErrEmpty
	}
	var j joined
	var info Info
	size, err := writeAtomic(dst, func(out *bufio.Writer) error {
		if _, err := out.WriteString(magic); err != nil {
			return err
		}
		j.off = int64(len(magic))
		for _, src := range srcs {
			if err := j.append(out, src); err != nil {
				return fmt.Errorf("%s: %w", src, err)
			}
		}
		var err error
		if info.MinEndUs, info.MaxEndUs, err = endRange(j.md); err != nil {
			return err
		}
		return writeFooter(out, j.md)
	})
	if err != nil {
		return Info{}, fmt.Errorf("concat to %s: %w", dst, err)
	}
	info.Rows, info.Bytes = int(j.md.NumRows), size
	return info, nil
}

// joined is the file Concat is writing: its metadata so far (the first
// source's, with the row groups appended) and its length.
type joined struct {
	md  *format.FileMetaData
	off int64
}

// append copies the pages of src to out and adds its row groups.
func (j *joined) append(out io.Writer, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	m, footer, err := readFooter(f, st.Size())
	if err != nil {
		return err
	}
	if j.md == nil {
		first := *m
		first.RowGroups, first.NumRows = nil, 0
		j.md = &first
	} else if !reflect.DeepEqual(m.Schema, j.md.Schema) {
		return errors.New("schema differs from the first source's")
	}
	n := footer - int64(len(magic)) // the pages, between the magic and the footer
	if _, err := io.Copy(out, io.NewSectionReader(f, int64(len(magic)), n)); err != nil {
		return err
	}
	for _, rg := range m.RowGroups {
		moveRowGroup(&rg, j.off-int64(len(magic)))
		rg.Ordinal = int16(len(j.md.RowGroups))
		j.md.RowGroups = append(j.md.RowGroups, rg)
	}
	j.md.NumRows += m.NumRows
	j.off += n
	return nil
}

// moveRowGroup moves every offset of rg by shift; an offset of 0 is
// one that is not set.
func moveRowGroup(rg *format.RowGroup, shift int64) {
	move := func(at *int64) {
		if *at > 0 {
			*at += shift
		}
	}
	move(&rg.FileOffset)
	for i := range rg.Columns {
		c := &rg.Columns[i]
		move(&c.FileOffset)
		move(&c.OffsetIndexOffset)
		move(&c.ColumnIndexOffset)
		move(&c.MetaData.DataPageOffset)
		move(&c.MetaData.IndexPageOffset)
		move(&c.MetaData.DictionaryPageOffset)
		move(&c.MetaData.BloomFilterOffset)
	}
}

// endRange is the range of end_us over md's row groups, from their
// statistics.
func endRange(md *format.FileMetaData) (lo, hi int64, err error) {
	for i, rg := range md.RowGroups {
		col := slices.IndexFunc(rg.Columns, func(c format.ColumnChunk) bool {
			return slices.Equal(c.MetaData.PathInSchema, []string{"end_us"})
		})
		if col < 0 || rg.Columns[col].MetaData.Type != format.Int64 {
			return 0, 0, errors.New("no INT64 end_us column")
		}
		s := rg.Columns[col].MetaData.Statistics
		if len(s.MinValue) != 8 || len(s.MaxValue) != 8 {
			return 0, 0, fmt.Errorf("row group %d: no end_us statistics", i)
		}
		rlo, rhi := int64(binary.LittleEndian.Uint64(s.MinValue)), int64(binary.LittleEndian.Uint64(s.MaxValue))
		if i == 0 {
			lo, hi = rlo, rhi
		}
		lo, hi = min(lo, rlo), max(hi, rhi)
	}
	return lo, hi, nil
}
