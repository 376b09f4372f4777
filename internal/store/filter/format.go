package filter

import (
	"strconv"
	"strings"
)

// String renders an expression in canonical form, fully parenthesised,
// so that parsing the result gives the same tree ("" for nil, the empty
// filter).
func String(e Expr) string {
	var b strings.Builder
	write(&b, e)
	return b.String()
}

func write(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case nil: // the empty filter matches everything
	case *And:
		b.WriteByte('(')
		write(b, e.Left)
		b.WriteString(" and ")
		write(b, e.Right)
		b.WriteByte(')')
	case *Or:
		b.WriteByte('(')
		write(b, e.Left)
		b.WriteString(" or ")
		write(b, e.Right)
		b.WriteByte(')')
	case *Not:
		b.WriteString("not ")
		write(b, e.X)
	case *Compare:
		b.WriteString(e.Field.Name + " " + e.Op + " " + e.Value.String())
	case *In:
		b.WriteString(e.Field.Name)
		if e.Negate {
			b.WriteString(" not")
		}
		b.WriteString(" in (")
		for i, v := range e.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte(')')
	}
}

// String renders a literal as the language writes it.
func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return strconv.Quote(v.Str)
	case KindNumber:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	case KindDuration:
		return v.Duration.String()
	case KindAddr:
		if v.IsPrefix() {
			return v.Prefix.String()
		}
		return v.Addr.String()
	}
	return "?"
}
