package filter

import (
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Predicate reports whether a session matches.
type Predicate func(*schema.Session) bool

// Compile turns a checked expression into a predicate over sessions, once,
// so that evaluation costs no parsing or lookups per session (as Hubble
// compiles its flow filters). It is the in-memory reference for what the
// store backends will compute in SQL. A field a session has no value for
// (no mirror; tags, segments and assets until enrichment lands) matches
// no = and no ordering, and every !=.
func Compile(e Expr) Predicate {
	if x, ok := eitherEnd(e); ok {
		return Compile(x)
	}
	switch e := e.(type) {
	case nil:
		return func(*schema.Session) bool { return true }
	case *And:
		l, r := Compile(e.Left), Compile(e.Right)
		return func(s *schema.Session) bool { return l(s) && r(s) }
	case *Or:
		l, r := Compile(e.Left), Compile(e.Right)
		return func(s *schema.Session) bool { return l(s) || r(s) }
	case *Not:
		x := Compile(e.X)
		return func(s *schema.Session) bool { return !x(s) }
	case *Compare:
		get := e.Field.get
		v, op := e.Value, e.Op
		return func(s *schema.Session) bool { return compare(get(s), op, v) }
	case *In:
		get := e.Field.get
		vals, negate := e.Values, e.Negate
		return func(s *schema.Session) bool {
			got := get(s)
			for _, v := range vals {
				if matches(got, v) {
					return !negate
				}
			}
			return negate
		}
	}
	panic("filter: unknown expression type") // Parse builds no other
}

// fieldValue is a session's value for a field; ok is false when the
// session has none.
type fieldValue struct {
	str  string
	strs []string // a list field (tags): matches when any element does
	num  float64
	addr netip.Addr
	dur  time.Duration
	ok   bool
}

func matches(got fieldValue, v Value) bool {
	if !got.ok {
		return false
	}
	switch v.Kind {
	case KindString:
		if got.strs != nil {
			return slices.Contains(got.strs, v.Str)
		}
		return got.str == v.Str
	case KindNumber:
		return got.num == v.Num
	case KindDuration:
		return got.dur == v.Duration
	case KindAddr:
		// Compared in 16-byte form, IPv4 as IPv4-mapped IPv6, as the
		// stores keep addresses: ::/0 holds every address.
		if v.IsPrefix() {
			return Prefix16(v.Prefix).Contains(netip.AddrFrom16(got.addr.As16()))
		}
		return got.addr.As16() == v.Addr.As16()
	}
	return false
}

func compare(got fieldValue, op string, v Value) bool {
	switch op {
	case "=":
		return matches(got, v)
	case "!=":
		return !matches(got, v)
	}
	if !got.ok {
		return false
	}
	var c int
	switch v.Kind {
	case KindNumber:
		c = cmp3(got.num, v.Num)
	case KindDuration:
		c = cmp3(got.dur, v.Duration)
	default:
		return false // the checker allows ordering only on numbers and durations
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func cmp3[T float64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Prefix16 is a prefix in 16-byte form: an IPv4 prefix becomes the
// IPv4-mapped one (10.0.0.0/8 → ::ffff:10.0.0.0/104).
func Prefix16(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4() {
		return netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96)
	}
	return p
}
