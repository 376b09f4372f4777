package profile

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse: any input either fails with an error or gives profiles that
// export, re-import to the same profiles and compile into a detector.
// The seed corpus (testdata/fuzz/FuzzParse) holds the example profiles
// and a few broken ones.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Export(&out, ps); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("export", out.Bytes())
		if err != nil {
			t.Fatalf("re-import: %v\n%s", err, out.String())
		}
		if d := cmp.Diff(ps, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip (-import +re-import):\n%s", d)
		}
		if _, err := NewFromProfiles(DefaultConfig(), ps); err != nil {
			t.Fatal(err)
		}
	})
}
