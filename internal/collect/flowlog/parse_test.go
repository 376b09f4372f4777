package flowlog

import (
	"strings"
	"testing"
)

// splitFields cuts as strings.FieldsFunc at spaces does, across the
// 8-byte words it reads.
func TestSplitFields(t *testing.T) {
	for _, line := range []string{"", " ", "a", "a b", "  a  b  ", acceptLine, allFieldsRecord, "abcdefgh ijklmnop  qrstuvw x", strings.Repeat("x ", 40)} {
		got, ok := splitFields([]byte(line), nil, 200)
		want := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' })
		if !ok || len(got) != len(want) {
			t.Fatalf("%q: %q, want %q", line, got, want)
		}
		for i := range got {
			if string(got[i]) != want[i] {
				t.Fatalf("%q: %q, want %q", line, got, want)
			}
		}
	}
	if _, ok := splitFields([]byte("a b c"), nil, 2); ok {
		t.Error("three fields fit in two")
	}
}
