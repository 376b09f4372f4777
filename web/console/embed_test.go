package console

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	js := "console.log(1);" + strings.Repeat(" // padding", 200)
	h := New(fstest.MapFS{
		"dist/app/index.html":            {Data: []byte("<!doctype html><title>app</title>")},
		"dist/app/assets/index-abc12.js": {Data: []byte(js)},
		"dist/app/favicon.svg":           {Data: []byte("<svg/>")},
	}, "dist/app")
	if !h.Built() {
		t.Fatal("Built() = false with an index.html")
	}
	for _, tc := range []struct {
		name, method, path, gzip string
		status                   int
		ctype, cache, body       string
	}{
		{"root is the app", "GET", "/", "", 200, "text/html; charset=utf-8", "no-cache", "<title>app</title>"},
		{"app route falls back to index", "GET", "/findings", "", 200, "text/html; charset=utf-8", "no-cache", "<title>app</title>"},
		{"device id with dots and colons", "GET", "/devices/ip:10.0.0.5", "", 200, "text/html; charset=utf-8", "no-cache", "<title>app</title>"},
		{"hashed asset is immutable", "GET", "/assets/index-abc12.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log(1);"},
		{"hashed asset gzipped", "GET", "/assets/index-abc12.js", "gzip, deflate", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log(1);"},
		{"other file", "GET", "/favicon.svg", "", 200, "image/svg+xml", "public, max-age=3600", "<svg/>"},
		{"missing asset is 404", "GET", "/assets/gone-123.js", "", 404, "text/plain; charset=utf-8", "", "not found"},
		{"missing file is 404", "GET", "/robots.txt", "", 404, "text/plain; charset=utf-8", "", "not found"},
		{"HEAD", "HEAD", "/sessions", "", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"POST refused", "POST", "/", "", 405, "text/plain; charset=utf-8", "", "method not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.gzip != "" {
				req.Header.Set("Accept-Encoding", tc.gzip)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if got := res.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := res.Header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			var body io.Reader = res.Body
			if res.Header.Get("Content-Encoding") == "gzip" {
				if tc.gzip == "" {
					t.Fatal("gzip without Accept-Encoding")
				}
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			} else if tc.gzip != "" {
				t.Error("no gzip although accepted")
			}
			b, _ := io.ReadAll(body)
			if !strings.Contains(string(b), tc.body) {
				t.Errorf("body %.80q does not hold %q", b, tc.body)
			}
		})
	}
}

func TestHandlerCSPOnPages(t *testing.T) {
	h := New(fstest.MapFS{"dist/app/index.html": {Data: []byte("<!doctype html>")}}, "dist/app")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/overview", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/overview", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %s: status %d, want 304", etag, rec.Code)
	}
}

func TestPlaceholderWithoutBuild(t *testing.T) {
	h := New(fstest.MapFS{"dist/.keep": {Data: []byte("x")}}, "dist/app")
	if h.Built() {
		t.Fatal("Built() = true without a build")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/findings", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "built without the web console") {
		t.Errorf("status %d, body %.100q: want the placeholder", rec.Code, rec.Body.String())
	}
}
