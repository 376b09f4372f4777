package output

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Zeek's ASCII log value formats, written by hand rather than with fmt so
// a row is appended to one reused buffer without allocating.

const hexDigits = "0123456789abcdef"

// appendZeekTime writes t as Zeek's %.6f epoch seconds.
func appendZeekTime(b []byte, t time.Time) []byte {
	return appendMicros(b, t.Round(time.Microsecond).UnixMicro())
}

// appendZeekInterval writes d as Zeek's %.6f seconds.
func appendZeekInterval(b []byte, d time.Duration) []byte {
	return appendMicros(b, d.Round(time.Microsecond).Microseconds())
}

func appendMicros(b []byte, us int64) []byte {
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for d := int64(100000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

// appendZeekOptional writes s, or the unset marker "-" when s is empty:
// Zeek leaves these &optional fields unset rather than empty.
func appendZeekOptional(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendZeekString(b, s, false)
}

// appendZeekString writes s as Zeek's ASCII writer does: "(empty)" for
// an empty string, the first byte escaped when the value would read as a
// marker ("-", "(empty)"), and \xHH for backslashes, unprintable bytes, the
// separator and, inside a set, the set separator.
func appendZeekString(b []byte, s string, inSet bool) []byte {
	switch s {
	case "":
		return append(b, "(empty)"...)
	case "-", "(empty)":
		b = append(b, '\\', 'x', hexDigits[s[0]>>4], hexDigits[s[0]&0xf])
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' || (inSet && c == ',') {
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}

func appendZeekBool(b []byte, v bool) []byte {
	if v {
		return append(b, 'T')
	}
	return append(b, 'F')
}

// zeekMaskedTime is how btest masks times in Zeek's test baselines.
const zeekMaskedTime = "XXXXXXXXXX.XXXXXX"

var errBadDecimal = errors.New("not a decimal number of seconds")

// parseMicros reads Zeek's "%.6f" seconds ("1258531221.486539", "-",
// "0.5") exactly, without going through a float.
func parseMicros(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || strings.HasPrefix(whole, "+") {
		return 0, errBadDecimal
	}
	sec, err := strconv.ParseUint(whole, 10, 63)
	if err != nil || sec > 1<<43 {
		return 0, errBadDecimal
	}
	var us int64
	for i := range 6 {
		us *= 10
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, errBadDecimal
			}
			us += int64(frac[i] - '0')
		}
	}
	for i := 6; i < len(frac); i++ { // digits past µs are checked, then dropped
		if frac[i] < '0' || frac[i] > '9' {
			return 0, errBadDecimal
		}
	}
	us += int64(sec) * 1e6
	if neg {
		us = -us
	}
	return us, nil
}

// unescapeZeek undoes the writer's \xHH escapes.
func unescapeZeek(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
