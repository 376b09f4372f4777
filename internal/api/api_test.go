package api

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

type apiErr struct {
	Error Error `json:"error"`
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}
	return v
}

// Bad input gets 400 in the one error shape, naming the parameter (and,
// for a filter, the column).
func TestBadInput(t *testing.T) {
	f := shared
	viewer := f.secrets["alpha"][Viewer]
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		param                    string
		column                   int
	}{
		{"filter type", "GET", "/api/v1/sessions?filter=" + url.QueryEscape("dst.port > http"), "", 400, "filter", 12},
		{"filter field", "GET", "/api/v1/sessions/top?dimension=app&filter=" + url.QueryEscape("dst.prot = 22"), "", 400, "filter", 1},
		{"unknown parameter", "GET", "/api/v1/sessions?limt=5", "", 400, "limt", 0},
		{"repeated parameter", "GET", "/api/v1/sessions?limit=5&limit=6", "", 400, "limit", 0},
		{"limit", "GET", "/api/v1/findings?limit=100000", "", 400, "limit", 0},
		{"since", "GET", "/api/v1/sessions?since=yesterday", "", 400, "since", 0},
		{"range", "GET", "/api/v1/sessions/top?dimension=app&since=1h&until=2h", "", 400, "until", 0},
		{"dimension", "GET", "/api/v1/sessions/top?dimension=colour", "", 400, "dimension", 0},
		{"dimension required", "GET", "/api/v1/sessions/top", "", 400, "dimension", 0},
		{"step", "GET", "/api/v1/sessions/series?step=30s", "", 400, "step", 0},
		{"measure", "GET", "/api/v1/sessions/matrix?by=furlongs", "", 400, "by", 0},
		{"severity", "GET", "/api/v1/findings?severity=dire", "", 400, "severity", 0},
		{"cursor", "GET", "/api/v1/sessions?cursor=zzz", "", 400, "cursor", 0},
		{"findings cursor", "GET", "/api/v1/findings?cursor=zzz", "", 400, "cursor", 0},
		{"devices cursor", "GET", "/api/v1/devices?cursor=zzz", "", 400, "cursor", 0},
		{"no route", "GET", "/api/v1/nothing", "", 404, "", 0},
		{"method", "PUT", "/api/v1/sessions", "", 405, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.method, tc.path, viewer, tc.body)
			if code != tc.status {
				t.Fatalf("%d, want %d: %s", code, tc.status, body)
			}
			e := decode[apiErr](t, body).Error
			if e.Code == "" || e.Message == "" || e.Param != tc.param || e.Column != tc.column {
				t.Errorf("error %+v, want param %q column %d", e, tc.param, tc.column)
			}
		})
	}
	analyst := f.secrets["alpha"][Analyst]
	for _, tc := range []struct{ name, body, param string }{
		{"verdict value", `{"verdict": "maybe"}`, "verdict"},
		{"unknown field", `{"verdict": "true_positive", "notes": "x"}`, "notes"},
		{"field type", `{"verdict": 1}`, "verdict"},
		{"empty", ``, "body"},
	} {
		code, body := f.do(t, "POST", "/api/v1/findings/f-alpha-08/verdict", analyst, tc.body)
		if e := decode[apiErr](t, body).Error; code != 400 || e.Param != tc.param {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, code, body, tc.param)
		}
	}
	code, body := f.do(t, "POST", "/api/v1/policies/validate", analyst, "version: 1\nrules:\n  - name: x\n    deny: {to: {prot: 22}}\n")
	check := decode[PolicyCheck](t, body)
	if code != 200 || check.Valid || check.Error == nil || check.Error.Line != 4 || !strings.Contains(check.Error.Field, "prot") {
		t.Errorf("invalid policy: %d %s", code, body)
	}
}

// Pages follow one another through their cursors without repeats or
// gaps, on every paged list.
func TestPagination(t *testing.T) {
	f := shared
	viewer := f.secrets["bravo"][Viewer]
	for _, tc := range []struct {
		path string
		want int
		id   func(json.RawMessage) string
	}{
		{"/api/v1/sessions?limit=37", 400, func(m json.RawMessage) string { var s schema.Session; json.Unmarshal(m, &s); return s.UID }},
		{"/api/v1/findings?limit=7&detector=policy", 30, func(m json.RawMessage) string { var x schema.Finding; json.Unmarshal(m, &x); return x.ID }},
		{"/api/v1/devices?limit=2", 5, func(m json.RawMessage) string { var x schema.Device; json.Unmarshal(m, &x); return x.ID }},
	} {
		seen := map[string]bool{}
		next, pages := "", 0
		for {
			p := tc.path
			if next != "" {
				p += "&cursor=" + url.QueryEscape(next)
			}
			code, body := f.do(t, "GET", p, viewer, "")
			if code != 200 {
				t.Fatalf("%s: %d %s", p, code, body)
			}
			page := decode[List[json.RawMessage]](t, body)
			for _, it := range page.Items {
				id := tc.id(it)
				if seen[id] {
					t.Errorf("%s: %s twice", tc.path, id)
				}
				seen[id] = true
			}
			pages++
			if next = page.Next; next == "" {
				break
			}
		}
		if len(seen) != tc.want || pages < 2 {
			t.Errorf("%s: %d items in %d pages, want %d", tc.path, len(seen), pages, tc.want)
		}
	}
}

// A false-positive verdict without a live engine closes the finding and
// its like in the store, saves a suppression the tenant can list and
// remove, and leaves the other tenant alone.
func TestFalsePositive(t *testing.T) {
	f := shared
	analyst := f.secrets["alpha"][Analyst]
	code, body := f.do(t, "POST", "/api/v1/findings/fp-alpha/verdict", analyst, `{"verdict": "false_positive", "note": "the scanner"}`)
	if code != 200 {
		t.Fatalf("verdict: %d %s", code, body)
	}
	res := decode[VerdictResult](t, body)
	if res.Finding.State != detect.FalsePositive || res.Suppression == nil || res.Closed != 1 || res.Suppression.Tenant != "alpha" {
		t.Fatalf("verdict: %s", body)
	}
	sups, err := detect.ReadSuppressionFile(f.sups)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sups {
		found = found || s.ID == res.Suppression.ID
	}
	if !found {
		t.Fatalf("suppression %s not saved to %s", res.Suppression.ID, f.sups)
	}
	if fd := findingOf(t, f, "bravo", "fp-bravo"); fd.State != "active" {
		t.Errorf("bravo's finding is %s", fd.State)
	}
	_, body = f.do(t, "GET", "/api/v1/suppressions", f.secrets["alpha"][Viewer], "")
	if !strings.Contains(body, res.Suppression.ID) {
		t.Errorf("suppression not listed: %s", body)
	}
	if _, body = f.do(t, "GET", "/api/v1/suppressions", f.secrets["bravo"][Viewer], ""); strings.Contains(body, res.Suppression.ID) {
		t.Errorf("bravo lists alpha's suppression: %s", body)
	}
	if code, body := f.do(t, "DELETE", "/api/v1/suppressions/"+res.Suppression.ID, f.secrets["bravo"][Admin], ""); code != 404 {
		t.Errorf("bravo deleted alpha's suppression: %d %s", code, body)
	}
	if code, body := f.do(t, "DELETE", "/api/v1/suppressions/"+res.Suppression.ID, analyst, ""); code != 204 {
		t.Errorf("delete: %d %s", code, body)
	}
	if _, body = f.do(t, "GET", "/api/v1/suppressions", analyst, ""); strings.Contains(body, res.Suppression.ID) {
		t.Errorf("deleted suppression still listed: %s", body)
	}
	// Cleared findings cannot be acknowledged.
	if code, body := f.do(t, "POST", "/api/v1/findings/fp-alpha/ack", analyst, ""); code != 409 {
		t.Errorf("ack of a closed finding: %d %s", code, body)
	}
}

// Ingested metrics land in the caller's tenant.
func TestIngest(t *testing.T) {
	f := shared
	lines := `{"device": "ingest-thing", "name": "aws:num-established-tcp-connections", "value": 9, "time": "2026-03-10T11:00:00Z"}
{"device": "ingest-thing", "name": "aws:num-established-tcp-connections", "value": 11, "time": "2026-03-10T11:05:00Z"}`
	if code, body := f.do(t, "POST", "/api/v1/ingest/metrics", f.secrets["bravo"][Ingest], lines); code != 202 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	for tenant, want := range map[string]int{"bravo": 1, "alpha": 0} {
		pts, err := f.st.Series(t.Context(), store.SeriesQuery{Scope: store.Scope{Tenant: tenant}, Metric: "aws:num-established-tcp-connections",
			Device: "ingest-thing", Agg: "max", Step: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != want || (want == 1 && pts[0].Value != 11) {
			t.Errorf("%s: %v", tenant, pts)
		}
	}
	if code, body := f.do(t, "POST", "/api/v1/ingest/metrics", f.secrets["bravo"][Ingest], `[{"device": "", "name": "x"}]`); code != 400 || !strings.Contains(body, `"param":"body[0].device"`) {
		t.Errorf("bad metric: %d %s", code, body)
	}
}

// Tokens are kept as hashes in a 0600 file; revoked and expired ones
// are refused; a token created through the API belongs to the caller's
// tenant.
func TestTokens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	toks, err := OpenTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := toks.Create("ci", "alpha", Viewer, now.Add(time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "osp_") || len(secret) != 4+43 {
		t.Errorf("secret %q", secret)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), secret) || strings.Contains(string(data), secret[4:]) {
		t.Error("the token file holds the secret")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode().Perm())
	}
	// Another process (osprey token create) sees it; a reader picks up changes.
	other, err := OpenTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.Authenticate(secret, now); err != nil || got.ID != tok.ID || got.Tenant != "alpha" || got.Role != Viewer {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if _, err := other.Authenticate(secret, now.Add(2*time.Hour)); err != ErrTokenExpired {
		t.Errorf("expired: %v", err)
	}
	if err := other.Flush(); err != nil {
		t.Fatal(err)
	}
	list, _ := toks.List("alpha")
	if len(list) != 1 || !list[0].LastUsed.Equal(now) || list[0].Hash != "" {
		t.Errorf("list after use: %+v", list)
	}
	if err := toks.Revoke(tok.ID, "bravo"); err != ErrNoToken {
		t.Errorf("revoke from another tenant: %v", err)
	}
	if err := toks.Revoke(tok.ID, "alpha"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Authenticate(secret, now); err != ErrNoToken {
		t.Errorf("revoked token: %v", err)
	}

	f := shared
	code, body := f.do(t, "POST", "/api/v1/tokens", f.secrets["bravo"][Admin], `{"name": "console", "role": "analyst", "expires_in": "90d"}`)
	nt := decode[NewToken](t, body)
	if code != 201 || nt.Tenant != "bravo" || nt.Role != Analyst || !nt.Expires.Equal(now.Add(90*24*time.Hour)) {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/api/v1/whoami", nt.Secret, ""); code != 200 || !strings.Contains(body, `"tenant":"bravo"`) {
		t.Errorf("new token: %d %s", code, body)
	}
}

// With a certificate the API speaks TLS 1.2 or later only.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	srv, err := New(Config{Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key}, Deps{Store: shared.st, Tokens: shared.tokens, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("URL %s", srv.URL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+shared.secrets["alpha"][Viewer])
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("%d %v", resp.StatusCode, resp.TLS)
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(srv.URL() + "/api/v1/openapi.json"); err == nil {
		resp.Body.Close()
		t.Error("TLS 1.1 accepted")
	}
}
