package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`src.tag = "iot" and dst.port in (22, 23) and bytes > 1MB and app = "tls"`,
			`(((src.tag = "iot" and dst.port in (22, 23)) and bytes > 1000000) and app = "tls")`},
		{`app = tls or app = dns and proto = udp`, `(app = "tls" or (app = "dns" and proto = "udp"))`},
		{`not (src.ip in (10.0.0.0/8, 192.168.1.7) or dst.ip = fd00::1)`, `not (src.ip in (10.0.0.0/8, 192.168.1.7) or dst.ip = fd00::1)`},
		{`orig.bytes >= 1.5KiB AND resp.packets < 10k`, `(src.bytes >= 1536 and dst.packets < 10000)`},
		{`duration > 5m and conn_state != 'S0'`, `(duration > 5m0s and conn_state != "S0")`},
		{`dst.port not in (80,443)`, `dst.port not in (80, 443)`},
		{`src.ip in (10.1.2.3/8)`, `src.ip in (10.0.0.0/8)`},
		{`duration < 30`, `duration < 30s`},
		{`vni == 42`, `vni = 42`},
		{`country not in (DE, 'US') or asn >= 64512`, `(country not in ("DE", "US") or asn >= 64512)`},
		{`intel = urlhaus and server_name != "evil.example" and action = reject`,
			`((intel = "urlhaus" and server_name != "evil.example") and action = "reject")`},
		{``, ``},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := String(e); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if e == nil {
				return
			}
			again, err := Parse(String(e))
			if err != nil || String(again) != String(e) {
				t.Errorf("canonical form does not parse back: %v %s", err, String(again))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		col int
		msg string
	}{
		{`src.tagz = "iot"`, 1, `unknown field "src.tagz"`},
		{`app = "tls" and dst.port > http`, 28, `dst.port is a number: "http" is not a number`},
		{`src.ip = 10.0.0.300`, 10, `bad address "10.0.0.300"`},
		{`src.ip = 10.0.0.0/8`, 10, `a CIDR prefix needs "in"`},
		{`app > "tls"`, 5, `app is a string: only = and != (or in) apply`},
		{`app = "tls`, 7, `unterminated string`},
		{`(app = dns`, 11, `expected ")" to close the "(" at column 1`},
		{`app = dns dns`, 11, `unexpected "dns"`},
		{`dst.port in (22 23)`, 17, `expected "," or ")" in the list`},
		{`app`, 4, `expected an operator`},
		{`app ! dns`, 5, `"!" must be followed by "="`},
		{`duration > soon`, 12, `duration is a duration such as 90s`},
		{`src.port = 1 and`, 17, `expected a field name, found the end of the filter`},
		{`dst.port not (1)`, 14, `expected "in" after "not"`},
		{`app = dns; drop table sessions`, 10, `unexpected character ';'`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *filter.Error", err)
			}
			if fe.Col != tc.col || !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("got column %d %q; want column %d containing %q", fe.Col, fe.Msg, tc.col, tc.msg)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	if _, err := Parse(strings.Repeat("(", 100) + "app = dns" + strings.Repeat(")", 100)); err == nil {
		t.Error("100 nested parentheses accepted")
	}
	if _, err := Parse(strings.Repeat("not ", 100) + "app = dns"); err == nil {
		t.Error("100 nested nots accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`src.tag = "iot" and dst.port in (22, 23) and bytes > 1MB and app = "tls"`,
		`not (src.ip in (10.0.0.0/8) or duration > 5m)`, `app = 'it\'s'`, `dst.port not in (1,2,3)`,
		`country != DE and asn > 100 or intel = urlhaus`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Col < 1 || fe.Col > len(in)+1 {
				t.Fatalf("error %v: column outside the input", err)
			}
			return
		}
		// What parses renders canonically, and the rendering parses to itself.
		s := String(e)
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("%q rendered as %q, which fails: %v", in, s, err)
		}
		if String(again) != s {
			t.Fatalf("%q → %q → %q", in, s, String(again))
		}
	})
}
