package netmap

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// parseCSV reads a header row naming the columns, then one range a row.
func parseCSV(path string, data []byte) ([]Range, []error, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		switch _, dup := col[name]; {
		case name != "cidr" && name != "segment" && name != "tags":
			return nil, nil, fmt.Errorf("%s: header: unknown column %q (want cidr, segment, tags)", path, name)
		case dup:
			return nil, nil, fmt.Errorf("%s: header: column %q given twice", path, name)
		}
		col[name] = i
	}
	if _, ok := col["cidr"]; !ok {
		return nil, nil, fmt.Errorf("%s: header: no cidr column", path)
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}

	var ranges []Range
	var rejected []error
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rejected = append(rejected, &EntryError{Path: path, Line: pe.Line, Err: pe.Err})
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) > len(header) {
			rejected = append(rejected, &EntryError{Path: path, Line: line,
				Err: fmt.Errorf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		e := entry{
			CIDR:    field(rec, "cidr"),
			Segment: field(rec, "segment"),
			Tags: strings.FieldsFunc(field(rec, "tags"), func(r rune) bool {
				return r == ';' || unicode.IsSpace(r)
			}),
		}
		rg, ferr := e.toRange()
		if ferr != nil {
			rejected = append(rejected, &EntryError{Path: path, Line: line, Field: ferr.field, Err: ferr.err})
			continue
		}
		ranges = append(ranges, rg)
	}
	return ranges, rejected, nil
}
