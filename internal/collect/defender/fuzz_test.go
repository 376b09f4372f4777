package defender

import (
	"testing"
	"time"
)

// The fuzz targets check that nothing a device or a feed sends makes the
// parsers panic, and that what they accept converts to metrics.

func fuzzReport(f *testing.F, format Format) {
	p := testParser(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := p.Parse(b, format)
		if err != nil {
			if _, ok := err.(*ReportError); !ok {
				t.Fatalf("error %T is not a *ReportError: %v", err, err)
			}
			return
		}
		if r.ID <= 0 {
			t.Fatalf("accepted report id %d", r.ID)
		}
		r.AppendMetrics(nil, "", "thing", time.Unix(0, 0))
	})
}

func FuzzReportJSON(f *testing.F) { fuzzReport(f, FormatJSON) }

func FuzzReportCBOR(f *testing.F) { fuzzReport(f, FormatCBOR) }

func FuzzCloudLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseCloudLine(nil, b, "", 64)
		if err != nil {
			if _, ok := err.(*ReportError); !ok || len(ms) != 0 {
				t.Fatalf("error %T with %d metrics: %v", err, len(ms), err)
			}
		}
	})
}
