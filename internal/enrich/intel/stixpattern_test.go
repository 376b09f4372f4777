package intel

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		name        string
		pattern     string
		want        []string // values as written
		unsupported bool
		malformed   string // part of the error
	}{
		{name: "ipv4 equals", pattern: "[ipv4-addr:value = '203.0.113.7']", want: []string{"203.0.113.7"}},
		{name: "ipv4 cidr equals", pattern: "[ipv4-addr:value='198.51.100.0/24']", want: []string{"198.51.100.0/24"}},
		{name: "ipv4 issubset", pattern: "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", want: []string{"198.51.100.0/24"}},
		{name: "ipv6 issubset lower case keyword", pattern: "[ipv6-addr:value issubset '2001:db8::/32']", want: []string{"2001:db8::/32"}},
		{name: "domain", pattern: "[domain-name:value = 'evil.example']", want: []string{"evil.example"}},
		{
			name:    "or inside an observation",
			pattern: "[ipv4-addr:value = '203.0.113.7' OR ipv6-addr:value = '2001:db8::7' OR domain-name:value = 'evil.example']",
			want:    []string{"203.0.113.7", "2001:db8::7", "evil.example"},
		},
		{
			name:    "or across observations, parentheses",
			pattern: "([ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'evil.example']) OR [(ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2')]",
			want:    []string{"203.0.113.7", "evil.example", "192.0.2.1", "192.0.2.2"},
		},
		{name: "escapes", pattern: `[domain-name:value = 'evil.example\\']`, malformed: `domain-name:value "evil.example\\"`},
		{name: "and", pattern: "[ipv4-addr:value = '203.0.113.7' AND ipv4-addr:value = '203.0.113.8']", unsupported: true},
		{name: "and across observations", pattern: "[ipv4-addr:value = '203.0.113.7'] AND [domain-name:value = 'evil.example']", unsupported: true},
		{name: "followedby", pattern: "[ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.8']", unsupported: true},
		{name: "qualifier", pattern: "[ipv4-addr:value = '203.0.113.7'] WITHIN 300 SECONDS", unsupported: true},
		{name: "other object", pattern: "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", unsupported: true},
		{name: "url", pattern: "[url:value = 'http://evil.example/']", unsupported: true},
		{name: "other operator", pattern: "[ipv4-addr:value != '203.0.113.7']", unsupported: true},
		{name: "issuperset", pattern: "[ipv4-addr:value ISSUPERSET '203.0.113.7']", unsupported: true},
		{name: "domain issubset", pattern: "[domain-name:value ISSUBSET 'evil.example']", unsupported: true},
		{name: "not", pattern: "[ipv4-addr:value NOT = '203.0.113.7']", unsupported: true},
		{name: "in list", pattern: "[ipv4-addr:value IN ('203.0.113.7', '203.0.113.8')]", unsupported: true},
		{name: "other property", pattern: "[ipv4-addr:resolves_to_refs[*].value = '00:00:5e:00:53:af']", unsupported: true},
		{name: "mixed or and", pattern: "[ipv4-addr:value = '203.0.113.7'] OR [ipv4-addr:value = '1.1.1.1' AND domain-name:value = 'a.example']", unsupported: true},
		{name: "empty", pattern: "  ", malformed: "empty"},
		{name: "unterminated", pattern: "[ipv4-addr:value = '203.0.113.7]", malformed: "unterminated string at offset 19"},
		{name: "bad escape", pattern: `[domain-name:value = 'a\x.example']`, malformed: "bad escape at offset 23"},
		{name: "cut short", pattern: "[ipv4-addr:value = '203.0.113.7'", malformed: "pattern ends early"},
		{name: "v6 value for ipv4", pattern: "[ipv4-addr:value = '2001:db8::1']", malformed: `ipv4-addr:value "2001:db8::1" at offset 1: not a valid value`},
		{name: "v4 value for ipv6", pattern: "[ipv6-addr:value = '203.0.113.7']", malformed: "not a valid value"},
		{name: "bad address", pattern: "[ipv4-addr:value = '203.0.113.999']", malformed: "not a valid value"},
		{name: "domain for ipv4", pattern: "[ipv4-addr:value = 'evil.example']", malformed: "not a valid value"},
		{name: "address for domain", pattern: "[domain-name:value = '203.0.113.7']", malformed: "not a valid value"},
		{name: "too deep", pattern: strings.Repeat("(", 40) + "[ipv4-addr:value = '203.0.113.7']" + strings.Repeat(")", 40), malformed: "nested deeper than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePattern(tt.pattern)
			switch {
			case tt.unsupported:
				if !errors.Is(err, errUnsupported) {
					t.Fatalf("err = %v, want errUnsupported", err)
				}
			case tt.malformed != "":
				if err == nil || errors.Is(err, errUnsupported) || !strings.Contains(err.Error(), tt.malformed) {
					t.Fatalf("err = %v, want a malformed pattern error containing %q", err, tt.malformed)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				var values []string
				for _, v := range got {
					values = append(values, v.written)
				}
				if diff := cmp.Diff(tt.want, values); diff != "" {
					t.Errorf("values (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestPatternEscapedQuote(t *testing.T) {
	// A quote can only be escaped inside a value; the value must still be
	// checked after unescaping.
	_, err := parsePattern(`[domain-name:value = 'it\'s.example']`)
	if err == nil || !strings.Contains(err.Error(), `"it's.example"`) {
		t.Errorf("err = %v, want the unescaped value named", err)
	}
}
