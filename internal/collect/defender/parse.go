package defender

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Parser decodes and validates reports. It holds no state: one Parser
// serves every goroutine.
type Parser struct {
	limits Limits
	cbor   cbor.DecMode
}

// NewParser returns a parser enforcing limits.
func NewParser(limits Limits) (*Parser, error) {
	if limits.MaxBytes <= 0 || limits.MaxList <= 0 {
		return nil, fmt.Errorf("defender: limits must be positive: %+v", limits)
	}
	// Nesting and sizes are bounded before anything is allocated, so a
	// hostile CBOR header cannot ask for a huge slice.
	dm, err := cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: max(limits.MaxList, 16),
		MaxMapPairs:      max(limits.MaxList, 16),
	}.DecMode()
	if err != nil {
		return nil, err
	}
	return &Parser{limits: limits, cbor: dm}, nil
}

// Parse decodes a report in either field naming and validates it against
// AWS's document specification. A rejected report's error is a
// *ReportError.
func (p *Parser) Parse(payload []byte, f Format) (*Report, error) {
	if len(payload) > p.limits.MaxBytes {
		return nil, invalid("", fmt.Sprintf("report of %d bytes is over the limit of %d", len(payload), p.limits.MaxBytes))
	}
	var w wireReport
	if err := p.decode(payload, f, &w); err != nil {
		return nil, err
	}
	return p.validate(&w)
}

func (p *Parser) decode(payload []byte, f Format, w *wireReport) error {
	if f == FormatCBOR {
		if err := p.cbor.Unmarshal(payload, w); err != nil {
			var te *cbor.UnmarshalTypeError
			if errors.As(err, &te) {
				return invalid(te.StructFieldName, "expected "+goTypeName(te.GoType)+", got CBOR "+te.CBORType)
			}
			return invalid("", "malformed CBOR: "+strings.TrimPrefix(err.Error(), "cbor: "))
		}
		return nil
	}
	if err := json.Unmarshal(payload, w); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return invalid(te.Field, "expected "+jsonTypeName(te.Type)+", got "+te.Value)
		case errors.As(err, &se):
			return invalid("", fmt.Sprintf("malformed JSON at offset %d: %s", se.Offset, se.Error()))
		default:
			return invalid("", "malformed JSON: "+err.Error())
		}
	}
	return nil
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	case reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	default:
		return "an object"
	}
}

// goTypeName reads fxamacker/cbor's Go type name, which is all its
// type errors carry.
func goTypeName(t string) string {
	switch {
	case strings.HasSuffix(t, "int64"):
		return "an integer"
	case strings.HasSuffix(t, "float64"):
		return "a number"
	case strings.HasSuffix(t, "string"):
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	default:
		return "an object"
	}
}
