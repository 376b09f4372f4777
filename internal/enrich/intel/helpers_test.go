package intel

import (
	"os"
	"slices"
	"testing"
	"time"
)

// testNow is the load time of feeds in tests, for valid_until.
var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

// load writes content to a file named file in a temporary directory, made
// the working directory so that errors name the file as tests expect, and
// loads it as a feed named "test".
func load(t *testing.T, cfg FeedConfig, file, content string) (*Feed, error) {
	t.Helper()
	t.Chdir(t.TempDir())
	cfg.Path = file
	if err := os.WriteFile(cfg.Path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	return loadFeed(cfg, testNow)
}

func mustLoad(t *testing.T, cfg FeedConfig, file, content string) *Feed {
	t.Helper()
	f, err := load(t, cfg, file, content)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// kept lists a feed's indicators as written, sorted.
func kept(f *Feed) []string {
	var out []string
	for _, e := range f.v4 {
		out = append(out, f.indicator(e.ind))
	}
	for _, e := range f.v6 {
		out = append(out, f.indicator(e.ind))
	}
	for _, e := range f.prefixes {
		out = append(out, f.indicator(e.ind))
	}
	for _, e := range f.domains {
		out = append(out, f.indicator(e.ind))
	}
	slices.Sort(out)
	return out
}

func errorStrings(errs []error) []string {
	var out []string
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}
