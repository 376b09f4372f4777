package dpi

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// testFlows are the DNS, TLS and HTTP test flows with their analyzers.
func testFlows(t *testing.T) map[string]struct {
	a Analyzer
	f *Flow
} {
	out := map[string]struct {
		a Analyzer
		f *Flow
	}{}
	for name, f := range dnsFlows(t) {
		out["dns "+name] = struct {
			a Analyzer
			f *Flow
		}{dnsAnalyzer, f}
	}
	for name, f := range tlsFlows(t) {
		out["tls "+name] = struct {
			a Analyzer
			f *Flow
		}{tlsAnalyzer, f}
	}
	for name, f := range httpFlows() {
		out["http "+name] = struct {
			a Analyzer
			f *Flow
		}{httpAnalyzer, f}
	}
	return out
}

// TestNewL7 checks that an L7 from Analyzer.NewL7 and an interning table
// decode to what a plain L7 does: absent lists stay nil.
func TestNewL7(t *testing.T) {
	for name, tc := range testFlows(t) {
		t.Run(name, func(t *testing.T) {
			want := &schema.L7{}
			tc.a.Decode(tc.f, want)
			f := *tc.f
			f.strs = &strTable{}
			for range 2 { // the second time with the strings interned
				got := tc.a.NewL7()
				tc.a.Decode(&f, got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-plain +NewL7)\n%s", diff)
				}
			}
		})
	}
}

// TestDecodeAllocs holds Match to no allocation and Decode, on the
// common flows of the busiest protocols once the engine's tables have seen
// them, to the L7 block and for HTTP the URI, which is not interned.
func TestDecodeAllocs(t *testing.T) {
	flows := testFlows(t)
	for name, want := range map[string]float64{
		"dns udp A with CNAME": 1, "dns tcp two queries": 1,
		"tls tls13": 1, "tls tls13 to an address": 1,
		"http get and response": 2,
	} {
		t.Run(name, func(t *testing.T) {
			tc, ok := flows[name]
			if !ok {
				t.Fatal("no such test flow")
			}
			f := *tc.f
			f.strs = &strTable{}
			tc.a.Decode(&f, tc.a.NewL7()) // fills the tables
			if n := testing.AllocsPerRun(20, func() { tc.a.Decode(&f, tc.a.NewL7()) }); n > want {
				t.Errorf("Decode: %v allocations, want %v", n, want)
			}
			if n := testing.AllocsPerRun(20, func() { tc.a.Match(&f) }); n != 0 {
				t.Errorf("Match: %v allocations", n)
			}
		})
	}
}
