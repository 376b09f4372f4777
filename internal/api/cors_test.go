package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCORS: an allowed origin gets its own origin back and its
// preflight answered; another origin, or a request without one, gets no
// CORS header and reaches the API as it is; with no origins configured
// nothing changes.
func TestCORS(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, tc := range []struct {
		name, method, origin, preflight string
		origins                         []string
		status                          int
		allow                           string
	}{
		{"allowed", "GET", "https://grafana.example.com", "", []string{"https://grafana.example.com"}, http.StatusTeapot, "https://grafana.example.com"},
		{"preflight", "OPTIONS", "https://grafana.example.com", "POST", []string{"https://grafana.example.com"}, http.StatusNoContent, "https://grafana.example.com"},
		{"any", "GET", "http://localhost:3000", "", []string{"*"}, http.StatusTeapot, "http://localhost:3000"},
		{"other origin", "GET", "https://evil.example.com", "", []string{"https://grafana.example.com"}, http.StatusTeapot, ""},
		{"other origin's preflight", "OPTIONS", "https://evil.example.com", "DELETE", []string{"https://grafana.example.com"}, http.StatusTeapot, ""},
		{"no origin", "GET", "", "", []string{"*"}, http.StatusTeapot, ""},
		{"not configured", "OPTIONS", "https://grafana.example.com", "GET", nil, http.StatusTeapot, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/api/v1/findings", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.preflight != "" {
				r.Header.Set("Access-Control-Request-Method", tc.preflight)
			}
			w := httptest.NewRecorder()
			cors(tc.origins, api).ServeHTTP(w, r)
			h := w.Header()
			if w.Code != tc.status || h.Get("Access-Control-Allow-Origin") != tc.allow {
				t.Fatalf("status %d, Allow-Origin %q; want %d, %q", w.Code, h.Get("Access-Control-Allow-Origin"), tc.status, tc.allow)
			}
			if tc.origins != nil && h.Get("Vary") != "Origin" {
				t.Errorf("Vary %q: a shared cache would hand one origin's answer to another", h.Get("Vary"))
			}
			preflight := tc.status == http.StatusNoContent
			if got := h.Get("Access-Control-Allow-Headers"); (got == "Authorization, Content-Type") != preflight {
				t.Errorf("Allow-Headers %q", got)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials allowed")
			}
		})
	}
}
