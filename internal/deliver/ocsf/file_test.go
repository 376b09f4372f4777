package ocsf

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// readLines reads a JSON-lines file, gunzipping .gz files.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("%s: last line not terminated", path)
	}
	return lines
}

// records encodes n events (sessions, with a finding every fifth) as a
// queue would hand them to Send.
func records(t testing.TB, n int) []deliver.Record {
	enc := testEncoder()
	s := testSessions()["tls closed"]
	f := testFindings(t)["raised"]
	out := make([]deliver.Record, n)
	for i := range out {
		var ev *deliver.Event
		if i%5 == 4 {
			ev = findingEvent(&f)
		} else {
			s.Seq = uint32(i)
			ev = sessionEvent(&s)
		}
		b, err := enc.Encode(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = deliver.Record{Seq: uint64(i + 1), Kind: ev.Kind, Queued: t0, Data: b}
	}
	return out
}

func fileConfig(path string) Config {
	c := DefaultConfig()
	c.Destination = "file"
	c.File.Path = path
	return c
}

// TestFileThroughOutput: sessions and findings routed through a
// deliver.Output land in one file per class, every line a valid event.
func TestFileThroughOutput(t *testing.T) {
	dir := t.TempDir()
	c := fileConfig(filepath.Join(dir, "ocsf", "osprey-{class}.jsonl"))
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	oc := deliver.DefaultConfig()
	oc.Name, oc.Type, oc.Kinds = "lake", "ocsf", []string{"findings", "sessions"}
	oc.Queue.Dir = filepath.Join(dir, "queue")
	o, err := deliver.NewOutput(oc, d.Encoder(), d, deliver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := deliver.NewRouter(o)
	r.Start(t.Context())
	var sessions []schema.Session
	for _, s := range testSessions() {
		sessions = append(sessions, s)
	}
	var findings []schema.Finding
	for _, f := range testFindings(t) {
		findings = append(findings, f)
	}
	r.Sessions().WriteSessions(t.Context(), sessions)
	r.WriteFindings(t.Context(), findings)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if o.Left() != 0 {
		t.Fatalf("%d records left in the queue", o.Left())
	}
	for class, want := range map[string]int{"network_activity": len(sessions), "detection_finding": len(findings)} {
		lines := readLines(t, filepath.Join(dir, "ocsf", "osprey-"+class+".jsonl"))
		if len(lines) != want {
			t.Errorf("%s: %d lines, want %d", class, len(lines), want)
		}
		for i, l := range lines {
			checkValid(t, class+" line "+string(rune('0'+i)), []byte(l))
		}
	}
}

// TestFileRotatesBySize: a batch that would pass max_bytes starts a new
// file; the old one is renamed with its opening time and gzipped;
// max_files keeps the newest; no line is lost or torn.
func TestFileRotatesBySize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ocsf.jsonl")
	c := fileConfig(path)
	c.File.MaxBytes, c.File.MaxFiles, c.File.MaxAge = 16<<10, 3, 0
	d, _ := New(c)
	fs := d.sink.(*fileSink)
	clock := t0
	fs.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	recs := records(t, 60)
	for i := 0; i < len(recs); i += 2 {
		if n, err := d.Send(t.Context(), recs[i:i+2]); n != 2 || err != nil {
			t.Fatalf("Send = %d, %v", n, err)
		}
	}
	d.Close()
	ents, _ := os.ReadDir(dir)
	var rotated []string
	for _, e := range ents {
		if e.Name() != "ocsf.jsonl" {
			rotated = append(rotated, e.Name())
		}
	}
	if len(rotated) != 3 {
		t.Fatalf("rotated files %v, want max_files = 3", rotated)
	}
	re := rotatedPattern(path)
	for _, name := range rotated {
		if !re.MatchString(name) || !strings.HasSuffix(name, ".jsonl.gz") {
			t.Errorf("rotated name %s", name)
		}
	}
	// The kept files and the current one hold the newest records, in
	// order and whole.
	var lines []string
	for _, name := range append(rotated, "ocsf.jsonl") {
		p := filepath.Join(dir, name)
		if st, _ := os.Stat(p); !strings.HasSuffix(name, ".gz") && st.Size() > int64(c.File.MaxBytes) {
			t.Errorf("%s: %d bytes, more than max_bytes", name, st.Size())
		}
		lines = append(lines, readLines(t, p)...)
	}
	want := recs[len(recs)-len(lines):]
	for i, l := range lines {
		if l != string(want[i].Data) {
			t.Fatalf("line %d of the kept files is not record %d", i, want[i].Seq)
		}
	}
	if len(lines) < 20 {
		t.Errorf("%d lines kept", len(lines))
	}
	if c := d.Counts(); c["pruned"] == 0 || c["rotated"] != c["pruned"]+uint64(len(rotated)) {
		t.Errorf("counts %v, with %d rotated files kept", c, len(rotated))
	}
}

// TestFileRotatesByAge: a write to a file older than max_age rotates it
// first, and an idle file is rotated when it reaches max_age; an empty
// one is not.
func TestFileRotatesByAge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ocsf.jsonl")
	c := fileConfig(path)
	c.File.Gzip = false
	c.File.MaxAge = time.Hour
	d, _ := New(c)
	fs := d.sink.(*fileSink)
	var mu sync.Mutex
	clock := t0
	fs.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	recs := records(t, 3)
	d.Send(t.Context(), recs[:1])
	mu.Lock()
	clock = clock.Add(61 * time.Minute)
	mu.Unlock()
	d.Send(t.Context(), recs[1:2])
	rotated := filepath.Join(dir, "ocsf-20260301T120000.000Z.jsonl")
	if lines := readLines(t, rotated); len(lines) != 1 || lines[0] != string(recs[0].Data) {
		t.Errorf("rotated file: %q", lines)
	}
	if lines := readLines(t, path); len(lines) != 1 || lines[0] != string(recs[1].Data) {
		t.Errorf("current file: %q", lines)
	}
	d.Close()

	// The timer: a short max_age rotates the idle file on its own.
	c.File.MaxAge = 20 * time.Millisecond
	path2 := filepath.Join(dir, "idle.jsonl")
	c.File.Path = path2
	d, _ = New(c)
	defer d.Close()
	d.Send(t.Context(), recs[2:3])
	deadline := time.Now().Add(10 * time.Second)
	for {
		names, _ := filepath.Glob(filepath.Join(dir, "idle-*.jsonl"))
		if len(names) == 1 {
			if lines := readLines(t, names[0]); len(lines) != 1 {
				t.Errorf("idle rotated file: %q", lines)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the idle file was not rotated")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The new file stays empty and is not rotated again.
	time.Sleep(60 * time.Millisecond)
	if names, _ := filepath.Glob(filepath.Join(dir, "idle-*")); len(names) != 1 {
		t.Errorf("rotated files %v: an empty file was rotated", names)
	}
}

// TestFilePartialFailure: when one class's file cannot be written the
// other's still is, Send reports only the front written, the error is
// an outage, and the retry writes the rest without duplicating what
// was written.
func TestFilePartialFailure(t *testing.T) {
	dir := t.TempDir()
	c := fileConfig(filepath.Join(dir, "{class}", "ocsf.jsonl"))
	d, _ := New(c)
	defer d.Close()
	// A file where the sessions' directory should be.
	block := filepath.Join(dir, "network_activity")
	os.WriteFile(block, nil, 0o600)
	recs := records(t, 10) // findings at 4 and 9
	n, err := d.Send(t.Context(), recs)
	if n != 0 || !errors.Is(err, deliver.ErrUnavailable) {
		t.Fatalf("Send = %d, %v; want 0 and an outage", n, err)
	}
	os.Remove(block)
	if n, err := d.Send(t.Context(), recs); n != 10 || err != nil {
		t.Fatalf("retry: Send = %d, %v", n, err)
	}
	if lines := readLines(t, filepath.Join(dir, "detection_finding", "ocsf.jsonl")); len(lines) != 2 {
		t.Errorf("%d findings written, want 2 (no duplicates)", len(lines))
	}
	if lines := readLines(t, filepath.Join(dir, "network_activity", "ocsf.jsonl")); len(lines) != 8 {
		t.Errorf("%d sessions written, want 8", len(lines))
	}
	if len(d.done) != 0 {
		t.Errorf("done set %v after a full send", d.done)
	}
}

// TestFileAppendsAcrossRestarts: a new destination appends to the file
// the last one left.
func TestFileAppendsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ocsf.jsonl")
	recs := records(t, 4)
	for i := range 2 {
		d, _ := New(fileConfig(path))
		d.Send(t.Context(), recs[2*i:2*i+2])
		d.Close()
	}
	lines := readLines(t, path)
	if !slices.Equal(lines, []string{string(recs[0].Data), string(recs[1].Data), string(recs[2].Data), string(recs[3].Data)}) {
		t.Errorf("lines %q", lines)
	}
}
