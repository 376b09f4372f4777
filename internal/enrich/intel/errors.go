package intel

import (
	"fmt"
	"strconv"
)

// keptErrors is how many rejected records a feed keeps the error of; the
// rest are only counted, so a broken feed of a million lines stays small.
const keptErrors = 10

// recordError says which record of which file was rejected and why.
type recordError struct {
	path  string
	where string // "12" (line) or "object 3 (indicator--…)"
	field string // "indicator", "column 2 (ip)", "pattern", "valid_until"
	value string
	err   error
}

func (e *recordError) Error() string {
	sep := ":"
	if _, err := strconv.Atoi(e.where); err != nil {
		sep = ": "
	}
	if e.value == "" {
		return fmt.Sprintf("%s%s%s: %s: %v", e.path, sep, e.where, e.field, e.err)
	}
	return fmt.Sprintf("%s%s%s: %s %q: %v", e.path, sep, e.where, e.field, e.value, e.err)
}

func (e *recordError) Unwrap() error { return e.err }

func lineAt(n int) string { return strconv.Itoa(n) }
