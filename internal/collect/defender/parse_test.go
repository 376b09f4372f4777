package defender

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func testParser(t testing.TB) *Parser {
	t.Helper()
	p, err := NewParser(DefaultConfig().limits())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toCBOR re-encodes a JSON document in CBOR, integers as integers, as a
// device's CBOR encoder would.
func toCBOR(t testing.TB, doc []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	b, err := cbor.Marshal(numbers(v))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func numbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

// The three encodings of one report give one Report and one set of
// metrics.
func TestParseEncodings(t *testing.T) {
	p := testParser(t)
	long := readTestdata(t, "report-long.json")
	short := readTestdata(t, "report-short.json")
	at := time.Date(2023, 11, 14, 22, 18, 20, 0, time.UTC)
	var want []schema.DeviceMetric
	for _, tc := range []struct {
		name    string
		payload []byte
		format  Format
		short   bool
	}{
		{"json", long, FormatJSON, false},
		{"short json", short, FormatJSON, true},
		{"cbor", toCBOR(t, long), FormatCBOR, false},
		{"short cbor", toCBOR(t, short), FormatCBOR, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := p.Parse(tc.payload, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if r.Short != tc.short || r.ID != 1700000300 || r.Version != "1.0" {
				t.Errorf("header: short %v id %d version %q", r.Short, r.ID, r.Version)
			}
			got := r.AppendMetrics(nil, "acme", "cam-1", at)
			if want == nil {
				want = got
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("metrics differ from the long JSON's (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	p := testParser(t)
	hdr := `"header":{"report_id":5,"version":"1.0"}`
	for _, tc := range []struct {
		name, payload string
		format        Format
		code, field   string
		message       string
	}{
		{"not json", `{"header":`, FormatJSON, CodeInvalidPayload, "", "malformed JSON"},
		{"not an object", `[1,2]`, FormatJSON, CodeInvalidPayload, "", "expected an object"},
		{"not cbor", "\xff\x00", FormatCBOR, CodeInvalidPayload, "", "malformed CBOR"},
		{"no header", `{"metrics":{}}`, FormatJSON, CodeInvalidPayload, "header", "required"},
		{"no report id", `{"hed":{"v":"1.0"},"met":{}}`, FormatJSON, CodeInvalidPayload, "hed.rid", "required"},
		{"report id zero", `{"header":{"report_id":0,"version":"1.0"},"metrics":{}}`, FormatJSON, CodeInvalidPayload, "header.report_id", "not a positive integer"},
		{"report id fraction", `{"header":{"report_id":1.5,"version":"1.0"},"metrics":{}}`, FormatJSON, CodeInvalidPayload, "header.report_id", "expected an integer"},
		{"report id string", `{"header":{"report_id":"7","version":"1.0"},"metrics":{}}`, FormatJSON, CodeInvalidPayload, "header.report_id", "expected an integer, got string"},
		{"no version", `{"header":{"report_id":5},"metrics":{}}`, FormatJSON, CodeInvalidPayload, "header.version", "required"},
		{"version 2", `{"header":{"report_id":5,"version":"2.0"},"metrics":{}}`, FormatJSON, CodeUnsupportedVersion, "header.version", "not supported"},
		{"version words", `{"header":{"report_id":5,"version":"one"},"metrics":{}}`, FormatJSON, CodeInvalidPayload, "header.version", "not Major.Minor"},
		{"no metrics", `{` + hdr + `}`, FormatJSON, CodeInvalidPayload, "", "needs metrics or custom_metrics"},
		{"mixed names", `{` + hdr + `,"met":{}}`, FormatJSON, CodeInvalidPayload, "", "mixes long"},
		{"port zero", `{` + hdr + `,"metrics":{"listening_tcp_ports":{"ports":[{"port":22},{"port":0}]}}}`, FormatJSON, CodeInvalidPayload, "metrics.listening_tcp_ports.ports[1].port", "not a port"},
		{"port too big", `{"hed":{"rid":5,"v":"1.0"},"met":{"up":{"pts":[{"pt":70000}]}}}`, FormatJSON, CodeInvalidPayload, "met.up.pts[0].pt", "not a port"},
		{"port missing", `{` + hdr + `,"metrics":{"listening_udp_ports":{"ports":[{"interface":"eth0"}]}}}`, FormatJSON, CodeInvalidPayload, "metrics.listening_udp_ports.ports[0].port", "required"},
		{"negative total", `{` + hdr + `,"metrics":{"listening_tcp_ports":{"ports":[],"total":-1}}}`, FormatJSON, CodeInvalidPayload, "metrics.listening_tcp_ports.total", "negative"},
		{"negative bytes", `{"hed":{"rid":5,"v":"1.0"},"met":{"ns":{"bi":-4}}}`, FormatJSON, CodeInvalidPayload, "met.ns.bi", "negative"},
		{"bad remote", `{` + hdr + `,"metrics":{"tcp_connections":{"established_connections":{"connections":[{"remote_addr":"example.com:80"}]}}}}`, FormatJSON, CodeInvalidPayload, "metrics.tcp_connections.established_connections.connections[0].remote_addr", "not ip:port"},
		{"no remote", `{"hed":{"rid":5,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"lp":80}]}}}}`, FormatJSON, CodeInvalidPayload, "met.tc.ec.cs[0].rad", "required"},
		{"custom number not in a list", `{` + hdr + `,"custom_metrics":{"temp":{"number":3}}}`, FormatJSON, CodeInvalidPayload, "custom_metrics", "expected a list"},
		{"custom two kinds", `{` + hdr + `,"custom_metrics":{"temp":[{"number":3,"string_list":["a"]}]}}`, FormatJSON, CodeInvalidPayload, "custom_metrics.temp", "exactly one"},
		{"custom two values", `{` + hdr + `,"custom_metrics":{"temp":[{"number":3},{"number":4}]}}`, FormatJSON, CodeInvalidPayload, "custom_metrics.temp", "list of one value"},
		{"custom aws name", `{` + hdr + `,"custom_metrics":{"aws:temp":[{"number":3}]}}`, FormatJSON, CodeInvalidPayload, "custom_metrics", "must not start with \"aws:\""},
		{"custom bad ip", `{` + hdr + `,"custom_metrics":{"peers":[{"ip_list":["10.0.0.1","nope"]}]}}`, FormatJSON, CodeInvalidPayload, "custom_metrics.peers.ip_list[1]", "not an IP"},
		{"too large", `{"header":{"report_id":5,"version":"1.0"},"metrics":{},"pad":"` + strings.Repeat("x", 128<<10) + `"}`, FormatJSON, CodeInvalidPayload, "", "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Parse([]byte(tc.payload), tc.format)
			var re *ReportError
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a *ReportError", err)
			}
			if re.Code != tc.code || re.Field != tc.field || !strings.Contains(re.Message, tc.message) {
				t.Errorf("got %s %q %q, want %s %q containing %q", re.Code, re.Field, re.Message, tc.code, tc.field, tc.message)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	p := testParser(t)
	for _, tc := range []struct{ name, payload string }{
		{"minor version", `{"header":{"report_id":5,"version":"1.3"},"metrics":{"future_block":{"x":1}}}`},
		{"custom only", `{"hed":{"rid":5,"v":"1.0"},"cmet":{"temp":[{"number":21.5}]}}`},
		{"ipv6 without brackets", `{"hed":{"rid":5,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"2001:db8::1:443"}]}}}}`},
		{"empty lists", `{"header":{"report_id":5,"version":"1.0"},"metrics":{"listening_tcp_ports":{"ports":[],"total":0}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.Parse([]byte(tc.payload), FormatJSON); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseRemote(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:80":         "192.0.2.1:80",
		"[2001:db8::1]:443":    "[2001:db8::1]:443",
		"2001:db8::1:443":      "[2001:db8::1]:443",
		"[fe80::1%eth0]:22":    "[fe80::1]:22",
		"::ffff:192.0.2.1:993": "[::ffff:192.0.2.1]:993",
	} {
		got, err := parseRemote(in)
		if err != nil || got.String() != want {
			t.Errorf("parseRemote(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"192.0.2.1", "192.0.2.1:99999", "host:80", ""} {
		if _, err := parseRemote(in); err == nil {
			t.Errorf("parseRemote(%q) took it", in)
		}
	}
}
