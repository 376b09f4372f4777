package intel

import (
	"errors"
	"fmt"
	"strings"
)

// A hand parser for the subset of STIX 2.1 patterning that names addresses
// and domains: no library served by the Go module proxy parses STIX
// patterns, and the subset is small:
//
//	pattern     = observation { "OR" observation }
//	observation = "[" comparisons "]" | "(" pattern ")"
//	comparisons = comparison { "OR" comparison }
//	comparison  = path op 'value' | "(" comparisons ")"
//	path        = "ipv4-addr:value" | "ipv6-addr:value" | "domain-name:value"
//	op          = "=" | "ISSUBSET" (ISSUBSET for addresses only)
//
// Anything else (AND, FOLLOWEDBY, qualifiers, other objects or operators)
// is errUnsupported; the full grammar is not checked, so a pattern that is
// wrong in a part this parser does not read counts as unsupported, not as
// malformed. Malformed means: empty, cut short, an unterminated or badly
// escaped string, nested too deep, or a value that is not an address, CIDR
// or domain of its type.

var errUnsupported = errors.New("unsupported")

// maxPatternDepth bounds nesting of parentheses and brackets, so that a
// hostile pattern cannot recurse without end.
const maxPatternDepth = 32

// stixValue is one indicator a pattern names, with the value as written.
type stixValue struct {
	written string
	ind     indicator
}

type patternParser struct {
	s     string
	pos   int
	depth int
	out   []stixValue
}

// parsePattern returns every address, CIDR or domain the pattern matches on.
func parsePattern(s string) ([]stixValue, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty")
	}
	p := &patternParser{s: s}
	if err := p.observations(); err != nil {
		return nil, err
	}
	if p.space(); p.pos < len(p.s) {
		return nil, p.unsupported()
	}
	return p.out, nil
}

func (p *patternParser) observations() error {
	for {
		if err := p.observation(); err != nil {
			return err
		}
		if !p.keyword("OR") {
			return nil
		}
	}
}

func (p *patternParser) observation() error {
	p.space()
	open := p.peek()
	if open != '[' && open != '(' {
		return p.unsupported()
	}
	if err := p.enter(); err != nil {
		return err
	}
	defer func() { p.depth-- }()
	if open == '(' {
		if err := p.observations(); err != nil {
			return err
		}
		return p.expect(')')
	}
	if err := p.comparisons(); err != nil {
		return err
	}
	return p.expect(']')
}

func (p *patternParser) comparisons() error {
	for {
		if err := p.comparison(); err != nil {
			return err
		}
		if !p.keyword("OR") {
			return nil
		}
	}
}

func (p *patternParser) comparison() error {
	p.space()
	if p.peek() == '(' {
		if err := p.enter(); err != nil {
			return err
		}
		defer func() { p.depth-- }()
		if err := p.comparisons(); err != nil {
			return err
		}
		return p.expect(')')
	}
	start := p.pos
	for p.pos < len(p.s) && isPathByte(p.s[p.pos]) {
		p.pos++
	}
	path := p.s[start:p.pos]
	if path != "ipv4-addr:value" && path != "ipv6-addr:value" && path != "domain-name:value" {
		p.pos = start
		return p.unsupported()
	}
	p.space()
	subset := false
	switch {
	case strings.HasPrefix(p.s[p.pos:], "=") && !strings.HasPrefix(p.s[p.pos:], "=="):
		p.pos++
	case path != "domain-name:value" && p.keyword("ISSUBSET"):
		subset = true
	default:
		return p.unsupported()
	}
	p.space()
	if p.peek() != '\'' {
		return p.unsupported()
	}
	v, err := p.str()
	if err != nil {
		return err
	}
	ind, err := parseIndicator(v)
	ok := err == nil
	switch path {
	case "ipv4-addr:value":
		ok = ok && ind.kind != kindDomain && !strings.Contains(v, ":")
	case "ipv6-addr:value":
		ok = ok && ind.kind != kindDomain && strings.Contains(v, ":")
	default:
		ok = ok && ind.kind == kindDomain && !subset
	}
	if !ok {
		return fmt.Errorf("%s %q at offset %d: not a valid value", path, v, start)
	}
	p.out = append(p.out, stixValue{written: v, ind: ind})
	return nil
}

// str reads a quoted string; STIX escapes only the quote and backslash.
func (p *patternParser) str() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	var b strings.Builder
	from := p.pos
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case '\'':
			v := p.s[from:p.pos]
			if b.Len() > 0 {
				b.WriteString(v)
				v = b.String()
			}
			p.pos++
			return v, nil
		case '\\':
			if p.pos+1 >= len(p.s) || (p.s[p.pos+1] != '\'' && p.s[p.pos+1] != '\\') {
				return "", fmt.Errorf("bad escape at offset %d", p.pos)
			}
			b.WriteString(p.s[from:p.pos])
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
			from = p.pos
		default:
			p.pos++
		}
	}
	return "", fmt.Errorf("unterminated string at offset %d", start)
}

func (p *patternParser) enter() error {
	if p.depth++; p.depth > maxPatternDepth {
		return fmt.Errorf("nested deeper than %d at offset %d", maxPatternDepth, p.pos)
	}
	p.pos++
	return nil
}

func (p *patternParser) expect(c byte) error {
	if p.space(); p.peek() != c {
		return p.unsupported()
	}
	p.pos++
	return nil
}

// keyword consumes word (any case) if it comes next as a whole word.
func (p *patternParser) keyword(word string) bool {
	p.space()
	end := p.pos + len(word)
	if end > len(p.s) || !strings.EqualFold(p.s[p.pos:end], word) || (end < len(p.s) && isPathByte(p.s[end])) {
		return false
	}
	p.pos = end
	return true
}

func (p *patternParser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *patternParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// unsupported names what the parser met where it expected its subset; a
// pattern that stops short is malformed instead.
func (p *patternParser) unsupported() error {
	if p.pos >= len(p.s) {
		return errors.New("pattern ends early")
	}
	end := p.pos + 1
	for end < len(p.s) && end-p.pos < 24 && isPathByte(p.s[end]) && isPathByte(p.s[p.pos]) {
		end++
	}
	return fmt.Errorf("%w: %q at offset %d", errUnsupported, p.s[p.pos:end], p.pos)
}

func isPathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == ':' || c == '.'
}
