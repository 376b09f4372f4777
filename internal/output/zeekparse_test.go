package output

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const hdr = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n" +
	"#fields\tts\tid.orig_h\tid.orig_p\tlocal_orig\torig_pkts\tduration\ttunnel_parents\n" +
	"#types\ttime\taddr\tport\tbool\tcount\tinterval\tset[string]\n"

func TestParseZeekConnErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		line        int
		field, want string
	}{
		{"data before header", "a\tb\n", 1, "", "data before the #fields header"},
		{"row too narrow", "#fields\ta\tb\n1\n", 2, "", "1 fields, the #fields header has 2"},
		{"types mismatch", "#fields\ta\tb\n#types\tcount\n", 2, "", "#types has 1 entries, #fields 2"},
		{"types first", "#types\tcount\n", 1, "", "#types before #fields"},
		{"repeated field", "#fields\ta\ta\n", 1, "", `field "a" is empty or repeated`},
		{"bad time", hdr + "yesterday\t10.0.0.1\t80\tT\t1\t0.5\t-\n", 7, "ts", `"yesterday" is not a time`},
		{"bad addr", hdr + "1.5\t10.0.0.300\t80\tT\t1\t0.5\t-\n", 7, "id.orig_h", `"10.0.0.300" is not a addr`},
		{"bad port", hdr + "1.5\t10.0.0.1\t65536\tT\t1\t0.5\t-\n", 7, "id.orig_p", `"65536" is not a port`},
		{"bad bool", hdr + "1.5\t10.0.0.1\t80\ttrue\t1\t0.5\t-\n", 7, "local_orig", `"true" is not a bool`},
		{"bad count", hdr + "1.5\t10.0.0.1\t80\tT\t-1\t0.5\t-\n", 7, "orig_pkts", `"-1" is not a count`},
		{"bad interval", hdr + "1.5\t10.0.0.1\t80\tT\t1\tlong\t-\n", 7, "duration", `"long" is not a interval`},
		{"empty separator", "#separator \n", 1, "", "#separator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseZeekConn(strings.NewReader(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if pe.Line != tc.line || pe.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q (line %d, field %q), want line %d, field %q, containing %q", err, pe.Line, pe.Field, tc.line, tc.field, tc.want)
			}
		})
	}
}

func TestParseZeekConnLongLine(t *testing.T) {
	in := "#fields\ta\n" + strings.Repeat("x", maxZeekLine+1) + "\n"
	_, err := ParseZeekConn(strings.NewReader(in))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Errorf("error %v, want one on line 2", err)
	}
}

func TestParseZeekConnValues(t *testing.T) {
	rows, err := ParseZeekConn(strings.NewReader(hdr +
		"XXXXXXXXXX.XXXXXX\tfe80::1\t5353\tF\t3\t-\t(empty)\n" +
		"1258531221.486539\t10.0.0.1\t80\tT\t1\t2.000009\tC1,C\\x2c2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].Line != 8 || rows[0].Get("id.orig_h") != "fe80::1" || rows[0].Get("nope") != "" {
		t.Fatalf("rows %+v", rows)
	}
	s, err := rows[1].Session()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Start.UnixMicro(); got != 1258531221486539 {
		t.Errorf("start %d µs", got)
	}
	if d := s.End.Sub(s.Start); d != 2000009*1000 {
		t.Errorf("duration %v", d)
	}
	if len(s.TunnelParents) != 2 || s.TunnelParents[1] != "C,2" {
		t.Errorf("tunnel parents %q", s.TunnelParents)
	}
	s0, err := rows[0].Session()
	if err != nil || !s0.Start.IsZero() || s0.TunnelParents != nil || s0.Proto != 0 {
		t.Errorf("masked row: %+v, %v", s0, err)
	}
}

// TestFuzzSeedCorpus keeps one seed per Zeek baseline conn.log in
// testdata/fuzz/FuzzParseZeekConn (rewritten with -update).
func TestFuzzSeedCorpus(t *testing.T) {
	for _, path := range baselines(t) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		seed := "go test fuzz v1\nstring(" + strconv.Quote(string(raw)) + ")\n"
		name := filepath.Join("testdata", "fuzz", "FuzzParseZeekConn", "baseline-"+filepath.Base(filepath.Dir(path)))
		if *update {
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, []byte(seed), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(name); err != nil || string(got) != seed {
			t.Errorf("%s is missing or stale (go test -update): %v", name, err)
		}
	}
}

func FuzzParseZeekConn(f *testing.F) {
	f.Add(hdr + "1.5\t10.0.0.1\t80\tT\t1\t0.5\tC1,C2\n")
	f.Add("#separator ,\n#fields,a,b\n1,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ParseZeekConn(strings.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v is not a *ParseError with a line", err)
			}
			return
		}
		for _, r := range rows {
			if len(r.values) != len(r.Fields()) {
				t.Fatalf("line %d: %d values for %d fields", r.Line, len(r.values), len(r.Fields()))
			}
			for i, f := range r.Fields() {
				if r.Get(f) != r.values[i] {
					t.Fatalf("line %d: Get(%q) = %q, want %q", r.Line, f, r.Get(f), r.values[i])
				}
			}
			// Typed rows convert; errors must name the line.
			if _, err := r.Session(); err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line != r.Line {
					t.Fatalf("line %d: Session error %v", r.Line, err)
				}
			}
		}
	})
}
