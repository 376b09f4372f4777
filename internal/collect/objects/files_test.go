package objects

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// write creates path (and its directories) with name's content.
func write(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content(path), 0o644); err != nil {
		t.Fatal(err)
	}
}

// age sets path's modification time back, as for a file that was
// written long ago.
func age(t *testing.T, path string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func fileConfig(dir string, paths ...string) Config {
	cfg := DefaultConfig()
	cfg.Paths = paths
	cfg.Checkpoint = filepath.Join(dir, "checkpoint.json")
	cfg.Backoff = 5 * time.Millisecond
	return cfg
}

func once(t *testing.T, cfg Config) *recorder {
	t.Helper()
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err != nil {
		t.Fatalf("Once: %v", err)
	}
	return rec
}

func TestFilesOnceRestartChangeAndPrune(t *testing.T) {
	logs, state := t.TempDir(), t.TempDir()
	a, b := filepath.Join(logs, "a.log"), filepath.Join(logs, "sub", "b.log")
	for _, p := range []string{a, b, filepath.Join(logs, ".a.log.partial"), filepath.Join(logs, "sub", ".tmp", "c.log")} {
		write(t, p)
	}
	cfg := fileConfig(state, logs)
	reg := prometheus.NewRegistry()
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ones(a, b), rec.readCounts()); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	if got := counter(t, reg, "osprey_collect_objects_read_total", filesSource); got != 2 {
		t.Errorf("read_total %v, want 2", got)
	}

	if got := once(t, cfg).readCounts(); len(got) != 0 {
		t.Errorf("a restart read %v again", got)
	}

	d := filepath.Join(logs, "sub", "d.log")
	write(t, d)
	if err := os.WriteFile(a, []byte("rewritten\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ones(a, d), once(t, cfg).readCounts()); diff != "" {
		t.Errorf("after a new file and a rewrite (-want +got):\n%s", diff)
	}

	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	once(t, cfg)
	files := loadFile(t, cfg.Checkpoint).Files
	if _, ok := files[b]; ok || len(files) != 2 {
		t.Errorf("checkpoint keeps %v, want a.log and d.log only", files)
	}
}

func TestFilesGlobAndSingleFile(t *testing.T) {
	logs, state := t.TempDir(), t.TempDir()
	in := []string{
		filepath.Join(logs, "eu-west-1", "2024", "f1.log.gz"),
		filepath.Join(logs, "us-east-1", "2024", "f2.log.gz"),
		filepath.Join(logs, "single.csv"),
	}
	out := []string{
		filepath.Join(logs, "eu-west-1", "f3.log.gz"),
		filepath.Join(logs, "eu-west-1", "2024", "notes.txt"),
		filepath.Join(logs, "other.csv"),
	}
	for _, p := range append(in, out...) {
		write(t, p)
	}
	cfg := fileConfig(state, filepath.Join(logs, "*", "2024", "*.gz"), filepath.Join(logs, "single.csv"))
	if diff := cmp.Diff(ones(in...), once(t, cfg).readCounts()); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
}

func TestFilesOnceReportsAMissingPath(t *testing.T) {
	cfg := fileConfig(t.TempDir(), filepath.Join(t.TempDir(), "nothing-here"))
	src, err := New(cfg, newRecorder().handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err == nil {
		t.Error("Once succeeded on a path that does not exist")
	}
}

// Following a directory: a file already there, one written in place in
// slow pieces, one renamed into place, one in a directory made after the
// start; each is read once, whole. A restart reads none of them again.
func TestFilesFollow(t *testing.T) {
	logs, state := t.TempDir(), t.TempDir()
	old := filepath.Join(logs, "old.log")
	write(t, old)
	age(t, old)
	cfg := fileConfig(state, logs)
	cfg.Follow = true
	cfg.Settle = 1500 * time.Millisecond
	cfg.Poll = time.Hour // file events alone, no rescans
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	stop := startRun(t, src)
	eventually(t, "the file already there", func() bool { return rec.readCounts()[old] == 1 })

	slow := filepath.Join(logs, "slow.log")
	f, err := os.Create(slow)
	if err != nil {
		t.Fatal(err)
	}
	want := content(slow)
	for i := 0; i < len(want); i += len(want) / 10 {
		if _, err := f.Write(want[i:min(i+len(want)/10, len(want))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.Close()

	renamed := filepath.Join(logs, "renamed.log")
	staging := filepath.Join(logs, ".renamed.log.tmp")
	if err := os.WriteFile(staging, content(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(staging, renamed); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(logs, "2024", "05", "01", "nested.log")
	write(t, nested)

	eventually(t, "the new files", func() bool { return len(rec.readCounts()) == 4 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ones(old, slow, renamed, nested), rec.readCounts()); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	for _, p := range []string{slow, renamed, nested} {
		if got := rec.content(p); !cmp.Equal(got, content(p)) {
			t.Errorf("%s read as %d bytes, want %d: read before it was complete", p, len(got), len(content(p)))
		}
	}

	// A restart: the files read are skipped, a new one is read.
	rec2 := newRecorder()
	src2, err := New(cfg, rec2.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	stop = startRun(t, src2)
	later := filepath.Join(logs, "later.log")
	write(t, later)
	eventually(t, "the file written after the restart", func() bool { return rec2.readCounts()[later] == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ones(later), rec2.readCounts()); diff != "" {
		t.Errorf("reads after the restart (-want +got):\n%s", diff)
	}
}

// A path that does not exist yet has no watch: its files are found by
// the rescan at each poll.
func TestFilesFollowByRescan(t *testing.T) {
	logs, state := t.TempDir(), t.TempDir()
	cfg := fileConfig(state, filepath.Join(logs, "later", "*.log"))
	cfg.Follow = true
	cfg.Settle = 100 * time.Millisecond
	cfg.Poll = 50 * time.Millisecond
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	stop := startRun(t, src)
	late := filepath.Join(logs, "later", "late.log")
	write(t, late)
	eventually(t, "the file", func() bool { return rec.readCounts()[late] == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
