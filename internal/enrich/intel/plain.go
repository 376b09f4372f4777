package intel

import (
	"bytes"
	"errors"
)

// parsePlain reads one indicator a line; '#' starts a comment.
func parsePlain(b *builder, data []byte) {
	data = bytes.TrimPrefix(data, utf8BOM)
	n := 0
	for line := range bytes.Lines(data) {
		n++
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		s := string(line)
		if bytes.ContainsAny(line, " \t") {
			b.reject(&recordError{path: b.path, where: lineAt(n), field: "indicator", value: s,
				err: errors.New("more than one word (one indicator a line)")})
			continue
		}
		ind, err := parseIndicator(s)
		if err != nil {
			b.reject(&recordError{path: b.path, where: lineAt(n), field: "indicator", value: s, err: err})
			continue
		}
		b.add(s, ind)
	}
}
