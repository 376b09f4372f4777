package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver/webhook"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// TestReadOutputs: osprey read --outputs delivers the scan finding of a
// flow log to a webhook receiver that verifies the signature; without
// --outputs nothing is sent.
func TestReadOutputs(t *testing.T) {
	const secret = "test-secret"
	var mu sync.Mutex
	var got []schema.Finding
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify([]byte(secret), r.Header.Get("X-Osprey-Timestamp"), r.Header.Get("X-Osprey-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			bad = append(bad, err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var f schema.Finding
		if err := json.Unmarshal(body, &f); err != nil {
			bad = append(bad, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, f)
	}))
	defer srv.Close()

	dir := t.TempDir()
	flows, cfg := filepath.Join(dir, "flows.log"), filepath.Join(dir, "osprey.yaml")
	os.WriteFile(flows, []byte(scanFlowLog()), 0o644)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`store: {path: %s}
outputs:
  - name: soc
    type: webhook
    min_severity: medium
    detectors: [horizontal-scan]
    webhook: {url: %q, secret: %s}
`, filepath.Join(dir, "data"), srv.URL, secret)), 0o644)

	if _, stderr, err := osprey(t, "read", "--config", cfg, "--output", "none", flows); err != nil {
		t.Fatalf("osprey read: %v\n%s", err, stderr)
	}
	mu.Lock()
	if len(got)+len(bad) != 0 {
		t.Fatalf("without --outputs the receiver got %d requests", len(got)+len(bad))
	}
	mu.Unlock()

	_, stderr, err := osprey(t, "read", "--config", cfg, "--output", "none", "--outputs", "all", flows)
	if err != nil {
		t.Fatalf("osprey read --outputs: %v\n%s", err, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("receiver refused: %v", bad)
	}
	if len(got) == 0 {
		t.Fatalf("no finding delivered\n%s", stderr)
	}
	for _, f := range got {
		if f.Detector != "horizontal-scan" || !strings.Contains(strings.Join(f.Entities, " "), "ip:10.99.0.9") {
			t.Errorf("delivered %s/%s %v", f.Detector, f.Rule, f.Entities)
		}
	}
	if strings.Contains(stderr, "not delivered") {
		t.Errorf("records left queued: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "outputs", "soc", "queue.db")); err != nil {
		t.Errorf("queue not under store.path/outputs/soc: %v", err)
	}

	// An output name the configuration lacks is an error naming the flag.
	if _, stderr, err := osprey(t, "read", "--config", cfg, "--outputs", "nope", flows); err == nil || !strings.Contains(stderr, `--outputs: no output named "nope"`) {
		t.Errorf("--outputs nope: %v\n%s", err, stderr)
	}
}
