package intel

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parseCSV reads the indicator column of a CSV file; the other columns are
// ignored. column is a header name, a 1-based index, or "" to take the
// first column of the first data row that holds an indicator.
//
// A header is recognised, not declared: a first row whose indicator cell
// (or, with column "", every cell) does not parse is the header.
func parseCSV(b *builder, data []byte, column string) error {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true

	col, byName := -1, false // col is 0-based once known
	if column != "" {
		n, err := strconv.Atoi(column)
		switch {
		case err != nil:
			byName = true
		case n < 1:
			return fmt.Errorf("column %q: an index counts from 1", column)
		default:
			col = n - 1
		}
	}
	var header []string
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			b.reject(&recordError{path: b.path, where: lineAt(pe.Line), field: "record", err: pe.Err})
			continue
		}
		line, _ := r.FieldPos(0)
		if first && byName {
			header = cloneStrings(rec)
			if col = headerIndex(rec, column); col < 0 {
				return fmt.Errorf("line %d: no column named %q in the header", line, column)
			}
			continue
		}
		if col < 0 {
			col = firstIndicatorCell(rec)
			if col < 0 {
				if first {
					header = cloneStrings(rec)
				} else {
					b.reject(&recordError{path: b.path, where: lineAt(line), field: "record",
						err: errors.New("no cell holds an IP address, CIDR or domain name")})
				}
				continue
			}
		}
		if col >= len(rec) {
			b.reject(&recordError{path: b.path, where: lineAt(line), field: columnName(col, header),
				err: fmt.Errorf("missing (the record has %d columns)", len(rec))})
			continue
		}
		s := strings.TrimSpace(rec[col])
		ind, err := parseIndicator(s)
		if err != nil {
			if first {
				header = cloneStrings(rec)
				continue
			}
			line, _ = r.FieldPos(col)
			b.reject(&recordError{path: b.path, where: lineAt(line), field: columnName(col, header), value: s, err: err})
			continue
		}
		b.add(s, ind)
	}
	return nil
}

func headerIndex(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

func firstIndicatorCell(rec []string) int {
	for i, c := range rec {
		if _, err := parseIndicator(strings.TrimSpace(c)); err == nil {
			return i
		}
	}
	return -1
}

func columnName(col int, header []string) string {
	if col < len(header) {
		return fmt.Sprintf("column %d (%s)", col+1, strings.TrimSpace(header[col]))
	}
	return fmt.Sprintf("column %d", col+1)
}

// cloneStrings keeps the header: the reader reuses its record slice.
func cloneStrings(s []string) []string { return append([]string(nil), s...) }
