package netmap

import (
	"errors"
	"slices"
	"testing"
)

func FuzzParseYAML(f *testing.F) { fuzzParse(f, "ranges.yaml") }
func FuzzParseJSON(f *testing.F) { fuzzParse(f, "ranges.json") }
func FuzzParseCSV(f *testing.F)  { fuzzParse(f, "ranges.csv") }

// fuzzParse checks that whatever a file holds, every kept range is
// valid and found again by a Map, and every rejected entry names the
// file and its line.
func fuzzParse(f *testing.F, path string) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ranges, rejected, err := parseFile(path, data)
		if err != nil {
			if ranges != nil {
				t.Fatalf("ranges returned with error %v", err)
			}
			return
		}
		for _, e := range rejected {
			var ee *EntryError
			if !errors.As(e, &ee) || ee.Path != path || ee.Line < 1 {
				t.Fatalf("rejected entry without file and line: %v", e)
			}
		}
		checkRanges(t, ranges)
	})
}

func FuzzParseAWSIPRanges(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ranges, err := parseAWSIPRanges("ip-ranges.json", data)
		if err != nil {
			return
		}
		for _, r := range ranges {
			if r.Segment != "" || !slices.Contains(r.Tags, "aws") {
				t.Fatalf("AWS range %+v", r)
			}
		}
		checkRanges(t, ranges)
	})
}

func checkRanges(t *testing.T, ranges []Range) {
	t.Helper()
	m := NewMap(ranges)
	for _, r := range ranges {
		if !r.Prefix.IsValid() || r.Prefix != r.Prefix.Masked() || r.Prefix.Addr().Is4In6() {
			t.Fatalf("kept a bad prefix: %+v", r)
		}
		if r.Segment != "" && checkWord(r.Segment) != nil {
			t.Fatalf("kept a bad segment: %+v", r)
		}
		tags, _ := m.Lookup(r.Prefix.Addr())
		for _, tag := range r.Tags {
			if checkWord(tag) != nil {
				t.Fatalf("kept a bad tag: %+v", r)
			}
			if _, found := slices.BinarySearch(tags, tag); !found {
				t.Fatalf("Lookup(%s) = %q, without %q of %s", r.Prefix.Addr(), tags, tag, r.Prefix)
			}
		}
	}
}
