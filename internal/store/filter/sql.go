package filter

import (
	"fmt"
	"net/netip"
	"strings"
)

// Dialect is what differs between the SQL backends.
type Dialect interface {
	// Param is the placeholder for the n-th argument (1-based).
	Param(n int) string
	// AddrIn is the condition that the address column holds an address
	// of the prefix from first to last (the same address for an
	// equality), as 16-byte addresses; bind binds an argument and
	// returns its placeholder.
	AddrIn(column string, first, last [16]byte, bind func(any) string) string
	// Text is "the string column holds the value", ArrayHas "the list
	// column contains it" (a backend may store strings as codes).
	Text(column, value string, bind func(any) string) string
	ArrayHas(column, value string, bind func(any) string) string
}

// SQL compiles a checked expression to a WHERE condition over the
// sessions table, appending its arguments to args (placeholders count on
// from len(args)). Values are always bound, never spliced into the text.
// The condition is two-valued and agrees with Compile, the in-memory
// reference, on every session: the conformance suite checks both.
func SQL(e Expr, d Dialect, args []any) (string, []any) {
	c := sqlCompiler{d: d, args: args}
	return c.expr(e), c.args
}

type sqlCompiler struct {
	d    Dialect
	args []any
}

func (c *sqlCompiler) bind(v any) string {
	c.args = append(c.args, v)
	return c.d.Param(len(c.args))
}

func (c *sqlCompiler) expr(e Expr) string {
	if x, ok := eitherEnd(e); ok {
		return c.expr(x)
	}
	switch e := e.(type) {
	case nil:
		return "(1 = 1)"
	case *And:
		return "(" + c.expr(e.Left) + " AND " + c.expr(e.Right) + ")"
	case *Or:
		return "(" + c.expr(e.Left) + " OR " + c.expr(e.Right) + ")"
	case *Not:
		return "(NOT " + c.expr(e.X) + ")"
	case *Compare:
		switch e.Op {
		case "=":
			return c.match(e.Field, e.Value)
		case "!=":
			return "(NOT " + c.match(e.Field, e.Value) + ")"
		}
		return c.guard(e.Field, e.Field.Column+" "+e.Op+" "+c.scalar(e.Value))
	case *In:
		parts := make([]string, len(e.Values))
		for i, v := range e.Values {
			parts[i] = c.match(e.Field, v)
		}
		s := "(" + strings.Join(parts, " OR ") + ")"
		if e.Negate {
			return "(NOT " + s + ")"
		}
		return s
	}
	panic(fmt.Sprintf("filter: unknown expression %T", e))
}

// match is the SQL of matches(): the field has a value equal to v (or
// inside v, a prefix).
func (c *sqlCompiler) match(f *Field, v Value) string {
	switch {
	case v.Kind == KindString && v.Str == "":
		return "(1 = 0)" // an empty string is no value, which matches nothing (no TRUE/FALSE in ClickHouse 18.16)
	case f.Array:
		return c.d.ArrayHas(f.Column, v.Str, c.bind)
	case v.Kind == KindString:
		return c.guard(f, c.d.Text(f.Column, v.Str, c.bind))
	case v.Kind == KindAddr && v.IsPrefix():
		p := Prefix16(v.Prefix)
		return c.guard(f, c.d.AddrIn(f.Column, p.Addr().As16(), lastAddr(p).As16(), c.bind))
	case v.Kind == KindAddr:
		a := v.Addr.As16()
		return c.guard(f, c.d.AddrIn(f.Column, a, a, c.bind))
	}
	return c.guard(f, f.Column+" = "+c.scalar(v))
}

func (c *sqlCompiler) guard(f *Field, cond string) string {
	if f.Present == "" {
		return "(" + cond + ")"
	}
	return "(" + f.Present + " AND " + cond + ")"
}

func (c *sqlCompiler) scalar(v Value) string {
	switch v.Kind {
	case KindString:
		return c.bind(v.Str)
	case KindNumber:
		return c.bind(v.Num)
	case KindDuration:
		return c.bind(int64(v.Duration)) // nanoseconds, as the column
	}
	panic("filter: unknown value kind") // addresses are matched by AddrIn
}

// AddrBetween is AddrIn for a column that holds an address as one value
// ordered as its 16 bytes; value binds an address.
func AddrBetween(column string, first, last [16]byte, value func([16]byte) string) string {
	if first == last {
		return column + " = " + value(first)
	}
	return column + " BETWEEN " + value(first) + " AND " + value(last)
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(b)
}
