package syslog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// valid is s as the encoders write it: each byte of invalid UTF-8 one
// U+FFFD.
func valid(s string) string { return string([]rune(s)) }

// noBreaks is s with line breaks as spaces, as headers and structured
// data carry them.
func noBreaks(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// FuzzCEFEscape: any string, escaped as a CEF header field or extension
// value, reads back as itself (line breaks in a header as spaces).
func FuzzCEFEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `a\b`, "x=y", "p|q", "l1\nl2\r", `\=\|\\`, "trailing ", " lead", "é\xff", "k=v b=1", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		msg := "CEF:0|" + string(AppendCEFHeader(nil, v)) + "|p|1|id|name|5|a=" + string(AppendCEFValue(nil, v)) + " b=1"
		ev, err := parseCEF(msg)
		if err != nil {
			t.Fatalf("%v: %q", err, msg)
		}
		if want := noBreaks(valid(v)); ev.Header[1] != want {
			t.Errorf("header %q, want %q", ev.Header[1], want)
		}
		if ev.Ext["a"] != valid(v) || ev.Ext["b"] != "1" || len(ev.Ext) != 2 {
			t.Errorf("extension %q, want a=%q b=1", ev.Ext, valid(v))
		}
	})
}

// FuzzSDValue: any string, escaped as an SD-PARAM value, makes a message
// go-syslog's RFC 5424 parser accepts and reads back as the string
// (line breaks as spaces).
func FuzzSDValue(f *testing.F) {
	for _, s := range []string{"", "acme", `say "hi"`, `a\b`, "x]y", "l1\nl2", "\xff\xfe", `\]"`, "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		msg := "<14>1 - - - - - [x@32473 p=\"" + string(AppendSDValue(nil, v)) + "\"] m"
		m, err := rfc5424.NewParser().Parse([]byte(msg))
		if err != nil {
			t.Fatalf("%v: %q", err, msg)
		}
		sd := m.(*rfc5424.SyslogMessage).StructuredData
		want := noBreaks(valid(v))
		if sd == nil || (*sd)["x@32473"]["p"] != want {
			t.Errorf("%q read back as %v, want %q", msg, sd, want)
		}
	})
}

// FuzzEncode: a finding with any tenant, rule, summary and entity is one
// line, valid RFC 5424, whose CEF payload parses with the header fields
// it was given.
func FuzzEncode(f *testing.F) {
	f.Add("acme", "ssh-from-internet", "10.0.0.5 probed 60 hosts", "ip:10.0.0.5")
	f.Add(`a"b]c\`, "r|x", "line\nbreak = \\", "port:99999")
	f.Add("", "", "", "ip:::1")
	f.Add("\xff", "\x00", "é|\r", "tag:=")
	e := testEncoder(f, nil)
	f.Fuzz(func(t *testing.T, tenant, rule, summary, entity string) {
		ev, _ := json.Marshal(map[string]any{"summary": summary, "count": 2})
		fd := schema.Finding{ID: "f", Tenant: tenant, Time: findTime, Detector: "d", Rule: rule, Severity: "high",
			State: "active", Entities: []string{entity}, Evidence: ev}
		msg, err := e.Encode(nil, findingEv(&fd))
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(string(msg), "\n\r") {
			t.Fatalf("a line break in %q", msg)
		}
		m := parse5424(t, msg)
		if got := (*m.StructuredData)["osprey@32473"]["tenant"]; got != noBreaks(valid(tenant)) && tenant != "" {
			t.Errorf("tenant %q, want %q", got, tenant)
		}
		cef, err := parseCEF(str(m.Message))
		if err != nil {
			t.Fatalf("%v: %q", err, str(m.Message))
		}
		id, name := "d", valid(summary)
		if rule != "" {
			id += "/" + valid(rule)
		}
		if summary == "" {
			name = id
		}
		if cef.Header[4] != noBreaks(id) || cef.Header[5] != noBreaks(name) {
			t.Errorf("header %q, want id %q name %q", cef.Header, id, name)
		}
		if cef.Ext["cs6"] != valid(entity) {
			t.Errorf("cs6 %q, want %q", cef.Ext["cs6"], entity)
		}
	})
}
