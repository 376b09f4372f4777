package intel

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// The fuzz targets parse arbitrary bytes and check that what is kept can be
// found again and that every rejection names the file.

const fuzzPath = "fuzz.feed"

func FuzzPlain(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBuilder(fuzzPath)
		parsePlain(b, data)
		checkFeed(t, b.feed("fuzz"))
	})
}

func FuzzCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, column string) {
		b := newBuilder(fuzzPath)
		if err := parseCSV(b, data, column); err != nil {
			return
		}
		checkFeed(t, b.feed("fuzz"))
	})
}

func FuzzSTIX(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBuilder(fuzzPath)
		if err := parseSTIX(b, data, time.Unix(1750000000, 0)); err != nil {
			return
		}
		checkFeed(t, b.feed("fuzz"))
	})
}

func FuzzSTIXPattern(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern string) {
		values, err := parsePattern(pattern)
		if err != nil {
			return
		}
		for _, v := range values {
			if !strings.Contains(pattern, v.written) && !strings.Contains(pattern, `\`) {
				t.Errorf("value %q is not in the pattern", v.written)
			}
			ind, err := parseIndicator(v.written)
			if err != nil || ind != v.ind {
				t.Errorf("value %q: parsed %+v, %v; pattern gave %+v", v.written, ind, err, v.ind)
			}
		}
	})
}

// checkFeed finds every kept indicator again through a Set.
func checkFeed(t *testing.T, f *Feed) {
	t.Helper()
	s := NewSet(f)
	want := func(hits []schema.IntelHit, text string) {
		t.Helper()
		if !slices.ContainsFunc(hits, func(h schema.IntelHit) bool { return h.Indicator == text }) {
			t.Errorf("indicator %q not found again; hits %v", text, hits)
		}
	}
	for _, e := range f.v4 {
		want(s.IP(netip.AddrFrom4(e.key), nil), f.indicator(e.ind))
	}
	for _, e := range f.v6 {
		want(s.IP(netip.AddrFrom16(e.key), nil), f.indicator(e.ind))
	}
	for _, e := range f.prefixes {
		want(s.IP(e.key.Addr(), nil), f.indicator(e.ind))
	}
	for _, e := range f.domains {
		want(s.Domain("x."+strings.ToUpper(e.key)+".", "dns.query", nil), f.indicator(e.ind))
	}
	n, errs := f.Rejected()
	if n < len(errs) || len(errs) > keptErrors {
		t.Errorf("Rejected() = %d with %d errors", n, len(errs))
	}
	for _, err := range errs {
		if !strings.HasPrefix(err.Error(), fuzzPath) {
			t.Errorf("error %q does not name the file", err)
		}
	}
}
