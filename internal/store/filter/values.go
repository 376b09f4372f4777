package filter

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// value reads one literal and converts it to the field's type, so that a
// wrong literal fails here, at its column.
func (p *parser) value(f *Field) (Value, error) {
	t := p.next()
	if t.kind != tWord && t.kind != tString {
		return Value{}, p.errorf(t, "expected a value for %s, found %s", f.Name, describe(t))
	}
	v := Value{Kind: f.Kind, At: t.at}
	switch f.Kind {
	case KindString:
		v.Str = t.text
	case KindNumber:
		n, err := parseNumber(t.text)
		if err != nil {
			return v, p.errorf(t, "%s is a number: %v", f.Name, err)
		}
		v.Num = n
	case KindDuration:
		d, err := time.ParseDuration(t.text)
		if err != nil {
			secs, nerr := strconv.ParseFloat(t.text, 64)
			if nerr != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
				return v, p.errorf(t, "%s is a duration such as 90s, 5m or 1h30m: %q", f.Name, t.text)
			}
			d = time.Duration(secs * float64(time.Second))
		}
		v.Duration = d
	case KindAddr:
		if strings.Contains(t.text, "/") {
			pfx, err := netip.ParsePrefix(t.text)
			if err != nil {
				return v, p.errorf(t, "%s: bad CIDR prefix %q", f.Name, t.text)
			}
			v.Prefix = pfx.Masked()
		} else {
			a, err := netip.ParseAddr(t.text)
			if err != nil {
				return v, p.errorf(t, "%s is an address: bad address %q", f.Name, t.text)
			}
			v.Addr = a
		}
	}
	return v, nil
}

// units multiply numbers: decimal (k, M, G, T; KB, MB, GB, TB) and binary
// (KiB, MiB, GiB, TiB); sizes and counts alike.
var units = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"kB", 1e3}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1},
}

func parseNumber(s string) (float64, error) {
	mult := 1.0
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok && rest != "" {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, &strconvError{s}
	}
	return n * mult, nil
}

type strconvError struct{ s string }

func (e *strconvError) Error() string {
	return strconv.Quote(e.s) + " is not a number (units: k, M, G, KB, MB, GB, KiB, MiB, GiB)"
}
