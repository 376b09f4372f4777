package intel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// stixObject holds the fields of a STIX 2.1 object that decide whether and
// what an indicator contributes.
type stixObject struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Pattern     string `json:"pattern"`
	PatternType string `json:"pattern_type"`
	Revoked     bool   `json:"revoked"`
	ValidUntil  string `json:"valid_until"`
}

// parseSTIX streams the objects of a bundle, one at a time, so that a
// bundle of a million indicators is never held twice. An object whose
// fields have the wrong JSON types is rejected on its own; broken JSON
// stops the whole file, which the caller then does not take.
func parseSTIX(b *builder, data []byte, now time.Time) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("not a STIX bundle: %w", err)
	}
	var bundleType string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(dec, err)
		}
		switch tok {
		case "type":
			if err := dec.Decode(&bundleType); err != nil {
				return fmt.Errorf("field type: %w", jsonError(dec, err))
			}
		case "objects":
			if err := parseSTIXObjects(b, dec, now); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return jsonError(dec, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if bundleType != "bundle" {
		return fmt.Errorf("type is %q, want \"bundle\"", bundleType)
	}
	return nil
}

func parseSTIXObjects(b *builder, dec *json.Decoder, now time.Time) error {
	if err := expectDelim(dec, '['); err != nil {
		return fmt.Errorf("field objects: %w", err)
	}
	for i := 0; dec.More(); i++ {
		var o stixObject
		if err := dec.Decode(&o); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return jsonError(dec, err)
			}
			e := &recordError{path: b.path, where: objectAt(i, o.ID), field: te.Field,
				err: fmt.Errorf("JSON %s where %s was expected", te.Value, te.Type)}
			if te.Field == "" {
				e.field, e.err = "object", fmt.Errorf("JSON %s, not an object", te.Value)
			}
			b.reject(e)
			continue
		}
		if o.Type == "indicator" {
			addSTIXIndicator(b, i, &o, now)
		}
	}
	return expectDelim(dec, ']')
}

func addSTIXIndicator(b *builder, i int, o *stixObject, now time.Time) {
	if o.Revoked {
		b.skipped.Revoked++
		return
	}
	if o.ValidUntil != "" {
		until, err := time.Parse(time.RFC3339Nano, o.ValidUntil)
		if err != nil {
			b.reject(&recordError{path: b.path, where: objectAt(i, o.ID), field: "valid_until",
				value: o.ValidUntil, err: errors.New("not an RFC 3339 timestamp")})
			return
		}
		if !until.After(now) {
			b.skipped.Expired++
			return
		}
	}
	// STIX 2.0 had no pattern_type and only STIX patterns.
	if o.PatternType != "stix" && o.PatternType != "" {
		b.skipped.PatternType++
		return
	}
	values, err := parsePattern(o.Pattern)
	if errors.Is(err, errUnsupported) {
		b.skipped.Unsupported++
		return
	}
	if err != nil {
		b.reject(&recordError{path: b.path, where: objectAt(i, o.ID), field: "pattern", value: o.Pattern, err: err})
		return
	}
	for _, v := range values {
		b.add(v.written, v.ind)
	}
}

func objectAt(i int, id string) string {
	if id == "" {
		return fmt.Sprintf("objects[%d]", i)
	}
	return fmt.Sprintf("objects[%d] (%s)", i, id)
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(dec, err)
	}
	if tok != want {
		return fmt.Errorf("offset %d: found %v where %v was expected", dec.InputOffset(), tok, want)
	}
	return nil
}

func jsonError(dec *json.Decoder, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("offset %d: %w", dec.InputOffset(), err)
}
