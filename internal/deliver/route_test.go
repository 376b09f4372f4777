package deliver

import (
	"net/netip"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestRoute(t *testing.T) {
	scan := &schema.Finding{Tenant: "acme", Detector: "horizontal-scan", Severity: "high", State: "active",
		Entities: []string{"ip:10.0.0.5", "port:22"}}
	low := &schema.Finding{Tenant: "acme", Detector: "policy", Severity: "low", State: "cleared", Entities: []string{"tag:pci", "ip:10.9.9.9"}}
	sess := &schema.Session{Tenant: "acme", Orig: schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5")},
		Resp: schema.Endpoint{IP: netip.MustParseAddr("10.0.0.6"), Tags: []string{"datastore", "prod"}}}
	metric := &schema.DeviceMetric{Tenant: "other", Device: "ip:10.0.0.5", Name: "aws:num-listening-tcp-ports"}
	tags := func(entity string) []string {
		if entity == "ip:10.0.0.5" {
			return []string{"camera"}
		}
		return nil
	}
	fe := func(f *schema.Finding) Event { return findingEvent(f) }
	se, me := sessionEvent(sess), metricEvent(metric)
	for _, tc := range []struct {
		name   string
		yaml   string
		events []Event
		want   []bool
	}{
		{"defaults carry findings only", "{}", []Event{fe(scan), se, me}, []bool{true, false, false}},
		{"min_severity", "{min_severity: medium}", []Event{fe(scan), fe(low)}, []bool{true, false}},
		{"min_severity does not filter sessions", "{kinds: [sessions], min_severity: critical}", []Event{se}, []bool{true}},
		{"detectors", "{detectors: [policy]}", []Event{fe(scan), fe(low)}, []bool{false, true}},
		{"states", "{states: [active, acknowledged]}", []Event{fe(scan), fe(low)}, []bool{true, false}},
		{"tenants", "{kinds: [findings, metrics], tenants: [acme]}", []Event{fe(scan), me}, []bool{true, false}},
		{"tag entity", "{tags: [pci]}", []Event{fe(scan), fe(low)}, []bool{false, true}},
		{"tag from enrichment", "{tags: [camera]}", []Event{fe(scan), fe(low)}, []bool{true, false}},
		{"session tags, either end", "{kinds: [sessions], tags: [prod]}", []Event{se}, []bool{true}},
		{"session without the tag", "{kinds: [sessions], tags: [pci]}", []Event{se}, []bool{false}},
		{"metric device tags", "{kinds: [metrics], tags: [camera]}", []Event{me}, []bool{true}},
		{"all filters at once", "{min_severity: high, detectors: [horizontal-scan], tags: [camera], tenants: [acme]}", []Event{fe(scan), fe(low)}, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
				t.Fatal(err)
			}
			c.Name, c.Type = "x", "fake"
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			r := newRoute(c, tags)
			for i, e := range tc.events {
				if got := r.kinds[e.Kind] && r.match(&e); got != tc.want[i] {
					t.Errorf("event %d (%s): routed %v, want %v", i, e.Kind, got, tc.want[i])
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"{name: soc, type: webhook}", ""},
		{"{name: 'a b', type: webhook}", "name: must be"},
		{"{name: soc}", "type: required"},
		{"{name: soc, type: webhook, kinds: [alerts]}", "kinds[0]: unknown kind"},
		{"{name: soc, type: webhook, min_severity: urgent}", "min_severity: must be"},
		{"{name: soc, type: webhook, states: [open]}", "states[0]: must be"},
		{"{name: soc, type: webhook, queue: {max_records: 0}}", "queue.max_records"},
		{"{name: soc, type: webhook, queue: {max_bytes: 1KiB}}", "queue.max_bytes"},
		{"{name: soc, type: webhook, retry: {initial_backoff: 2m}}", "retry.max_backoff"},
		{"{name: soc, type: webhook, tags: ['']}", "tags[0]: empty"},
	} {
		c := DefaultConfig()
		if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]Size{"1048576": 1 << 20, "256MiB": 256 << 20, "1GB": 1e9, "4 KiB": 4096} {
		var s Size
		if err := yaml.Unmarshal([]byte(in), &s); err != nil || s != want {
			t.Errorf("%q: %d, %v; want %d", in, s, err, want)
		}
	}
	var s Size
	if err := yaml.Unmarshal([]byte("lots"), &s); err == nil {
		t.Error("'lots' parsed as a size")
	}
}
