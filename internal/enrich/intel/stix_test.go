package intel

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testBundle = `{
  "type": "bundle",
  "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
  "objects": [
    {"type": "identity", "id": "identity--1", "name": "ACME CERT"},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--ip",
     "pattern_type": "stix", "valid_from": "2025-06-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z",
     "pattern": "[ipv4-addr:value = '203.0.113.7'] OR [ipv6-addr:value ISSUBSET '2001:db8:bad::/48']"},
    {"type": "indicator", "id": "indicator--or", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value ISSUBSET '198.51.100.0/24' OR domain-name:value = 'Evil.Example']"},
    {"type": "indicator", "id": "indicator--v20", "pattern": "[domain-name:value = 'c2.example.net']"},
    {"type": "indicator", "id": "indicator--revoked", "pattern_type": "stix", "revoked": true,
     "pattern": "[ipv4-addr:value = '192.0.2.1']"},
    {"type": "indicator", "id": "indicator--expired", "pattern_type": "stix", "valid_until": "2025-06-15T12:00:00Z",
     "pattern": "[ipv4-addr:value = '192.0.2.2']"},
    {"type": "indicator", "id": "indicator--and", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '192.0.2.3' AND ipv4-addr:value = '192.0.2.4']"},
    {"type": "indicator", "id": "indicator--file", "pattern_type": "stix",
     "pattern": "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
    {"type": "indicator", "id": "indicator--snort", "pattern_type": "snort",
     "pattern": "alert tcp any any -> 192.0.2.5 any (msg:\"x\";)"},
    {"type": "indicator", "id": "indicator--bad-value", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '192.0.2.300']"},
    {"type": "indicator", "id": "indicator--bad-until", "pattern_type": "stix", "valid_until": "tomorrow",
     "pattern": "[ipv4-addr:value = '192.0.2.6']"},
    {"type": "indicator", "id": "indicator--bad-type", "revoked": "no",
     "pattern": "[ipv4-addr:value = '192.0.2.7']"},
    42,
    {"type": "relationship", "id": "relationship--1", "source_ref": "indicator--ip", "target_ref": "malware--1"}
  ]
}`

func TestLoadSTIX(t *testing.T) {
	f := mustLoad(t, FeedConfig{}, "bundle.json", testBundle)
	want := []string{"198.51.100.0/24", "2001:db8:bad::/48", "203.0.113.7", "Evil.Example", "c2.example.net"}
	if diff := cmp.Diff(want, kept(f)); diff != "" {
		t.Errorf("indicators (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(SkipCounts{Revoked: 1, Expired: 1, PatternType: 1, Unsupported: 2}, f.Skipped()); diff != "" {
		t.Errorf("Skipped() (-want +got):\n%s", diff)
	}
	n, errs := f.Rejected()
	wantErrs := []string{
		`bundle.json: objects[9] (indicator--bad-value): pattern "[ipv4-addr:value = '192.0.2.300']": ipv4-addr:value "192.0.2.300" at offset 1: not a valid value`,
		`bundle.json: objects[10] (indicator--bad-until): valid_until "tomorrow": not an RFC 3339 timestamp`,
		`bundle.json: objects[11] (indicator--bad-type): revoked: JSON string where bool was expected`,
		`bundle.json: objects[12]: object: JSON number, not an object`,
	}
	if diff := cmp.Diff(wantErrs, errorStrings(errs)); diff != "" || n != len(wantErrs) {
		t.Errorf("Rejected() = %d (-want +got):\n%s", n, diff)
	}
}

func TestLoadSTIXKeyOrder(t *testing.T) {
	// "type" may come after "objects", and other keys are skipped whole.
	f := mustLoad(t, FeedConfig{Format: "stix"}, "feed",
		`{"objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '203.0.113.7']"}],"x":{"y":[1,2]},"type":"bundle"}`)
	if diff := cmp.Diff([]string{"203.0.113.7"}, kept(f)); diff != "" {
		t.Errorf("indicators (-want +got):\n%s", diff)
	}
}
