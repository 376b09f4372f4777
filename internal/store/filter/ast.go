// Package filter is Osprey's session filter language, for example
//
//	src.tag = "iot" and dst.port in (22, 23) and bytes > 1MB and app = "tls"
//
// Expressions are parsed into a typed AST and checked against the field
// catalogue before anything runs, so a bad filter fails at once with the
// column of the mistake; backends compile the AST to parametrised queries
// (never user SQL). The parser is written by hand: the grammar is small,
// and a hand-written recursive-descent parser gives the precise,
// column-pointing errors users need, which general parser generators do
// not.
package filter

import (
	"net/netip"
	"time"
)

// Expr is a node of a parsed filter.
type Expr interface{ pos() int }

// And, Or and Not combine expressions.
type (
	And struct {
		Left, Right Expr
		At          int
	}
	Or struct {
		Left, Right Expr
		At          int
	}
	Not struct {
		X  Expr
		At int
	}
)

// Compare is "field op value" (=, !=, <, <=, >, >=).
type Compare struct {
	Field *Field
	Op    string
	Value Value
	At    int
}

// In is "field in (v1, v2, …)" or "field not in (…)". For address fields a
// value may be a CIDR prefix, matching every address inside it.
type In struct {
	Field  *Field
	Values []Value
	Negate bool
	At     int
}

func (e *And) pos() int     { return e.At }
func (e *Or) pos() int      { return e.At }
func (e *Not) pos() int     { return e.At }
func (e *Compare) pos() int { return e.At }
func (e *In) pos() int      { return e.At }

// Value is one literal, already converted to its field's type.
type Value struct {
	Kind     Kind
	Str      string
	Num      float64
	Addr     netip.Addr
	Prefix   netip.Prefix // set for a CIDR literal (Kind Addr)
	Duration time.Duration
	At       int
}

// IsPrefix reports whether an address value is a CIDR prefix rather than
// a single address.
func (v Value) IsPrefix() bool { return v.Prefix.IsValid() }

// eitherEnd rewrites a comparison of an either-end field as the
// comparison of each end, or'ed, so that SQL and Compile share one
// meaning: != and not in become the negation of = and in, holding when
// neither end matches. ok is false for any other expression.
func eitherEnd(e Expr) (_ Expr, ok bool) {
	switch e := e.(type) {
	case *Compare:
		if ends := e.Field.Ends; ends != nil {
			op := e.Op
			if op == "!=" {
				op = "="
			}
			var x Expr = &Or{&Compare{ends[0], op, e.Value, e.At}, &Compare{ends[1], op, e.Value, e.At}, e.At}
			if e.Op == "!=" {
				x = &Not{x, e.At}
			}
			return x, true
		}
	case *In:
		if ends := e.Field.Ends; ends != nil {
			var x Expr = &Or{&In{ends[0], e.Values, false, e.At}, &In{ends[1], e.Values, false, e.At}, e.At}
			if e.Negate {
				x = &Not{x, e.At}
			}
			return x, true
		}
	}
	return e, false
}
