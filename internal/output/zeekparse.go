package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ZeekConnRow is one row of a Zeek log, by field name.
type ZeekConnRow struct {
	Line   int
	fields []string
	values []string
}

// Get returns the value of a field ("" when the log has no such field).
func (r ZeekConnRow) Get(field string) string {
	for i, f := range r.fields {
		if f == field {
			return r.values[i]
		}
	}
	return ""
}

// ParseZeekConn reads a Zeek TSV log such as conn.log. Errors name the
// line and, for a row of the wrong width, the count of fields.
func ParseZeekConn(r io.Reader) ([]ZeekConnRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var fields []string
	var rows []ZeekConnRow
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "#") {
			if rest, ok := strings.CutPrefix(text, "#fields\t"); ok {
				fields = strings.Split(rest, "\t")
			}
			continue
		}
		if fields == nil {
			return nil, fmt.Errorf("line %d: data before the #fields header", line)
		}
		values := strings.Split(text, "\t")
		if len(values) != len(fields) {
			return nil, fmt.Errorf("line %d: %d fields, the #fields header has %d", line, len(values), len(fields))
		}
		rows = append(rows, ZeekConnRow{Line: line, fields: fields, values: values})
	}
	return rows, sc.Err()
}
