package sessionfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store/duckdb/sessionfile"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// TestWriteFails: a write or concatenation that fails leaves neither
// the file nor its temporary file behind.
func TestWriteFails(t *testing.T) {
	recs := pointers(storetest.NewGenerator(1).Records(100))
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	var w sessionfile.Writer
	if _, err := w.Write(good, recs); err != nil {
		t.Fatal(err)
	}
	notParquet := filepath.Join(dir, "not.parquet")
	if err := os.WriteFile(notParquet, []byte("PAR1 but not much else"), 0o644); err != nil {
		t.Fatal(err)
	}
	otherSchema := filepath.Join(dir, "other.parquet")
	if _, err := openStore(t).SQL.Exec("COPY (SELECT 1::BIGINT AS end_us) TO '" + otherSchema + "' (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		write func(t *testing.T, path string) error
		want  string // in the error
	}{
		{"no records", func(t *testing.T, path string) error { _, err := w.Write(path, nil); return err }, sessionfile.ErrEmpty.Error()},
		{"no sources", func(t *testing.T, path string) error { _, err := sessionfile.Concat(path, nil); return err }, sessionfile.ErrEmpty.Error()},
		{"no directory", func(t *testing.T, path string) error {
			_, err := w.Write(filepath.Join(filepath.Dir(path), "missing", "f.parquet"), recs)
			return err
		}, "no such file"},
		{"a directory in the way", func(t *testing.T, path string) error { // fails at the rename, after the data is written
			if err := os.MkdirAll(filepath.Join(path, "sub"), 0o755); err != nil {
				return err
			}
			_, err := w.Write(path, recs)
			return err
		}, "file exists"},
		{"read-only directory", func(t *testing.T, path string) error {
			if os.Geteuid() == 0 {
				t.Skip("root writes anywhere")
			}
			if err := os.Chmod(filepath.Dir(path), 0o555); err != nil {
				return err
			}
			defer os.Chmod(filepath.Dir(path), 0o755)
			_, err := w.Write(path, recs)
			return err
		}, "permission denied"},
		{"a source not Parquet", func(t *testing.T, path string) error {
			_, err := sessionfile.Concat(path, []string{good, notParquet})
			return err
		}, "no Parquet magic"},
		{"a source missing", func(t *testing.T, path string) error {
			_, err := sessionfile.Concat(path, []string{good, filepath.Join(dir, "gone.parquet")})
			return err
		}, "no such file"},
		{"another schema", func(t *testing.T, path string) error {
			_, err := sessionfile.Concat(path, []string{good, otherSchema})
			return err
		}, "schema differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := t.TempDir()
			path := filepath.Join(sub, "f.parquet")
			err := tc.write(t, path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if tc.want == sessionfile.ErrEmpty.Error() && !errors.Is(err, sessionfile.ErrEmpty) {
				t.Errorf("error %v is not ErrEmpty", err)
			}
			if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
				t.Errorf("temporary file left: %v", err)
			}
			if st, err := os.Stat(path); err == nil && !st.IsDir() {
				t.Error("file written")
			}
		})
	}
}
