package netmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseJSON reads the list one element at a time so that a bad entry is
// set aside with its line while the others are kept.
func parseJSON(path string, data []byte) ([]Range, []error, error) {
	lines := lineCounter{data: data}
	fail := func(off int64, err error) ([]Range, []error, error) {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		return nil, nil, fmt.Errorf("%s:%d: %w", path, lines.at(int(off)), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return fail(dec.InputOffset(), err)
	} else if tok != json.Delim('[') {
		return fail(0, errors.New("want a list of ranges"))
	}
	var ranges []Range
	var rejected []error
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fail(dec.InputOffset(), err)
		}
		line := lines.at(int(dec.InputOffset()) - len(raw))
		var e entry
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			field := ""
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				field = te.Field
			}
			rejected = append(rejected, &EntryError{Path: path, Line: line, Field: field, Err: err})
			continue
		}
		r, ferr := e.toRange()
		if ferr != nil {
			rejected = append(rejected, &EntryError{Path: path, Line: line, Field: ferr.field, Err: ferr.err})
			continue
		}
		ranges = append(ranges, r)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return fail(dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(dec.InputOffset(), errors.New("data after the list"))
	}
	return ranges, rejected, nil
}

// lineCounter turns increasing byte offsets into 1-based line numbers
// without rescanning the file from the start each time.
type lineCounter struct {
	data []byte
	off  int
	line int
}

func (c *lineCounter) at(off int) int {
	off = max(0, min(off, len(c.data)))
	if off < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return c.line + 1
}
