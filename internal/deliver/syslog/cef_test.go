package syslog

import (
	"errors"
	"strings"
)

// cefEvent is a CEF message read back: the seven header fields and the
// extension's pairs.
type cefEvent struct {
	Header [7]string
	Ext    map[string]string
}

// parseCEF reads a CEF message as a SIEM does: seven '|'-separated
// header fields where "\|" and "\\" are escapes, then space-separated
// key=value pairs where a value runs to the space before the next key
// and "\=", "\\", "\n" and "\r" are escapes.
func parseCEF(s string) (cefEvent, error) {
	var ev cefEvent
	rest, ok := strings.CutPrefix(s, "CEF:")
	if !ok {
		return ev, errors.New("no CEF: prefix")
	}
	for i := range ev.Header {
		var b strings.Builder
		j := 0
		for ; j < len(rest) && rest[j] != '|'; j++ {
			if rest[j] == '\\' && j+1 < len(rest) && (rest[j+1] == '|' || rest[j+1] == '\\') {
				j++
			}
			b.WriteByte(rest[j])
		}
		if j == len(rest) {
			return ev, errors.New("fewer than 7 header fields")
		}
		ev.Header[i], rest = b.String(), rest[j+1:]
	}
	ev.Ext = map[string]string{}
	// The positions of unescaped '='.
	var eqs []int
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			j++
		case '=':
			eqs = append(eqs, j)
		}
	}
	keyStart := func(eq int) int { return strings.LastIndexByte(rest[:eq], ' ') + 1 }
	for n, eq := range eqs {
		k0 := keyStart(eq)
		if n > 0 && k0 <= eqs[n-1] || k0 == eq {
			return ev, errors.New("a key holds a space or is empty")
		}
		end := len(rest)
		if n+1 < len(eqs) {
			end = keyStart(eqs[n+1]) - 1
			if end < eq+1 {
				return ev, errors.New("no space between pairs")
			}
		}
		key := rest[k0:eq]
		if _, dup := ev.Ext[key]; dup {
			return ev, errors.New("key " + key + " twice")
		}
		ev.Ext[key] = unescapeCEFValue(rest[eq+1 : end])
	}
	if len(eqs) == 0 && rest != "" {
		return ev, errors.New("extension without a pair")
	}
	return ev, nil
}

func unescapeCEFValue(v string) string {
	var b strings.Builder
	for j := 0; j < len(v); j++ {
		c := v[j]
		if c == '\\' && j+1 < len(v) {
			j++
			switch v[j] {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			default:
				c = v[j]
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
