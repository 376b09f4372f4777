package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a filter error at a column (1-based) of the expression.
type Error struct {
	Col int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("filter: column %d: %s", e.Col, e.Msg) }

type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tString
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	at   int // byte offset
}

// lex splits the input; words are runs of letters, digits and . : / - _
// (field names, numbers with units, addresses, prefixes, durations).
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, &Error{i + 1, "unterminated string"}
			}
			raw := s[i : j+1]
			if c == '\'' { // accept single quotes as Go does not
				raw = `"` + strings.ReplaceAll(strings.ReplaceAll(raw[1:len(raw)-1], `\'`, `'`), `"`, `\"`) + `"`
			}
			v, err := strconv.Unquote(raw)
			if err != nil {
				return nil, &Error{i + 1, "bad string literal: " + err.Error()}
			}
			toks = append(toks, token{tString, v, i})
			i = j + 1
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, &Error{i + 1, `"!" must be followed by "=" (use "not" to negate)`}
			}
			if op == "==" {
				op = "="
			}
			toks = append(toks, token{tOp, op, i})
			i = j
		case isWord(rune(c)):
			j := i
			for j < len(s) && isWord(rune(s[j])) {
				j++
			}
			toks = append(toks, token{tWord, s[i:j], i})
			i = j
		default:
			return nil, &Error{i + 1, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

func isWord(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._:/-", r))
}

// Parse parses and type-checks a filter. An empty filter is nil (matches
// everything).
func Parse(s string) (Expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tEOF {
		return nil, nil
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "unexpected %q: expected \"and\", \"or\" or the end", t.text)
	}
	return e, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &Error{t.at + 1, fmt.Sprintf(format, args...)}
}

func (p *parser) keyword(t token, w string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

func (p *parser) or() (Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "or") {
		t := p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &Or{left, right, t.at}
	}
	return left, nil
}

func (p *parser) and() (Expr, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "and") {
		t := p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &And{left, right, t.at}
	}
	return left, nil
}

// maxDepth bounds nesting so a hostile filter cannot exhaust the stack.
const maxDepth = 64

func (p *parser) unary() (Expr, error) {
	t := p.peek()
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(t, "expression nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	switch {
	case p.keyword(t, "not"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{x, t.at}, nil
	case t.kind == tLParen:
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorf(c, "expected \")\" to close the \"(\" at column %d", t.at+1)
		}
		return e, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	t := p.next()
	if t.kind != tWord {
		return nil, p.errorf(t, "expected a field name, found %s", describe(t))
	}
	f, ok := Fields[canonicalField(strings.ToLower(t.text))]
	if !ok {
		return nil, p.errorf(t, "unknown field %q (known: %s)", t.text, fieldNames())
	}
	op := p.next()
	negate := false
	if p.keyword(op, "not") {
		negate = true
		op = p.next()
		if !p.keyword(op, "in") {
			return nil, p.errorf(op, `expected "in" after "not"`)
		}
	}
	if p.keyword(op, "in") {
		if l := p.next(); l.kind != tLParen {
			return nil, p.errorf(l, `expected "(" after "in"`)
		}
		in := &In{Field: f, Negate: negate, At: t.at}
		for {
			v, err := p.value(f)
			if err != nil {
				return nil, err
			}
			in.Values = append(in.Values, v)
			sep := p.next()
			if sep.kind == tRParen {
				return in, nil
			}
			if sep.kind != tComma {
				return nil, p.errorf(sep, `expected "," or ")" in the list`)
			}
		}
	}
	if op.kind != tOp {
		return nil, p.errorf(op, "expected an operator (=, !=, <, <=, >, >=, in, not in) after %s, found %s", f.Name, describe(op))
	}
	v, err := p.value(f)
	if err != nil {
		return nil, err
	}
	switch {
	case (f.Kind == KindString || f.Kind == KindAddr) && op.text != "=" && op.text != "!=":
		return nil, p.errorf(op, "%s is a %s: only = and != (or in) apply", f.Name, f.Kind)
	case v.IsPrefix() && (op.text == "=" || op.text == "!="):
		return nil, p.errorf(token{at: v.At}, "a CIDR prefix needs \"in\": %s in (%s)", f.Name, v.Prefix)
	}
	return &Compare{Field: f, Op: op.text, Value: v, At: t.at}, nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the filter"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}
