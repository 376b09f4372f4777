package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// benchServer is the API over a DuckDB store of 100 000 generated
// session records over one day (storetest.Generator: 5 000 devices, 2 000
// servers), for the dashboard endpoints. The 10 M-session P95 benchmark
// is the store's (internal/store/storebench).
func benchServer(b *testing.B) (*Server, string, time.Time) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	st, err := duckdb.Open(ctx, filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	g := storetest.NewGenerator(7)
	g.Every = 864 * time.Millisecond // 100 000 a day
	for range 10 {
		if _, err := st.WriteSessions(ctx, g.Records(10000)); err != nil {
			b.Fatal(err)
		}
	}
	end := storetest.Base.Add(24 * time.Hour)
	toks, err := OpenTokens(filepath.Join(dir, "tokens.json"))
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := toks.Create("bench", "default", Viewer, time.Time{}, end)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{}, Deps{Store: st, Tokens: toks, Registry: prometheus.NewRegistry(), Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	return srv, secret, end
}

func benchGet(b *testing.B, srv *Server, secret, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, w.Code, w.Body)
	}
}

// BenchmarkDashboard times the calls a console's overview makes, each
// over the whole day, on the rollups.
func BenchmarkDashboard(b *testing.B) {
	srv, secret, _ := benchServer(b)
	for _, path := range []string{
		"/api/v1/overview?since=24h",
		"/api/v1/sessions/top?dimension=device&since=24h",
		"/api/v1/sessions/top?dimension=app&by=sessions&since=24h",
		"/api/v1/sessions/top?dimension=dst.port&since=24h&filter=src.segment%20%3D%20ot-plc",
		"/api/v1/sessions/series?dimension=app&since=24h&step=1h",
		"/api/v1/sessions/matrix?since=24h",
		"/api/v1/sessions?since=24h&limit=100",
	} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				benchGet(b, srv, secret, path)
			}
		})
	}
}
