package objects

import (
	"path/filepath"
	"testing"
)

func TestPattern(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, path string
		covers, enters      bool
	}{
		{"file in a directory", "/logs", "/logs/a.log", true, true},
		{"file deep in a directory", "/logs", "/logs/2024/05/a.log", true, true},
		{"the directory itself", "/logs", "/logs", true, true},
		{"a sibling with the same prefix", "/logs", "/logsold/a.log", false, false},
		{"a hidden file", "/logs", "/logs/.a.log.tmp", false, false},
		{"a file in a hidden directory", "/logs", "/logs/.staging/a.log", false, false},
		{"a file named alone", "/logs/a.csv", "/logs/a.csv", true, true},
		{"its neighbour", "/logs/a.csv", "/logs/b.csv", false, false},
		{"glob match", "/logs/*/2024/*.gz", "/logs/eu/2024/a.gz", true, true},
		{"glob's directory on the way", "/logs/*/2024/*.gz", "/logs/eu", false, true},
		{"glob's directory off the way", "/logs/*/2024/*.gz", "/logs/eu/2023", false, false},
		{"glob too shallow", "/logs/*/2024/*.gz", "/logs/eu/a.gz", false, false},
		{"glob's other extension", "/logs/*/2024/*.gz", "/logs/eu/2024/a.txt", false, false},
		{"below a directory the glob matches", "/logs/*", "/logs/eu/2024/a.gz", true, true},
		{"glob at the root", "/*.log", "/a.log", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newPattern(filepath.FromSlash(tc.pattern))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.FromSlash(tc.path)
			if got := p.covers(path); got != tc.covers {
				t.Errorf("covers(%s) = %v, want %v", tc.path, got, tc.covers)
			}
			if got := p.enters(path); got != tc.enters {
				t.Errorf("enters(%s) = %v, want %v", tc.path, got, tc.enters)
			}
		})
	}
}
