package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/hec"
	"github.com/osprey-ndr/osprey/internal/deliver/syslog"
	"github.com/osprey-ndr/osprey/internal/deliver/webhook"
)

// TestOutputs: each entry is read over its defaults and its type's.
func TestOutputs(t *testing.T) {
	p := write(t, `
outputs:
  - name: soc
    type: webhook
    min_severity: high
    tags: [prod]
    queue: {max_bytes: 64MiB}
    retry: {max_attempts: 5}
    webhook:
      url: https://hooks.example/osprey
      secret: s3cr3t
      headers: {X-Team: soc}
  - name: sessions
    type: webhook
    kinds: [sessions, metrics]
    webhook: {url: "http://127.0.0.1:9000/in"}
  - name: siem
    type: syslog
    syslog: {network: tls, address: "siem.example:6514", format: json}
  - name: splunk
    type: splunk_hec
    splunk_hec: {url: "https://splunk.example:8088", token: abc, index: osprey}
`)
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	soc := deliver.DefaultConfig()
	soc.Name, soc.Type = "soc", "webhook"
	soc.Filter.MinSeverity, soc.Filter.Tags = "high", []string{"prod"}
	soc.Queue.MaxBytes = 64 << 20
	soc.Retry.MaxAttempts = 5
	wh := webhook.DefaultConfig()
	wh.URL, wh.Secret, wh.Headers = "https://hooks.example/osprey", "s3cr3t", map[string]string{"X-Team": "soc"}
	ses := deliver.DefaultConfig()
	ses.Name, ses.Type, ses.Kinds = "sessions", "webhook", []string{"sessions", "metrics"}
	wh2 := webhook.DefaultConfig()
	wh2.URL = "http://127.0.0.1:9000/in"
	sl := deliver.DefaultConfig()
	sl.Name, sl.Type = "siem", "syslog"
	sy := syslog.DefaultConfig()
	sy.Network, sy.Address, sy.Format = "tls", "siem.example:6514", "json"
	sp := deliver.DefaultConfig()
	sp.Name, sp.Type = "splunk", "splunk_hec"
	hc := hec.DefaultConfig()
	hc.URL, hc.Token, hc.Index = "https://splunk.example:8088", "abc", "osprey"
	want := Outputs{{Config: soc, Webhook: &wh}, {Config: ses, Webhook: &wh2}, {Config: sl, Syslog: &sy}, {Config: sp, SplunkHEC: &hc}}
	if diff := cmp.Diff(want, got.Outputs); diff != "" {
		t.Error(diff)
	}
	if !got.Outputs.Wants("sessions") || got.Outputs.Wants("nothing") {
		t.Error("Wants")
	}
	if got.Outputs[0].Retry.MaxBackoff != time.Minute {
		t.Error("retry defaults lost under a partial retry section")
	}
}

func TestOutputsErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"outputs: [{name: a, type: webhook, webhook: {url: 'http://x', urll: y}}]", "outputs: line 1: outputs[0].webhook.urll: unknown key"},
		{"outputs:\n  - name: a\n    type: webhook\n    severity: high\n", "line 4: outputs[0].severity: unknown key"},
		{"outputs: [{name: a, type: webhook}]", "outputs[0].webhook: required for type webhook"},
		{"outputs: [{name: a, type: webhook, webhook: {url: 'http://x', basic_auth: {user: u}}}]", "outputs[0].webhook.basic_auth.user: unknown key (known: password, username)"},
		{"outputs: [{name: a, type: splunk}]", `outputs[0].type: unknown output type "splunk" (known: webhook, syslog, splunk_hec, ocsf)`},
		{"outputs: [{name: a, type: webhook, webhook: {url: 'ftp://x'}}]", "outputs[0].webhook.url: must be"},
		{"outputs: [{name: a, type: webhook, kinds: [alerts], webhook: {url: 'http://x'}}]", "outputs[0].kinds[0]: unknown kind"},
		{"outputs: [{name: a, type: webhook, webhook: {url: 'http://x'}}, {name: a, type: webhook, webhook: {url: 'http://y'}}]", `outputs[1].name: "a" is also outputs[0]'s name`},
		{"outputs: [{name: a, type: webhook, queue: {max_bytes: lots}, webhook: {url: 'http://x'}}]", "outputs[0].queue.max_bytes: invalid size"},
		{"outputs: {name: a}", "outputs: expected a list"},
		{"outputs: [{name: a, type: ocsf, kinds: [sessions, metrics], ocsf: {destination: file, file: {path: /tmp/x.jsonl}}}]", "outputs[0].kinds: OCSF has no class for device metrics"},
		{"outputs: [{name: a, type: ocsf, ocsf: {destination: tape}}]", "outputs[0].ocsf.destination"},
		{"outputs: [{name: a, type: syslog, syslog: {address: 'h:514', framing: lines}}]", "outputs[0].syslog.framing: must be"},
		{"outputs: [{name: a, type: splunk_hec, splunk_hec: {url: 'https://h:8088'}}]", "outputs[0].splunk_hec."},
		{"outputs: [{name: a, type: syslog, splunk_hec: {url: 'https://h'}, syslog: {address: 'h:514'}}]", `outputs[0].splunk_hec: set, but the output's type is "syslog"`},
	} {
		_, err := Load(write(t, tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\nerror %v\nwant  %q", tc.yaml, err, tc.want)
		}
	}
}
