package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunAPI starts osprey run with the API, creates tokens with osprey
// token create, sends a NetFlow record and finds its session, its
// source and the API's own metrics through the API; a revoked token is
// refused at once, and the change is in the audit log.
func TestRunAPI(t *testing.T) {
	dir := t.TempDir()
	health, nfPort, apiAddr := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "tcp")
	tokens, audit := filepath.Join(dir, "tokens.json"), filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "osprey.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
capture: {udp: {vxlan: [], geneve: []}}
health: {listen: "%s"}
collect:
  netflow: {netflow: [], ipfix: [], sflow: [], auto: ["%s"]}
api: {enabled: true, listen: "%s", tokens: %s, audit_log: %s}
`, health, nfPort, apiAddr, tokens, audit)), 0o644)
	token := func(role string) string {
		out, e, err := osprey(t, "token", "create", "--config", cfg, "--tenant", "default", "--role", role, "--name", "ci-"+role)
		if err != nil {
			t.Fatal(err, e)
		}
		return strings.TrimSpace(out)
	}
	viewer, admin := token("viewer"), token("admin")

	var stderr bytes.Buffer
	run := exec.Command(ospreyBin, "run", "--config", cfg, "--store", filepath.Join(dir, "data"))
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Process.Kill() })
	get := func(path, secret string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+apiAddr+path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	until(t, &stderr, "the API", func() bool { code, _ := get("/api/v1/whoami", viewer); return code == 200 })

	conn, err := net.Dial("udp", nfPort)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(netflowV5(time.Now()))
	conn.Close()
	until(t, &stderr, "the NetFlow session through the API", func() bool {
		_, body := get("/api/v1/sessions?since=1h", viewer)
		return strings.Contains(body, `"10.0.0.2"`)
	})
	code, body := get("/api/v1/sources", viewer)
	if code != 200 || !strings.Contains(body, `"netflow"`) {
		t.Errorf("sources: %d %s", code, body)
	}
	if code, _ := get("/metrics", viewer); code != 403 {
		t.Errorf("/metrics with a viewer token: %d", code)
	}
	if code, body := get("/metrics", admin); code != 200 || !strings.Contains(body, "osprey_api_requests_total") || !strings.Contains(body, "osprey_netflow_") {
		t.Errorf("/metrics: %d %.300s", code, body)
	}
	// Revoked from the command line, refused by the running API.
	out, _, err := osprey(t, "token", "list", "--config", cfg, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var tok struct{ ID, Name string }
		json.Unmarshal([]byte(l), &tok)
		if tok.Name == "ci-viewer" {
			id = tok.ID
		}
	}
	if _, e, err := osprey(t, "token", "revoke", "--config", cfg, id); err != nil {
		t.Fatal(err, e)
	}
	if code, _ := get("/api/v1/whoami", viewer); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	req, _ := http.NewRequest("POST", "http://"+apiAddr+"/api/v1/tokens", strings.NewReader(`{"name": "console", "role": "viewer"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("create a token through the API: %d", resp.StatusCode)
	}

	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Fatalf("osprey run: %v\n%s", err, stderr.String())
	}
	if b, err := os.ReadFile(audit); err != nil || !strings.Contains(string(b), `"route":"POST /api/v1/tokens"`) {
		t.Errorf("audit log: %v %s", err, b)
	}
	if fi, err := os.Stat(tokens); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v %v", err, fi)
	}
}
