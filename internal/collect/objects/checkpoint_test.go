package objects

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	cp, err := loadCheckpoint(path)
	if err != nil {
		t.Fatalf("a missing checkpoint: %v", err)
	}
	err = cp.update(func() bool {
		st := cp.prefix("s3://b/p/")
		st.after, st.done["p/3"], st.failed["p/1"] = "p/2", true, true
		cp.files["/logs/a"] = stamp{Size: 10, MTime: 1234567890123456789}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := checkpointFile{
		S3:    map[string]prefixFile{"s3://b/p/": {After: "p/2", Done: []string{"p/3"}, Failed: []string{"p/1"}}},
		Files: map[string]stamp{"/logs/a": {Size: 10, MTime: 1234567890123456789}},
	}
	if diff := cmp.Diff(want, loadFile(t, path)); diff != "" {
		t.Errorf("reloaded (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
}

func TestCheckpointRefusesWhatItCannotRead(t *testing.T) {
	for name, data := range map[string]string{
		"torn":          `{"version":1,"s3":{"s3://b/":{"after":"k`,
		"other version": `{"version":2}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp.json")
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := loadCheckpoint(path); err == nil {
				t.Error("loaded; starting over would read every object again")
			}
		})
	}
}
