package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// scanFlowLog is an AWS VPC flow log (v2) in which an internal host,
// 10.99.0.9, probes 60 hosts on 22/tcp within a minute, all rejected, and
// 10.0.0.7 fetches a web page.
func scanFlowLog() string {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range 60 {
		fmt.Fprintf(&b, "2 123456789012 eni-0a 10.99.0.9 10.0.0.%d %d 22 6 1 40 %d %d REJECT OK\n", 10+i, 40000+i, 1700000000+i/2, 1700000000+i/2)
	}
	b.WriteString("2 123456789012 eni-0a 10.0.0.7 10.0.0.8 51000 80 6 10 5000 1700000005 1700000010 ACCEPT OK\n")
	return b.String()
}

func readFindingsFile(t *testing.T, path string) []schema.Finding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []schema.Finding
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "" {
			continue
		}
		var f schema.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, f)
	}
	return out
}

// TestReadFindings runs detection offline over a flow log with a policy
// of the configuration: the scan and the policy violations are in
// --findings and in the store, --filter does not hide sessions from the
// detectors, and osprey policy test finds the same violations in the
// stored history.
func TestReadFindings(t *testing.T) {
	dir := t.TempDir()
	flows, pol, cfg := filepath.Join(dir, "flows.log"), filepath.Join(dir, "baseline.yaml"), filepath.Join(dir, "osprey.yaml")
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "findings.jsonl")
	os.WriteFile(flows, []byte(scanFlowLog()), 0o644)
	os.WriteFile(pol, []byte(`version: 1
name: baseline
rules:
  - name: ssh-from-outside
    severity: high
    deny: {from: {cidr: 10.99.0.0/16}, to: {port: 22}}
`), 0o644)
	os.WriteFile(cfg, []byte("detect: {policies: ["+pol+"]}\n"), 0o644)

	_, stderr, err := osprey(t, "read", "--config", cfg, "--stats", "--store", data, "--findings", out, "--filter", "dst.port = 80", flows)
	if err != nil {
		t.Fatalf("osprey read: %v\n%s", err, stderr)
	}
	found := readFindingsFile(t, out)
	byDetector := map[string]int{}
	for _, f := range found {
		byDetector[f.Detector]++
		if f.Detector == "horizontal-scan" && !strings.Contains(strings.Join(f.Entities, " "), "ip:10.99.0.9") {
			t.Errorf("scan finding without the scanner: %v", f.Entities)
		}
		if f.Detector == "policy" && (f.Rule != "baseline/ssh-from-outside" && f.Rule != "ssh-from-outside" || f.Severity != "high") {
			t.Errorf("policy finding %s/%s", f.Rule, f.Severity)
		}
	}
	if byDetector["horizontal-scan"] != 1 || byDetector["policy"] == 0 {
		t.Fatalf("findings by detector %v, want one horizontal scan and policy violations\n%s", byDetector, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("findings: %d (", len(found))) {
		t.Errorf("--stats does not count the %d findings:\n%s", len(found), stderr)
	}

	stored, e, err := osprey(t, "query", "--store", data, "--findings", "--detector", "policy", "--limit", "1000", "-o", "json")
	if err != nil {
		t.Fatal(err, e)
	}
	if n := strings.Count(stored, "\n"); n != byDetector["policy"] {
		t.Errorf("the store holds %d policy findings, --findings %d", n, byDetector["policy"])
	}
	table, e, err := osprey(t, "query", "--store", data, "--findings", "--entity", "ip:10.99.0.9", "--severity", "medium")
	if err != nil || !strings.Contains(table, "horizontal-scan") || !strings.Contains(table, "probed") {
		t.Errorf("findings table: %v %s\n%s", err, e, table)
	}

	js, e, err := osprey(t, "policy", "test", "--store", data, "--since", "100000d", "-o", "json", pol)
	if err != nil {
		t.Fatal(err, e)
	}
	var res policy.WhatIfResult
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	// --filter kept only the web session out of the store: the what-if
	// sees what was stored.
	if res.Sessions != 1 || len(res.Rules) != 0 {
		t.Errorf("what-if over the filtered store: %+v", res)
	}
}

// TestPolicyTest stores the whole log and checks the what-if table, and
// that a bad policy file is refused with its rule and field named.
func TestPolicyTest(t *testing.T) {
	dir := t.TempDir()
	flows, pol, data := filepath.Join(dir, "flows.log"), filepath.Join(dir, "baseline.yaml"), filepath.Join(dir, "data")
	os.WriteFile(flows, []byte(scanFlowLog()), 0o644)
	os.WriteFile(pol, []byte("version: 1\nrules:\n  - name: ssh-from-outside\n    deny: {from: {cidr: 10.99.0.0/16}, to: {port: 22}}\n"), 0o644)
	if _, e, err := osprey(t, "read", "--store", data, flows); err != nil {
		t.Fatal(err, e)
	}
	table, e, err := osprey(t, "policy", "test", "--store", data, "--since", "100000d", pol)
	if err != nil {
		t.Fatal(err, e)
	}
	if !strings.Contains(table, "61 session records checked against 1 rules: 1 rules would have fired") ||
		!strings.Contains(table, "ssh-from-outside") || !strings.Contains(table, "  60  ") {
		t.Errorf("what-if table:\n%s", table)
	}
	os.WriteFile(pol, []byte("version: 1\nrules:\n  - name: ssh\n    deny: {to: {prot: 22}}\n"), 0o644)
	if _, e, err := osprey(t, "policy", "check", pol); err == nil || !strings.Contains(e, `"ssh"`) || !strings.Contains(e, "prot") {
		t.Errorf("a bad policy: %v %s", err, e)
	}
}

// TestFindingsVerdict: a benign-positive verdict on a stored finding
// closes it, is saved as a suppression, and keeps the same scan from
// raising a finding when the input is read again; ack acknowledges.
func TestFindingsVerdict(t *testing.T) {
	dir := t.TempDir()
	flows, cfg, data := filepath.Join(dir, "flows.log"), filepath.Join(dir, "osprey.yaml"), filepath.Join(dir, "data")
	sups := filepath.Join(dir, "suppressions.yaml")
	os.WriteFile(flows, []byte(scanFlowLog()), 0o644)
	os.WriteFile(cfg, []byte("detect: {suppression_file: "+sups+"}\n"), 0o644)
	if _, e, err := osprey(t, "read", "--config", cfg, "--store", data, flows); err != nil {
		t.Fatal(err, e)
	}
	list := func(args ...string) []schema.Finding {
		t.Helper()
		out, e, err := osprey(t, append([]string{"query", "--config", cfg, "--store", data, "--findings", "-o", "json"}, args...)...)
		if err != nil {
			t.Fatal(err, e)
		}
		var fs []schema.Finding
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var f schema.Finding
			if l != "" && json.Unmarshal([]byte(l), &f) == nil {
				fs = append(fs, f)
			}
		}
		return fs
	}
	scans := list("--detector", "horizontal-scan")
	if len(scans) != 1 || scans[0].State != "active" {
		t.Fatalf("scan findings %+v", scans)
	}
	out, e, err := osprey(t, "findings", "verdict", "--config", cfg, "--store", data, scans[0].ID, "benign_positive", "--note", "the weekly audit scan")
	if err != nil || !strings.Contains(out, "1 stored findings closed as benign_positive") {
		t.Fatalf("verdict: %v %s\n%s", err, e, out)
	}
	if got := list("--state", "benign_positive"); len(got) != 1 || got[0].ID != scans[0].ID || !strings.Contains(string(got[0].Evidence), "the weekly audit scan") {
		t.Errorf("benign positives %+v", got)
	}
	out, e, err = osprey(t, "findings", "suppressions", "--config", cfg)
	if err != nil || !strings.Contains(out, "horizontal-scan") || !strings.Contains(out, "ip:10.99.0.9") {
		t.Errorf("suppressions: %v %s\n%s", err, e, out)
	}
	if _, e, err := osprey(t, "read", "--config", cfg, "--store", data, flows); err != nil {
		t.Fatal(err, e)
	}
	if got := list("--detector", "horizontal-scan", "--state", "active"); len(got) != 0 {
		t.Errorf("the suppressed scan raised again: %+v", got)
	}
	if _, e, err := osprey(t, "findings", "verdict", "--config", cfg, "--store", data, scans[0].ID, "maybe"); err == nil || !strings.Contains(e, "maybe") {
		t.Errorf("a bad verdict: %v %s", err, e)
	}
	if _, e, err := osprey(t, "findings", "ack", "--config", cfg, "--store", data, "no-such-id"); err == nil || !strings.Contains(e, "no finding no-such-id") {
		t.Errorf("ack of an unknown finding: %v %s", err, e)
	}
}

// TestProfileOnFlowLogs: a Device Defender profile applied to metrics
// derived from flow records (the web server 10.0.0.8 answers on 80, the
// profile allows 443 only) raises a profile finding; the profile files
// validate and export as AWS's JSON.
func TestProfileOnFlowLogs(t *testing.T) {
	dir := t.TempDir()
	flows, prof, cfg, out := filepath.Join(dir, "flows.log"), filepath.Join(dir, "web.json"), filepath.Join(dir, "osprey.yaml"), filepath.Join(dir, "f.jsonl")
	// The web server's answers: a flow record from port 80.
	reply := "2 123456789012 eni-0a 10.0.0.8 10.0.0.7 80 51000 6 8 20000 1700000005 1700000010 ACCEPT OK\n"
	os.WriteFile(flows, []byte(scanFlowLog()+reply), 0o644)
	os.WriteFile(prof, []byte(`{"securityProfileName": "Web", "behaviors": [{"name": "tls-only",
  "metric": "aws:listening-tcp-ports", "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [443]}}}]}`), 0o644)
	os.WriteFile(cfg, []byte("detect:\n  profiles: {files: ["+prof+"], window: 10s, targets: {Web: {cidrs: [10.0.0.8/32]}}}\n"), 0o644)
	if _, e, err := osprey(t, "read", "--config", cfg, "--output", "none", "--findings", out, flows); err != nil {
		t.Fatal(err, e)
	}
	var got []schema.Finding
	for _, f := range readFindingsFile(t, out) {
		if f.Detector == "profile" {
			got = append(got, f)
		}
	}
	if len(got) != 1 || got[0].Rule != "Web/tls-only" || !strings.Contains(strings.Join(got[0].Entities, " "), "ip:10.0.0.8") {
		t.Fatalf("profile findings %+v", got)
	}

	if o, e, err := osprey(t, "profile", "validate", prof); err != nil || !strings.Contains(o, "1 profiles, 1 behaviours: valid") {
		t.Errorf("validate: %v %s %s", err, o, e)
	}
	exported, e, err := osprey(t, "profile", "export", "--config", cfg, "--configured")
	if err != nil || !strings.Contains(exported, `"securityProfileName": "Web"`) || !strings.Contains(exported, `"in-port-set"`) {
		t.Errorf("export: %v %s\n%s", err, e, exported)
	}
	os.WriteFile(prof, []byte(`{"securityProfileName": "Web", "behaviors": [{"name": "tls-only",
  "metric": "aws:listening-tcp-ports", "criteria": {"comparisonOperator": "greater-than", "value": {"ports": [443]}}}]}`), 0o644)
	if _, e, err := osprey(t, "profile", "validate", prof); err == nil || !strings.Contains(e, "tls-only") || !strings.Contains(e, "comparisonOperator") {
		t.Errorf("an operator the metric does not take: %v %s", err, e)
	}
}
