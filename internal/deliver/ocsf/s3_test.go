package ocsf

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/parquet-go/parquet-go"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

const testBucket = "security-lake"

// fakeS3 is a real S3 API server (gofakes3) in process; fail, when set,
// answers a PUT instead of the server.
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server
	mu      sync.Mutex
	puts    []*http.Request
	fail    func(r *http.Request, w http.ResponseWriter) bool
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	if err := f.backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	api := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			f.mu.Lock()
			f.puts = append(f.puts, r)
			fail := f.fail
			f.mu.Unlock()
			if fail != nil && fail(r, w) {
				return
			}
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) setFail(fail func(r *http.Request, w http.ResponseWriter) bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

// objects reads every object of the bucket: key → lines.
// keys lists the bucket's objects.
func (f *fakeS3) keys(t *testing.T) []string {
	t.Helper()
	list, err := f.backend.ListBucket(testBucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range list.Contents {
		out = append(out, c.Key)
	}
	return out
}

func (f *fakeS3) objects(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, key := range f.keys(t) {
		obj, err := f.backend.GetObject(testBucket, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(obj.Contents)
		obj.Contents.Close()
		if strings.HasSuffix(key, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			b, _ = io.ReadAll(zr)
		}
		out[key] = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	return out
}

func (f *fakeS3) config() Config {
	c := DefaultConfig()
	c.Destination = "s3"
	c.S3.Bucket, c.S3.Prefix, c.S3.AccountID, c.S3.Region = testBucket, "ext/osprey", "123456789012", "eu-west-1"
	c.S3.Endpoint, c.S3.PathStyle, c.S3.AccessKey, c.S3.SecretKey = f.srv.URL, true, "AKIDTEST", "SECRET"
	c.S3.Timeout = 5 * time.Second
	return c
}

func newS3(t *testing.T, c Config) *Destination {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var keyPattern = regexp.MustCompile(`^ext/osprey/region=eu-west-1/accountId=123456789012/eventDay=(\d{8})/(network_activity|detection_finding)/[0-9a-f-]{36}\.json\.gz$`)

// TestS3Delivers: a batch becomes one gzipped object per class and
// event day, keyed as Security Lake lays out partitions; every line is
// a valid event.
func TestS3Delivers(t *testing.T) {
	f := newFakeS3(t)
	d := newS3(t, f.config())
	defer d.Close()
	recs := records(t, 20)
	// Four sessions of the next day.
	enc := testEncoder()
	s := testSessions()["dns over udp"]
	s.Start, s.End = t0.Add(24*time.Hour), t0.Add(24*time.Hour+time.Second)
	for i := range 4 {
		recs = append(recs, deliver.Record{Seq: uint64(21 + i), Kind: deliver.KindSession, Data: encode(t, enc, sessionEvent(&s))})
	}
	if n, err := d.Send(t.Context(), recs); n != len(recs) || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	got := map[string]int{}
	for key, lines := range f.objects(t) {
		m := keyPattern.FindStringSubmatch(key)
		if m == nil {
			t.Errorf("key %s", key)
			continue
		}
		got[m[1]+" "+m[2]] += len(lines)
		for _, l := range lines {
			checkValid(t, key, []byte(l))
		}
	}
	want := map[string]int{"20260301 network_activity": 16, "20260301 detection_finding": 4, "20260302 network_activity": 4}
	if !mapsEqual(got, want) {
		t.Errorf("lines per day and class %v, want %v", got, want)
	}
	for _, r := range f.puts {
		if ct := r.Header.Get("Content-Type"); ct != "application/gzip" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestS3KeyTemplate: a template of its own, plain JSON, hourly.
func TestS3KeyTemplate(t *testing.T) {
	f := newFakeS3(t)
	c := f.config()
	c.S3.Prefix, c.S3.Gzip = "", false
	c.S3.KeyTemplate = "{class_uid}/{day}/{hour}/{uuid}{ext}"
	d := newS3(t, c)
	if n, err := d.Send(t.Context(), records(t, 5)); n != 5 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	var keys []string
	for k := range f.objects(t) {
		keys = append(keys, regexp.MustCompile(`[0-9a-f-]{36}`).ReplaceAllString(k, "U"))
	}
	slices.Sort(keys)
	if want := []string{"2004/20260301/12/U.json", "4001/20260301/12/U.json"}; !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	if ct := f.puts[0].Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestS3Errors: how each failure is classified for the delivery loop.
func TestS3Errors(t *testing.T) {
	f := newFakeS3(t)
	for _, tc := range []struct {
		name        string
		status      int
		code        string
		unavailable bool
		config      bool
	}{
		{"internal error", 500, "InternalError", true, false},
		{"slow down", 503, "SlowDown", true, false},
		{"throttled", 429, "TooManyRequests", true, false},
		{"access denied", 403, "AccessDenied", true, true},
		{"wrong region", 400, "AuthorizationHeaderMalformed", true, true},
		{"expired token", 400, "ExpiredToken", true, true},
		{"bad request", 400, "InvalidArgument", false, false},
	} {
		f.setFail(func(r *http.Request, w http.ResponseWriter) bool {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(tc.status)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+tc.code+`</Code><Message>no</Message></Error>`)
			return true
		})
		d := newS3(t, f.config())
		n, err := d.Send(t.Context(), records(t, 3))
		var pe *deliver.PermanentError
		if n != 0 || err == nil || errors.Is(err, deliver.ErrUnavailable) != tc.unavailable || errors.Is(err, ErrConfig) != tc.config || errors.As(err, &pe) {
			t.Errorf("%s: Send = %d, %v", tc.name, n, err)
		}
	}
	f.setFail(nil)

	// A bucket that does not exist is the configuration's fault.
	c := f.config()
	c.S3.Bucket = "nope"
	d := newS3(t, c)
	if _, err := d.Send(t.Context(), records(t, 1)); !errors.Is(err, ErrConfig) || !errors.Is(err, deliver.ErrUnavailable) {
		t.Errorf("no such bucket: %v", err)
	}
	// A PutObject past s3.timeout is an outage.
	f.setFail(func(r *http.Request, w http.ResponseWriter) bool {
		// The server notices the client's going only once the body is
		// read.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return true
	})
	c = f.config()
	c.S3.Timeout = 50 * time.Millisecond
	d = newS3(t, c)
	if _, err := d.Send(t.Context(), records(t, 1)); errors.Is(err, ErrConfig) || !errors.Is(err, deliver.ErrUnavailable) {
		t.Errorf("timeout: %v", err)
	}
	f.setFail(nil)
	// No server at all is an outage.
	c = f.config()
	c.S3.Endpoint = "http://127.0.0.1:1"
	d = newS3(t, c)
	if _, err := d.Send(t.Context(), records(t, 1)); errors.Is(err, ErrConfig) || !errors.Is(err, deliver.ErrUnavailable) {
		t.Errorf("connection refused: %v", err)
	}
}

// TestS3PartialFailure: one object of a batch fails; what was stored is
// not stored again by the retry.
func TestS3PartialFailure(t *testing.T) {
	f := newFakeS3(t)
	d := newS3(t, f.config())
	failing := true
	f.setFail(func(r *http.Request, w http.ResponseWriter) bool {
		if failing && strings.Contains(r.URL.Path, "network_activity") {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	recs := records(t, 10)
	n, err := d.Send(t.Context(), recs)
	if n != 0 || !errors.Is(err, deliver.ErrUnavailable) {
		t.Fatalf("Send = %d, %v", n, err)
	}
	failing = false
	if n, err := d.Send(t.Context(), recs); n != 10 || err != nil {
		t.Fatalf("retry: Send = %d, %v", n, err)
	}
	lines := map[string]int{}
	for key, l := range f.objects(t) {
		lines[keyPattern.FindStringSubmatch(key)[2]] += len(l)
	}
	if want := map[string]int{"network_activity": 8, "detection_finding": 2}; !mapsEqual(lines, want) {
		t.Errorf("lines %v, want %v (no duplicates)", lines, want)
	}
}

// TestS3Parquet: with format parquet a batch becomes one Parquet object
// per class and event day, named .parquet, each holding its records
// (read back by DuckDB in TestParquetReadsAsTheJSON).
func TestS3Parquet(t *testing.T) {
	f := newFakeS3(t)
	c := f.config()
	c.S3.Format = "parquet"
	d := newS3(t, c)
	defer d.Close()
	recs := records(t, 20)
	if n, err := d.Send(t.Context(), recs); n != len(recs) || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	pattern := regexp.MustCompile(`^ext/osprey/region=eu-west-1/accountId=123456789012/eventDay=20260301/(network_activity|detection_finding)/[0-9a-f-]{36}\.parquet$`)
	got := map[string]int{}
	for _, key := range f.keys(t) {
		m := pattern.FindStringSubmatch(key)
		if m == nil {
			t.Fatalf("key %s", key)
		}
		obj, err := f.backend.GetObject(testBucket, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(obj.Contents)
		obj.Contents.Close()
		pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		got[m[1]] += int(pf.NumRows())
	}
	if want := map[string]int{"network_activity": 16, "detection_finding": 4}; !mapsEqual(got, want) {
		t.Errorf("rows per class %v, want %v", got, want)
	}
	for _, r := range f.puts {
		if ct := r.Header.Get("Content-Type"); ct != "application/vnd.apache.parquet" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}
