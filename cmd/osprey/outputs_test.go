package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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

// TestRunOutputs: osprey run delivers the scan finding of a followed
// flow log, and the sessions, to a webhook output, exports the delivery
// metrics and stops cleanly.
func TestRunOutputs(t *testing.T) {
	var mu sync.Mutex
	kinds := map[string]int{}
	var scans int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte("k"), r.Header.Get("X-Osprey-Timestamp"), r.Header.Get("X-Osprey-Signature"), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		kind := r.Header.Get("X-Osprey-Kind")
		kinds[kind]++
		if kind == "finding" && strings.Contains(string(body), `"detector":"horizontal-scan"`) {
			scans++
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	logs, data := filepath.Join(dir, "logs"), filepath.Join(dir, "data")
	os.Mkdir(logs, 0o755)
	health := freePort(t, "tcp")
	cfg := filepath.Join(dir, "osprey.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
capture: {udp: {vxlan: [], geneve: []}}
health: {listen: "%s"}
collect:
  flow_logs: {paths: [%s], follow: true, settle: 100ms, poll: 200ms}
  netflow: {enabled: false}
outputs:
  - name: soc
    type: webhook
    kinds: [findings, sessions]
    webhook: {url: %q, secret: k}
`, health, logs, srv.URL)), 0o644)
	var stderr bytes.Buffer
	run := exec.Command(ospreyBin, "run", "--config", cfg, "--store", data)
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Process.Kill() })
	tmp := filepath.Join(dir, "incoming.log")
	os.WriteFile(tmp, []byte(scanFlowLog()), 0o644)
	until(t, &stderr, "healthy", func() bool {
		_, err := http.Get("http://" + health + "/healthz")
		return err == nil
	})
	if err := os.Rename(tmp, filepath.Join(logs, "eni.log")); err != nil {
		t.Fatal(err)
	}
	until(t, &stderr, "the scan finding and the sessions delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return scans > 0 && kinds["session"] >= 61
	})
	m := httpGet(t, "http://"+health+"/metrics")
	for _, want := range []string{`osprey_output_sent_total{output="soc"}`, `osprey_output_queue_depth{output="soc"}`, `osprey_output_lag_seconds{output="soc"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Fatalf("osprey run: %v\n%s", err, stderr.String())
	}
}
