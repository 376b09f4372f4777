package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// wireProfile is what a file may hold for one profile: the request body
// and, from describe-security-profile output, the fields AWS adds.
type wireProfile struct {
	SecurityProfile
	SecurityProfileArn json.RawMessage `json:"securityProfileArn"`
	Version            json.RawMessage `json:"version"`
	CreationDate       json.RawMessage `json:"creationDate"`
	LastModifiedDate   json.RawMessage `json:"lastModifiedDate"`
}

// Load reads and validates the profiles of every file: each holds one
// profile (a create-security-profile request or describe-security-profile
// output) or a JSON array of them. Profile names are unique across files.
func Load(paths ...string) ([]SecurityProfile, error) {
	var all []SecurityProfile
	seen := map[string]string{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		ps, err := Parse(path, data)
		if err != nil {
			return nil, err
		}
		for i, p := range ps {
			if prev, ok := seen[p.SecurityProfileName]; ok {
				return nil, &Error{Source: path, Index: i, Profile: p.SecurityProfileName, Behavior: -1,
					Field: "securityProfileName", Msg: "already defined in " + prev}
			}
			seen[p.SecurityProfileName] = path
		}
		all = append(all, ps...)
	}
	return all, nil
}

// Parse decodes and validates the profiles of one file; source names it
// in errors. Unknown fields are rejected, as the AWS CLI rejects them.
func Parse(source string, data []byte) ([]SecurityProfile, error) {
	data = bytes.TrimSpace(data)
	var raws []json.RawMessage
	list := len(data) > 0 && data[0] == '['
	if list {
		if err := decodeStrict(data, &raws); err != nil {
			return nil, &Error{Source: source, Index: -1, Behavior: -1, Msg: err.Error()}
		}
	} else {
		raws = []json.RawMessage{data}
	}
	ps := make([]SecurityProfile, 0, len(raws))
	var errs []error
	for i, raw := range raws {
		var w wireProfile
		if err := decodeStrict(raw, &w); err != nil {
			errs = append(errs, &Error{Source: source, Index: i, Behavior: -1, Msg: err.Error()})
			continue
		}
		errs = append(errs, validate(source, i, &w.SecurityProfile)...)
		ps = append(ps, w.SecurityProfile)
	}
	names := map[string]int{}
	for i, p := range ps {
		if j, ok := names[p.SecurityProfileName]; ok && p.SecurityProfileName != "" {
			errs = append(errs, &Error{Source: source, Index: i, Profile: p.SecurityProfileName, Behavior: -1,
				Field: "securityProfileName", Msg: fmt.Sprintf("already defined by profile %d", j)})
		}
		names[p.SecurityProfileName] = i
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ps, nil
}

// decodeStrict decodes one JSON value, rejecting unknown fields and
// trailing data, and says where a syntax or type error is.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := position(data, se.Offset)
			return fmt.Errorf("line %d column %d: %v", line, col, se)
		case errors.As(err, &te):
			return fmt.Errorf("%s: expected %v, got %s", strings.TrimPrefix(te.Field, "SecurityProfile."), te.Type, te.Value)
		case errors.Is(err, io.EOF):
			return errors.New("empty input, want a security profile object or an array of them")
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errors.New("data after the first JSON value; several profiles go in a JSON array")
	}
	return nil
}

func position(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	line = 1 + bytes.Count(data[:offset], []byte{'\n'})
	return line, int(offset) - bytes.LastIndexByte(data[:offset], '\n') - 1
}

// Export writes profiles as JSON AWS takes back: one profile as the
// create-security-profile request body (--cli-input-json), several as an
// array of them.
func Export(w io.Writer, profiles []SecurityProfile) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if len(profiles) == 1 {
		return enc.Encode(profiles[0])
	}
	if profiles == nil {
		profiles = []SecurityProfile{}
	}
	return enc.Encode(profiles)
}
