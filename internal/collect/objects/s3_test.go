package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
)

// hourAgo is older than the default reorder window, so the checkpoint's
// position moves over objects as soon as they are read.
var hourAgo = time.Now().Add(-2 * time.Hour)

func keys(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/05/01/f-%05d.log.gz", i))
	}
	return out
}

func loadFile(t *testing.T, path string) checkpointFile {
	t.Helper()
	cp, err := loadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	f := checkpointFile{S3: map[string]prefixFile{}, Files: cp.files}
	for id, st := range cp.s3 {
		f.S3[id] = prefixFile{After: st.after, Done: sortedKeys(st.done), Failed: sortedKeys(st.failed)}
	}
	return f
}

func TestS3OncePagesAndRestartsAfterCheckpoint(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	first := keys(0, 1050)
	for _, k := range first {
		s3.put(t, k)
	}
	dir := t.TempDir()
	cfg := s3.config(dir)
	cfg.S3[0].MaxKeys = 250
	reg := prometheus.NewRegistry()
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err != nil {
		t.Fatalf("Once: %v", err)
	}
	if diff := cmp.Diff(ones(s3Names(first...)...), rec.readCounts()); diff != "" {
		t.Fatalf("first run's reads (-want +got):\n%s", diff)
	}
	if n := len(s3.listingRequests()); n != 5 {
		t.Errorf("%d listing requests for 1050 keys in pages of 250, want 5", n)
	}
	id := cfg.S3[0].id()
	if got, want := loadFile(t, cfg.Checkpoint).S3[id], (prefixFile{After: first[len(first)-1]}); !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
		t.Errorf("checkpoint %+v, want %+v", got, want)
	}
	for name, want := range map[string]float64{
		"osprey_collect_objects_listed_total": 1050, "osprey_collect_objects_read_total": 1050,
		"osprey_collect_objects_failed_total": 0, "osprey_collect_objects_bytes_total": float64(1050 * len(content(first[0]))),
		"osprey_collect_objects_lag_seconds": 0,
	} {
		if got := counter(t, reg, name, id); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	// A restart lists only what comes after the checkpoint's position.
	added := keys(1050, 1055)
	for _, k := range added {
		s3.put(t, k)
	}
	before := len(s3.listingRequests())
	rec2 := newRecorder()
	src2, err := New(cfg, rec2.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src2.Once(context.Background()); err != nil {
		t.Fatalf("second Once: %v", err)
	}
	if diff := cmp.Diff(ones(s3Names(added...)...), rec2.readCounts()); diff != "" {
		t.Errorf("second run's reads (-want +got):\n%s", diff)
	}
	if got := s3.listingRequests()[before:]; len(got) != 1 || got[0]["start-after"] != first[len(first)-1] {
		t.Errorf("second run's listings %v, want one starting after %s", got, first[len(first)-1])
	}
}

func TestS3FollowReadsObjectsAddedBetweenPolls(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	for _, k := range keys(0, 3) {
		s3.put(t, k)
	}
	cfg := s3.config(t.TempDir())
	cfg.Follow = true
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	stop := startRun(t, src)
	eventually(t, "the first three objects", func() bool { return len(rec.readCounts()) == 3 })
	polls := len(s3.listingRequests())
	for _, k := range keys(3, 6) {
		s3.put(t, k)
	}
	eventually(t, "the objects added later", func() bool { return len(rec.readCounts()) == 6 })
	eventually(t, "two more polls", func() bool { return len(s3.listingRequests()) >= polls+2 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(ones(s3Names(keys(0, 6)...)...), rec.readCounts()); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
}

func TestS3HandlerFailsOnceThenSucceeds(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	all := keys(0, 4)
	for _, k := range all {
		s3.put(t, k)
	}
	cfg := s3.config(t.TempDir())
	reg := prometheus.NewRegistry()
	rec := newRecorder()
	flaky := s3Names(all[1])[0]
	rec.fail = func(_ context.Context, obj Object, call int) error {
		if obj.Name == flaky && call == 1 {
			return errors.New("store busy")
		}
		return nil
	}
	var given []error
	src, err := New(cfg, rec.handle, Deps{Metrics: reg, OnError: func(_ Object, err error) { given = append(given, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err != nil {
		t.Fatalf("Once: %v", err)
	}
	if diff := cmp.Diff(ones(s3Names(all...)...), rec.readCounts()); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	if rec.callCounts()[flaky] != 2 || len(given) != 0 {
		t.Errorf("flaky object called %d times, given up %v; want 2 calls, none given up", rec.callCounts()[flaky], given)
	}
	id := cfg.S3[0].id()
	if r, f := counter(t, reg, "osprey_collect_objects_retries_total", id), counter(t, reg, "osprey_collect_objects_failed_total", id); r != 1 || f != 0 {
		t.Errorf("retries %v failed %v, want 1 and 0", r, f)
	}
	if got := loadFile(t, cfg.Checkpoint).S3[id]; got.After != all[3] || len(got.Failed) != 0 {
		t.Errorf("checkpoint %+v, want after %s and nothing failed", got, all[3])
	}
}

func TestS3GivenUpObjectIsReadOnTheNextRun(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	all := keys(0, 4)
	for _, k := range all {
		s3.put(t, k)
	}
	cfg := s3.config(t.TempDir())
	cfg.Retries = 2
	bad := s3Names(all[1])[0]
	rec := newRecorder()
	rec.fail = func(_ context.Context, obj Object, _ int) error {
		if obj.Name == bad {
			return errors.New("corrupt gzip")
		}
		return nil
	}
	var given []error
	src, err := New(cfg, rec.handle, Deps{OnError: func(_ Object, err error) { given = append(given, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err == nil {
		t.Error("Once succeeded with an object given up")
	}
	var oe *ObjectError
	if len(given) != 1 || !errors.As(given[0], &oe) || oe.Name != bad || oe.Attempts != 3 {
		t.Fatalf("given up %v, want %s once after 3 attempts", given, bad)
	}
	if rec.callCounts()[bad] != 3 || len(rec.readCounts()) != 3 {
		t.Errorf("calls %v reads %v", rec.callCounts(), rec.readCounts())
	}
	// The position moved over it (all are old), but it is kept as failed.
	id := cfg.S3[0].id()
	if got, want := loadFile(t, cfg.Checkpoint).S3[id], (prefixFile{After: all[3], Failed: all[1:2]}); !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
		t.Errorf("checkpoint %+v, want %+v", got, want)
	}

	rec2 := newRecorder()
	src2, err := New(cfg, rec2.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src2.Once(context.Background()); err != nil {
		t.Fatalf("second Once: %v", err)
	}
	if diff := cmp.Diff(ones(bad), rec2.readCounts()); diff != "" {
		t.Errorf("second run's reads (-want +got):\n%s", diff)
	}
	if got, want := loadFile(t, cfg.Checkpoint).S3[id], (prefixFile{After: all[3]}); !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
		t.Errorf("checkpoint after the retry %+v, want %+v", got, want)
	}
}

// A crash while an object is read: the run ends (its context) with the
// handler in the middle of one object. The next run, from the checkpoint
// alone, reads that object and the ones after it, none before.
func TestS3CrashRereadsExactlyTheUnfinishedObject(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	all := keys(0, 8)
	for _, k := range all {
		s3.put(t, k)
	}
	cfg := s3.config(t.TempDir())
	cfg.Concurrency = 1
	ctx, crash := context.WithCancel(context.Background())
	victim := s3Names(all[4])[0]
	rec := newRecorder()
	rec.fail = func(ctx context.Context, obj Object, _ int) error {
		if obj.Name == victim {
			crash()
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Once returned %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(ones(s3Names(all[:4]...)...), rec.readCounts()); diff != "" {
		t.Fatalf("reads before the crash (-want +got):\n%s", diff)
	}

	rec2 := newRecorder()
	src2, err := New(cfg, rec2.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src2.Once(context.Background()); err != nil {
		t.Fatalf("Once after the crash: %v", err)
	}
	if diff := cmp.Diff(ones(s3Names(all[4:]...)...), rec2.readCounts()); diff != "" {
		t.Errorf("reads after the crash (-want +got):\n%s", diff)
	}
}

// Objects that finish out of order: the position stays below the one
// still being read, the others are kept as done, and a crash at that
// moment rereads only the unfinished one.
func TestS3OutOfOrderCompletion(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	all := keys(0, 6)
	for _, k := range all {
		s3.put(t, k)
	}
	dir := t.TempDir()
	cfg := s3.config(dir)
	cfg.Concurrency = 3
	slow := s3Names(all[1])[0]
	release := make(chan struct{})
	rec := newRecorder()
	rec.fail = func(ctx context.Context, obj Object, _ int) error {
		if obj.Name == slow {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- src.Once(context.Background()) }()
	id := cfg.S3[0].id()
	want := prefixFile{After: all[0], Done: all[2:]}
	eventually(t, "every object but the slow one recorded", func() bool {
		return cmp.Equal(loadFile(t, cfg.Checkpoint).S3[id], want, cmpopts.EquateEmpty())
	})
	crashed := filepath.Join(dir, "crashed.json")
	data, err := os.ReadFile(cfg.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crashed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Once: %v", err)
	}
	if got, want := loadFile(t, cfg.Checkpoint).S3[id], (prefixFile{After: all[5]}); !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
		t.Errorf("final checkpoint %+v, want %+v", got, want)
	}

	// A run from the checkpoint as it was mid-way.
	cfg.Checkpoint = crashed
	rec2 := newRecorder()
	src2, err := New(cfg, rec2.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src2.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ones(slow), rec2.readCounts()); diff != "" {
		t.Errorf("reads from the mid-way checkpoint (-want +got):\n%s", diff)
	}
}

// A key that appears after a key sorting above it was read is still read
// within the reorder window; with no window it is passed over, which is
// what the window is for.
func TestS3ReorderWindow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		window   time.Duration
		wantLate bool
	}{
		{"within the window", time.Hour, true},
		{"no window", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s3 := newFakeS3(t, time.Now().Add(-time.Minute))
			all := keys(0, 3)
			s3.put(t, all[2])
			cfg := s3.config(t.TempDir())
			cfg.Follow = true
			cfg.ReorderWindow = tc.window
			rec := newRecorder()
			src, err := New(cfg, rec.handle, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			stop := startRun(t, src)
			eventually(t, "the first object", func() bool { return len(rec.readCounts()) == 1 })
			polls := len(s3.listingRequests())
			eventually(t, "a complete poll after the read", func() bool { return len(s3.listingRequests()) >= polls+2 })
			s3.clock.set(time.Now())
			s3.put(t, all[0]) // late, and sorting before what was read
			polls = len(s3.listingRequests())
			if tc.wantLate {
				eventually(t, "the late object", func() bool { return len(rec.readCounts()) == 2 })
			} else {
				eventually(t, "three more polls", func() bool { return len(s3.listingRequests()) >= polls+3 })
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			want := ones(s3Names(all[2])...)
			if tc.wantLate {
				want = ones(s3Names(all[0], all[2])...)
			}
			if diff := cmp.Diff(want, rec.readCounts()); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
		})
	}
}

func TestS3OpenFileDownloadsAndRemovesTheCopy(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	key := keys(0, 1)[0]
	s3.put(t, key)
	dir := t.TempDir()
	cfg := s3.config(dir)
	cfg.TempDir = filepath.Join(dir, "tmp")
	if err := os.Mkdir(cfg.TempDir, 0o755); err != nil {
		t.Fatal(err)
	}
	want := content(key)
	var got []byte
	var size int64
	var copies int
	src, err := New(cfg, func(ctx context.Context, obj Object) error {
		f, err := obj.OpenFile(ctx)
		if err != nil {
			return err
		}
		defer f.Close()
		entries, _ := os.ReadDir(cfg.TempDir)
		copies, size = len(entries), f.Size()
		tail := make([]byte, 20)
		if _, err := f.ReadAt(tail, size-20); err != nil {
			return err
		}
		head, err := io.ReadAll(io.LimitReader(f, size-20))
		got = append(head, tail...)
		return err
	}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(want, got) || size != int64(len(want)) || copies != 1 {
		t.Errorf("read %q (size %d, %d copies), want %q (one copy)", got, size, copies, want)
	}
	if entries, _ := os.ReadDir(cfg.TempDir); len(entries) != 0 {
		t.Errorf("the downloaded copy is left behind: %v", entries)
	}
}

// One source of each kind: both are read, each with its own metrics.
func TestFilesAndS3Together(t *testing.T) {
	s3 := newFakeS3(t, hourAgo)
	key := keys(0, 1)[0]
	s3.put(t, key)
	logs := t.TempDir()
	file := filepath.Join(logs, "a.log")
	write(t, file)
	cfg := s3.config(t.TempDir())
	cfg.Paths = []string{logs}
	reg := prometheus.NewRegistry()
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ones(file, s3Names(key)[0]), rec.readCounts()); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	for _, source := range []string{filesSource, cfg.S3[0].id()} {
		if got := counter(t, reg, "osprey_collect_objects_read_total", source); got != 1 {
			t.Errorf("read_total{source=%q} = %v, want 1", source, got)
		}
	}
}

func TestCheckpointInAMissingDirectoryFailsTheStart(t *testing.T) {
	cfg := fileConfig(t.TempDir(), t.TempDir())
	cfg.Checkpoint = filepath.Join(t.TempDir(), "no", "such", "dir", "cp.json")
	rec := newRecorder()
	src, err := New(cfg, rec.handle, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Once(context.Background()); err == nil {
		t.Error("Once started without a place for its checkpoint")
	}
}
