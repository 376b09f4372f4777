package api

import (
	"strings"
	"testing"
)

// The web console answers outside /api/ without a token (the built app
// or its placeholder); the API keeps its own 404 under /api/ and for
// other methods.
func TestConsoleRoot(t *testing.T) {
	f := shared
	for _, tc := range []struct{ name, method, path string }{
		{"root", "GET", "/"},
		{"app route", "GET", "/findings"},
		{"device page", "GET", "/devices/ip:10.0.0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.method, tc.path, "", "")
			if code != 200 || !strings.Contains(body, "<html") {
				t.Fatalf("%d, %.120q: want the console's page", code, body)
			}
		})
	}
	for _, tc := range []struct{ name, method, path string }{
		{"unknown API path", "GET", "/api/v2/sessions"},
		{"POST outside the API", "POST", "/findings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.method, tc.path, "", "")
			if e := decode[apiErr](t, body).Error; code != 404 || e.Code != CodeNotFound {
				t.Errorf("%d %s: want the API's 404", code, body)
			}
		})
	}
}
