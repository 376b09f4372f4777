package flowlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// readParquet reads AWS VPC Flow Logs delivered as Parquet: one column
// per field, named as in text with underscores for hyphens (account_id).
// Each value is written back as the text token it stands for, so Parquet
// rows go through the same parser and checks as text lines; a null is
// "-". Rows are numbered from 1 in BadInput.Line; Parquet has no offsets.
func (r *Reader) readParquet(ctx context.Context, source string, ra io.ReaderAt, size int64) (st Stats, err error) {
	r.begin(source, FormatVPCParquet)
	defer func() {
		// A corrupt file can make the decoder panic; that is bad input,
		// not a reason to stop the collector.
		if p := recover(); p != nil {
			st, err = r.end(ctx, fmt.Errorf("corrupt parquet: %v", p))
		}
	}()
	f, err := parquet.OpenFile(ra, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return Stats{}, fmt.Errorf("%s: parquet: %w", source, err)
	}
	cols := f.Schema().Columns()
	names := make([]string, len(cols))
	for i, path := range cols {
		names[i] = strings.Join(path, ".")
	}
	format, err := parseHeader(names)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: parquet schema: %w", source, err)
	}
	p := parquetRows{rows: make([]parquet.Row, 256), tok: make([][]byte, len(format.kinds))}
	for _, rg := range f.RowGroups() {
		if err := r.parquetGroup(ctx, rg.Rows(), format, &p); err != nil {
			return r.end(ctx, err)
		}
	}
	return r.end(ctx, nil)
}

// parquetRows holds the buffers of one file's rows.
type parquetRows struct {
	rows  []parquet.Row
	tok   [][]byte
	text  []byte
	rowNo int64
}

func (r *Reader) parquetGroup(ctx context.Context, rows parquet.Rows, format *vpcFormat, p *parquetRows) error {
	defer rows.Close()
	tok := p.tok
	for {
		n, err := rows.ReadRows(p.rows)
		for _, row := range p.rows[:n] {
			p.rowNo++
			r.stats.Lines++
			text := p.text[:0]
			for i := range tok {
				tok[i] = dash
			}
			for _, v := range row {
				start := len(text)
				text = appendValue(text, v)
				if c := v.Column(); c >= 0 && c < len(tok) && !v.IsNull() {
					tok[c] = text[start:len(text):len(text)]
				}
			}
			p.text = text
			s, h, ferr := r.vpcRecord(format, tok)
			if ferr != nil {
				r.reject(p.rowNo, -1, ferr.field, ferr.err, bytes.Join(tok, []byte{' '}))
				continue
			}
			if err := r.commit(ctx, s, h); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var dash = []byte("-")

// appendValue writes a Parquet value as the text AWS would have written.
// The appended bytes may move text to a new array; the tokens already cut
// keep pointing at the old one, which stays valid.
func appendValue(text []byte, v parquet.Value) []byte {
	if v.IsNull() {
		return text
	}
	switch v.Kind() {
	case parquet.Int32:
		return strconv.AppendInt(text, int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.AppendInt(text, v.Int64(), 10)
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return append(text, v.ByteArray()...)
	case parquet.Boolean:
		return strconv.AppendBool(text, v.Boolean())
	default:
		return append(text, v.String()...)
	}
}
