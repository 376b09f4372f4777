package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// BenchmarkWebhookFindings is findings/s through a webhook output to a
// local receiver that verifies every signature: routing, encoding (the
// Finding's JSON), the on-disk queue and one signed POST per finding,
// written in batches of 100 as the detection engine writes them; ns/op
// is per finding delivered.
func BenchmarkWebhookFindings(b *testing.B) {
	got := make(chan struct{}, 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := Verify([]byte(secret), r.Header.Get("X-Osprey-Timestamp"), r.Header.Get("X-Osprey-Signature"), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- struct{}{}
	}))
	defer srv.Close()
	wc := config(srv.URL)
	w, err := New(wc)
	if err != nil {
		b.Fatal(err)
	}
	c := deliver.DefaultConfig()
	c.Name, c.Type, c.Queue.Dir = "bench", "webhook", b.TempDir()
	o, err := deliver.NewOutput(c, w.Encoder(), w, deliver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := deliver.NewRouter(o)
	r.Start(b.Context())
	defer r.Close()
	batch := testFindings(100)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	// b.N findings, and the timer runs until the receiver has them all.
	for sent := 0; sent < b.N; sent += len(batch) {
		if err := r.WriteFindings(b.Context(), batch[:min(len(batch), b.N-sent)]); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		<-got
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "findings/s")
}
