package objects

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeS3 is a real S3 API server (gofakes3) in process. Its clock sets
// the objects' LastModified; it records each listing's query.
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server
	clock   *clock

	mu       sync.Mutex
	listings []map[string]string // start-after and continuation-token of each ListObjectsV2
}

const testBucket = "flowlogs"

func newFakeS3(t *testing.T, now time.Time) *fakeS3 {
	t.Helper()
	f := &fakeS3{clock: &clock{now: now}}
	f.backend = s3mem.New(s3mem.WithTimeSource(f.clock))
	if err := f.backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	api := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("list-type") == "2" {
			f.mu.Lock()
			f.listings = append(f.listings, map[string]string{"start-after": q.Get("start-after"), "continuation-token": q.Get("continuation-token")})
			f.mu.Unlock()
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) put(t *testing.T, key string) {
	t.Helper()
	body := content(key)
	if _, err := f.backend.PutObject(testBucket, key, nil, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// listingRequests returns the ListObjectsV2 requests so far.
func (f *fakeS3) listingRequests() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.listings)
}

// config reads the fake bucket with small pages, quick polls and retries.
func (f *fakeS3) config(dir string) Config {
	cfg := DefaultConfig()
	cfg.S3 = []S3Config{{Bucket: testBucket, Region: "eu-west-1", Endpoint: f.srv.URL, PathStyle: true,
		AccessKey: "AKIDTEST", SecretKey: "SECRET", MaxKeys: 100}}
	cfg.Checkpoint = filepath.Join(dir, "checkpoint.json")
	cfg.Poll = 20 * time.Millisecond
	cfg.Backoff = 5 * time.Millisecond
	cfg.TempDir = dir
	return cfg
}

// clock is a settable gofakes3.TimeSource, safe across goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// content is an object's body, derived from its name so that a handler
// can tell a whole read from a partial one.
func content(name string) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("record of %s\n", name)), 20)
}

// recorder is a handler that reads each object whole and counts the
// calls and the successful reads by object name. fail, if set, decides
// per call whether to fail it.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	reads map[string]int
	data  map[string][]byte // the last content read
	fail  func(ctx context.Context, obj Object, call int) error
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, reads: map[string]int{}, data: map[string][]byte{}}
}

func (r *recorder) handle(ctx context.Context, obj Object) error {
	r.mu.Lock()
	r.calls[obj.Name]++
	call := r.calls[obj.Name]
	r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(ctx, obj, call); err != nil {
			return err
		}
	}
	rc, err := obj.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if int64(len(got)) != obj.Size {
		return fmt.Errorf("%s: read %d bytes, listed %d", obj.Name, len(got), obj.Size)
	}
	r.mu.Lock()
	r.reads[obj.Name]++
	r.data[obj.Name] = got
	r.mu.Unlock()
	return nil
}

func (r *recorder) readCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.reads)
}

func (r *recorder) content(name string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data[name]
}

func (r *recorder) callCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.calls)
}

// ones is each name read once.
func ones(names ...string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n] = 1
	}
	return m
}

func s3Names(keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = "s3://" + testBucket + "/" + k
	}
	return out
}

// eventually waits up to ten seconds for cond; the machine may be loaded.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// counter returns a metric's value for source, 0 when absent.
func counter(t *testing.T, reg *prometheus.Registry, name, source string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// startRun runs src until the test ends or stop is called, whichever is
// first; stop returns Run's error.
func startRun(t *testing.T, src *Source) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("Run did not return after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}
