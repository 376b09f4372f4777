package deliver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestTemplateEncoder(t *testing.T) {
	f := &schema.Finding{ID: "abc", Detector: "horizontal-scan", Rule: "horizontal-scan", Severity: "high", State: "active",
		Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Entities: []string{"ip:10.0.0.5", "port:22"},
		Evidence: json.RawMessage(`{"summary":"10.0.0.5 probed 60 hosts on 22/tcp in 30 s","count":3}`)}
	e := findingEvent(f)
	for _, tc := range []struct{ name, tmpl, want string }{
		{"fields", `{"text": {{json .Severity}}, "id": "{{.ID}}"}`, `{"text": "high", "id": "abc"}`},
		{"helpers", `{"k": "{{kind .}}", "t": "{{rfc3339 .Time}}", "u": {{unix .Time}}, "e": {{json (join .Entities ", ")}}, "s": "{{upper .Severity}}"}`,
			`{"k": "finding", "t": "2026-03-01T12:00:00Z", "u": 1772366400, "e": "ip:10.0.0.5, port:22", "s": "HIGH"}`},
		{"evidence", `{"text": {{json (evidence .).summary}}, "n": {{(evidence .).count}}}`, `{"text": "10.0.0.5 probed 60 hosts on 22/tcp in 30 s", "n": 3}`},
		{"default", `{"t": {{json (default "none" .Technique)}}}`, `{"t": "none"}`},
		{"whole record", `{{json .}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := NewTemplate(tc.name, tc.tmpl, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := enc.Encode([]byte("prefix"), &e)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(got), "prefix") {
				t.Errorf("dst not kept: %s", got)
			}
			got = got[len("prefix"):]
			if tc.want == "" {
				var back schema.Finding
				if err := json.Unmarshal(got, &back); err != nil || back.ID != "abc" {
					t.Errorf("%s: %v", got, err)
				}
				return
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// A rendering that is not JSON is an error, not a receiver's 400.
	enc, _ := NewTemplate("bad", `{"text": {{.Severity}}}`, true)
	if _, err := enc.Encode(nil, &e); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("invalid JSON rendering: %v", err)
	}
	if _, err := NewTemplate("bad", `{{.Nope`, true); err == nil {
		t.Error("a broken template parsed")
	}
	// Unknown fields fail at render time, with the field's name.
	enc, _ = NewTemplate("field", `{{.Nope}}`, false)
	if _, err := enc.Encode(nil, &e); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("unknown field: %v", err)
	}
}

// TestEncodeErrorsAreCounted: an event the template cannot render is
// dropped with reason encode, and the others still go.
func TestEncodeErrorsAreCounted(t *testing.T) {
	d := newFakeDest(nil)
	c := testConfig(t)
	o, m := newTestOutput(t, c, d)
	tmpl, _ := NewTemplate("t", `{"id": {{json .ID}}, "n": {{(evidence .).count}}}`, true)
	o.enc = tmpl
	fs := findings("f", 2)
	fs[0].Evidence = json.RawMessage(`{"count": 1}`)
	fs[1].Evidence = json.RawMessage(`not json`)
	r := NewRouter(o)
	r.Start(t.Context())
	r.WriteFindings(t.Context(), fs)
	d.wait(t, 1)
	r.Close()
	if n := count(m.dropped.WithLabelValues("test", DropEncode)); n != 1 {
		t.Errorf("dropped_total{encode} = %d", n)
	}
	if got := d.received(); len(got) != 1 || got[0] != `{"id": "f000", "n": 1}` {
		t.Errorf("delivered %q", got)
	}
}
