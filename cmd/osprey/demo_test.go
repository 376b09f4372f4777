package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/api"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/detect/scenario"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
)

var update = flag.Bool("update", false, "rewrite examples/demo's copies of the scenario's policy and profiles")

// TestDemoFiles holds examples/demo/site.yaml to the scenario the quality
// test scores: its policy and profile files are the scenario's embedded
// ones (go test -run DemoFiles -update rewrites them) and its profile
// settings are scenario.ProfileConfig.
func TestDemoFiles(t *testing.T) {
	for file, want := range map[string][]byte{"site-policy.yaml": scenario.PolicyYAML, "site-profiles.json": scenario.ProfilesJSON} {
		path := filepath.Join("..", "..", "examples", "demo", file)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from internal/detect/scenario's (go test ./cmd/osprey -run DemoFiles -update): %v", path, err)
		}
	}
	cfg, err := config.Load(filepath.Join("..", "..", "examples", "demo", "site.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Detect.Profiles
	got.Files = nil
	if d := cmp.Diff(scenario.ProfileConfig(), got); d != "" {
		t.Errorf("site.yaml detect.profiles differ from scenario.ProfileConfig (-want +got):\n%s", d)
	}
	if len(cfg.Segmentation.Links) == 0 || cfg.Segmentation.Links[0].Bandwidth == 0 {
		t.Errorf("site.yaml: no link with a bandwidth for the capacity page")
	}
}

// TestDemo runs osprey demo with examples/demo/site.yaml on a smaller
// site, as make demo does, in a temporary directory: once it prints the
// console's URL and token, the API answers the overview with findings
// and the last day's sessions, and serves the console; after SIGTERM the
// store holds findings of many detectors. A second run refuses the
// store it filled.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	site, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "site.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "site.yaml")
	yaml := strings.NewReplacer("demo/site/", dir+"/", "examples/demo/", examples+"/").Replace(string(site))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	run := exec.Command(ospreyBin, "demo", "--config", cfg, "--api", freePort(t, "tcp"), "--health", freePort(t, "tcp"),
		"--hours", "34", "--devices", "9", "--vms", "4", "--incidents", "1")
	run.Stderr = &stderr
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Process.Kill() })
	// The reader keeps stdout and closes console at its end, which
	// comes before run.Wait (it closes the pipe).
	var printed strings.Builder
	var mu sync.Mutex
	console := make(chan []string, 1)
	go func() {
		re := regexp.MustCompile(`^Console: (http://\S+/)  token: (osp_\S+)$`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			printed.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				console <- m[1:]
			}
		}
		close(console)
	}()
	var url, token string
	select {
	case m, ok := <-console:
		if !ok {
			t.Fatalf("osprey demo ended without printing the console: %v\n%s", run.Wait(), stderr.String())
		}
		url, token = m[0], m[1]
	case <-time.After(5 * time.Minute):
		t.Fatalf("no console after 5 minutes\n%s", stderr.String())
	}
	t.Logf("console after %v", time.Since(began).Round(time.Millisecond))

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := get("api/v1/overview?since=24h")
	var o api.Overview
	if err := json.Unmarshal(body, &o); resp.StatusCode != 200 || err != nil {
		t.Fatalf("overview: %d %v %.300s", resp.StatusCode, err, body)
	}
	if o.Findings.Total == 0 || o.Totals.Sessions == 0 || len(o.Recent) == 0 {
		t.Errorf("overview of the last 24 h: %d findings (%d recent high), %d sessions; want some of each",
			o.Findings.Total, len(o.Recent), o.Totals.Sessions)
	}
	if resp, body := get(""); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!bytes.Contains(bytes.ToLower(body), []byte("<html")) {
		t.Errorf("console: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	run.Process.Signal(syscall.SIGTERM)
	for range console {
	}
	mu.Lock()
	t.Logf("osprey demo printed:\n%s", printed.String())
	mu.Unlock()
	if err := run.Wait(); err != nil {
		t.Fatalf("osprey demo: %v\n%s", err, stderr.String())
	}
	ctx := context.Background()
	st, err := duckdb.Open(ctx, filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := countFindings(ctx, st, "acme")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"policy", "profile", "threat-intel", "brute-force", "vertical-scan", "dns-tunnel", "weak-tls", "cleartext-management"} {
		if n[d] == 0 {
			t.Errorf("no %s finding in the store; found %v", d, n)
		}
	}

	if _, e, err := osprey(t, "demo", "--config", cfg, "--serve=false", "--hours", "34"); err == nil || !strings.Contains(e, "not empty") {
		t.Errorf("a second demo into the same store: %v %s", err, e)
	}
}
