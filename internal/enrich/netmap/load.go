package netmap

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EntryError is one entry of a range file that was set aside: the file,
// the 1-based line of the entry or of its faulty field, the field ("" when
// the entry as a whole is wrong), and what is wrong with it.
type EntryError struct {
	Path  string
	Line  int
	Field string
	Err   error
}

func (e *EntryError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", where, e.Field, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// LoadFile reads a range file, its format chosen by the extension:
// .yaml or .yml and .json hold a list of entries with the keys cidr
// (required), tags (a list of strings) and segment; .csv has a header
// row naming the columns cidr (required), segment and tags, tags
// separated by ';' or spaces, and '#' starts a comment line:
//
//	# ranges.yaml
//	- cidr: 10.20.0.0/16
//	  tags: [prod, datastore]
//	  segment: datastore
//
//	[{"cidr": "10.20.0.0/16", "tags": ["prod"], "segment": "datastore"}]
//
//	cidr,segment,tags
//	10.20.0.0/16,datastore,prod;datastore
//
// A cidr is a canonical prefix (no host bits set) or a single address.
// Tags and segments are words without spaces, ';', ',' or control
// characters. An entry that breaks these rules, or has an unknown key,
// is set aside as an *EntryError in rejected and the rest is kept.
// An unreadable file, one that does not parse as its format, or one
// whose every entry was rejected is an error; an empty file has no
// ranges.
func LoadFile(path string) (ranges []Range, rejected []error, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return parseFile(path, data)
}

// parseFile chooses the parser by path's extension.
func parseFile(path string, data []byte) ([]Range, []error, error) {
	var parse func(string, []byte) ([]Range, []error, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		parse = parseYAML
	case ".json":
		parse = parseJSON
	case ".csv":
		parse = parseCSV
	default:
		return nil, nil, fmt.Errorf("%s: unknown range file format (want .yaml, .yml, .json or .csv)", path)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, nil
	}
	ranges, rejected, err := parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	if len(ranges) == 0 && len(rejected) > 0 {
		return nil, rejected, fmt.Errorf("%s: no valid entry (%d rejected), first: %w", path, len(rejected), rejected[0])
	}
	return ranges, rejected, nil
}

// entry is one range as a file spells it, before checking.
type entry struct {
	CIDR    string   `json:"cidr"`
	Tags    []string `json:"tags"`
	Segment string   `json:"segment"`
}

// fieldError is an entry's error before the parser adds path and line.
type fieldError struct {
	field string
	err   error
}

// toRange checks an entry. Single addresses become host prefixes.
func (e *entry) toRange() (Range, *fieldError) {
	var r Range
	if strings.TrimSpace(e.CIDR) == "" {
		return r, &fieldError{"cidr", errors.New("missing")}
	}
	p, err := parsePrefix(strings.TrimSpace(e.CIDR))
	if err != nil {
		return r, &fieldError{"cidr", err}
	}
	r.Prefix = p
	for _, t := range e.Tags {
		t = strings.TrimSpace(t)
		if err := checkWord(t); err != nil {
			return Range{}, &fieldError{"tags", fmt.Errorf("%q: %w", t, err)}
		}
		r.Tags = append(r.Tags, t)
	}
	r.Segment = strings.TrimSpace(e.Segment)
	if r.Segment != "" {
		if err := checkWord(r.Segment); err != nil {
			return Range{}, &fieldError{"segment", fmt.Errorf("%q: %w", r.Segment, err)}
		}
	}
	return r, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			return p, err
		case a.Zone() != "":
			return p, fmt.Errorf("%s: an address with a zone", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	switch {
	case p.Addr().Is4In6():
		// Lookups unmap addresses, so such a prefix would never match.
		return p, fmt.Errorf("%s: an IPv4-mapped prefix; write it as IPv4", s)
	case p != p.Masked():
		return p, fmt.Errorf("%s has host bits set (the network is %s)", s, p.Masked())
	}
	return p, nil
}

// checkWord rejects what would not survive a round trip through the CSV
// format or read clearly in a query: empty words, separators, controls.
func checkWord(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ';' || r == ',' || r == utf8.RuneError {
			return fmt.Errorf("character %q not allowed", r)
		}
	}
	return nil
}
