package webhook

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
)

const secret = "s3cr3t"

// receiver is a webhook receiver as docs/outputs.md tells users to write
// one: it verifies the signature and the timestamp, and refuses what
// does not verify. fail, when set, answers instead for the nth request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	bodies   []string
	headers  []http.Header
	fail     func(n int, w http.ResponseWriter) bool
	got      chan struct{}
}

func newReceiver(t *testing.T, fail func(int, http.ResponseWriter) bool) *receiver {
	rc := &receiver{fail: fail, got: make(chan struct{}, 1024)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests++
		n := rc.requests
		rc.mu.Unlock()
		if rc.fail != nil && rc.fail(n, w) {
			return
		}
		if err := Verify([]byte(secret), r.Header.Get("X-Osprey-Timestamp"), r.Header.Get("X-Osprey-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, string(body))
		rc.headers = append(rc.headers, r.Header.Clone())
		rc.mu.Unlock()
		rc.got <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for range n {
		select {
		case <-rc.got:
		case <-deadline:
			t.Fatalf("receiver got %d requests, want %d", len(rc.bodies), n)
		}
	}
}

func testFindings(n int) []schema.Finding {
	out := make([]schema.Finding, n)
	for i := range out {
		out[i] = schema.Finding{ID: string(rune('a'+i)) + "1", Tenant: "acme", Detector: "horizontal-scan", Rule: "horizontal-scan",
			Severity: "high", State: "active", Time: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC),
			Entities: []string{"ip:10.99.0.9", "port:22"}, Evidence: json.RawMessage(`{"summary":"10.99.0.9 probed 60 hosts on 22/tcp"}`)}
	}
	return out
}

// newOutput is a webhook output to url with fast retries.
func newOutput(t *testing.T, wc Config, dir string) (*deliver.Output, *prometheus.Registry) {
	t.Helper()
	if err := wc.Validate(); err != nil {
		t.Fatal(err)
	}
	w, err := New(wc)
	if err != nil {
		t.Fatal(err)
	}
	c := deliver.DefaultConfig()
	c.Name, c.Type = "soc", "webhook"
	c.Queue.Dir = dir
	c.Retry = deliver.RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	reg := prometheus.NewRegistry()
	m, err := deliver.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	o, err := deliver.NewOutput(c, w.Encoder(), w, deliver.Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return o, reg
}

func config(url string) Config {
	c := DefaultConfig()
	c.URL, c.Secret = url, secret
	return c
}

// TestWebhookDelivers: the default body is the Finding's JSON, signed;
// headers, kind and delivery id are set.
func TestWebhookDelivers(t *testing.T) {
	rc := newReceiver(t, nil)
	c := config(rc.URL)
	c.Headers = map[string]string{"X-Team": "soc"}
	c.BearerToken = "tok"
	o, _ := newOutput(t, c, t.TempDir())
	r := deliver.NewRouter(o)
	r.Start(t.Context())
	in := testFindings(3)
	r.WriteFindings(t.Context(), in)
	rc.wait(t, 3)
	r.Close()
	for i, b := range rc.bodies {
		var f schema.Finding
		if err := json.Unmarshal([]byte(b), &f); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in[i], f); diff != "" {
			t.Error(diff)
		}
		h := rc.headers[i]
		for k, want := range map[string]string{"X-Team": "soc", "Authorization": "Bearer tok", "X-Osprey-Kind": "finding", "Content-Type": "application/json"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if len(h.Get("X-Osprey-Delivery")) != 32 {
			t.Errorf("X-Osprey-Delivery %q", h.Get("X-Osprey-Delivery"))
		}
	}
}

// TestWebhookRetries: 503 with Retry-After, 500 and a dropped connection
// are retried and the records arrive; a 400 goes to the dead letter
// without a retry, and the records after it still arrive.
func TestWebhookRetries(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case 2:
			http.Error(w, "oops", http.StatusInternalServerError)
		case 3:
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		case 5:
			http.Error(w, "bad finding", http.StatusBadRequest)
		default:
			return false
		}
		return true
	})
	dir := t.TempDir()
	o, m := newOutput(t, config(rc.URL), dir)
	r := deliver.NewRouter(o)
	r.Start(t.Context())
	in := testFindings(3)
	r.WriteFindings(t.Context(), in)
	rc.wait(t, 2)
	r.Close()
	var ids []string
	for _, b := range rc.bodies {
		var f schema.Finding
		json.Unmarshal([]byte(b), &f)
		ids = append(ids, f.ID)
	}
	// Request 4 delivers a1; request 5 refuses b1; request 6 delivers c1.
	if diff := cmp.Diff([]string{"a1", "c1"}, ids); diff != "" {
		t.Error(diff)
	}
	if n := value(t, m, "osprey_output_failed_total", map[string]string{"output": "soc", "reason": deliver.FailRejected}); n != 1 {
		t.Errorf("failed_total{rejected} = %v", n)
	}
	dead, _ := os.ReadFile(filepath.Join(dir, "dead-letter.jsonl"))
	if !strings.Contains(string(dead), `"id":"b1"`) || !strings.Contains(string(dead), "400 Bad Request: bad finding") {
		t.Errorf("dead letter: %s", dead)
	}
}

// TestWebhookSignatureRejected: a wrong secret is a 401, which is a
// permanent failure: the receiver is never asked twice.
func TestWebhookSignatureRejected(t *testing.T) {
	rc := newReceiver(t, nil)
	c := config(rc.URL)
	c.Secret = "wrong"
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rec := deliver.Record{Kind: deliver.KindFinding, Data: []byte(`{}`)}
	n, err := w.Send(t.Context(), []deliver.Record{rec, rec})
	var pe *deliver.PermanentError
	if n != 0 || !errors.As(err, &pe) || pe.Records != 1 || !strings.Contains(err.Error(), "401") {
		t.Errorf("Send = %d, %v", n, err)
	}
}

// TestWebhookTemplate renders a Slack-like body.
func TestWebhookTemplate(t *testing.T) {
	rc := newReceiver(t, nil)
	c := config(rc.URL)
	c.Template = `{"text": {{json (printf "[%s] %s: %s" (upper .Severity) .Detector (evidence .).summary)}}}`
	o, _ := newOutput(t, c, t.TempDir())
	r := deliver.NewRouter(o)
	r.Start(t.Context())
	r.WriteFindings(t.Context(), testFindings(1))
	rc.wait(t, 1)
	r.Close()
	if want := `{"text": "[HIGH] horizontal-scan: 10.99.0.9 probed 60 hosts on 22/tcp"}`; rc.bodies[0] != want {
		t.Errorf("body %s\nwant %s", rc.bodies[0], want)
	}
}

// TestWebhookBasicAuthTLS: basic auth over TLS with the test server's CA.
func TestWebhookBasicAuthTLS(t *testing.T) {
	var auth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		auth = u + ":" + p
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writeCert(t, ca, srv)
	c := DefaultConfig()
	c.URL = srv.URL
	c.BasicAuth = &BasicAuth{Username: "osprey", Password: "pw"}
	c.TLS.CAFile = ca
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(t.Context(), []deliver.Record{{Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if auth != "osprey:pw" {
		t.Errorf("basic auth %q", auth)
	}
	// Without the CA the server's certificate is not trusted.
	c.TLS.CAFile = ""
	w, _ = New(c)
	if _, err := w.Send(t.Context(), []deliver.Record{{Data: []byte(`{}`)}}); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.URL = "ftp://x" }, "url:"},
		{func(c *Config) { c.SecretFile = "/x" }, "secret_file:"},
		{func(c *Config) { c.BearerToken, c.BasicAuth = "t", &BasicAuth{Username: "u"} }, "basic_auth:"},
		{func(c *Config) { c.Template = "{{.Nope" }, "template:"},
		{func(c *Config) { c.Timeout = 0 }, "timeout:"},
		{func(c *Config) { c.TLS.CertFile = "c.pem" }, "tls.cert_file:"},
		{func(c *Config) { c.Headers = map[string]string{"Bad Header": "x"} }, "headers:"},
	} {
		c := config("https://hooks.example/osprey")
		tc.mod(&c)
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"120": 2 * time.Minute, " 5 ": 5 * time.Second, "": 0, "soon": 0, "-3": 0,
		"Sun, 01 Mar 2026 12:00:30 GMT": 30 * time.Second, "Sun, 01 Mar 2026 11:00:00 GMT": 0,
	} {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1772366400, 0)
	body := []byte(`{"id":"a1"}`)
	sig := Sign([]byte(secret), now.Unix(), body)
	ts := "1772366400"
	for _, tc := range []struct {
		name          string
		ts, sig, body string
		at            time.Time
		want          error
	}{
		{"valid", ts, sig, string(body), now, nil},
		{"valid within tolerance", ts, sig, string(body), now.Add(4 * time.Minute), nil},
		{"replayed later", ts, sig, string(body), now.Add(6 * time.Minute), ErrStale},
		{"body changed", ts, sig, `{"id":"a2"}`, now, ErrBadSignature},
		{"timestamp changed", "1772366401", sig, string(body), now, ErrBadSignature},
	} {
		err := Verify([]byte(secret), tc.ts, tc.sig, []byte(tc.body), tc.at, 5*time.Minute)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := Verify([]byte(secret), "yesterday", sig, body, now, time.Minute); err == nil {
		t.Error("a bad timestamp verified")
	}
}

// value reads one sample of a metric family from reg.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func writeCert(t *testing.T, path string, srv *httptest.Server) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
