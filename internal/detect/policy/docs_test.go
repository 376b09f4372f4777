package policy

import (
	"os"
	"strings"
	"testing"
)

// TestDocsExample loads the example of docs/policies.md, so that the
// documentation shows a file that works.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	p, err := Load("segmentation.yaml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.rules) + len(p.allows); n != 8 {
		t.Errorf("%d rules, want the example's 8", n)
	}
}
