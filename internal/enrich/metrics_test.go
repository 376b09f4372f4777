package enrich

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCollector exports a load count, the stale flag and the geo lookup
// errors for every source.
func TestCollector(t *testing.T) {
	cfg, _ := fixture(t)
	e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range mfs {
		got[mf.GetName()] = len(mf.GetMetric())
		if mf.GetName() == "osprey_enrich_reloads_total" {
			for _, m := range mf.GetMetric() {
				if m.GetCounter().GetValue() != 1 {
					t.Errorf("%v: %v loads, want 1", m.GetLabel(), m.GetCounter().GetValue())
				}
			}
		}
	}
	for name, n := range map[string]int{"osprey_enrich_reloads_total": 4, "osprey_enrich_source_stale": 4, "osprey_enrich_geo_lookup_errors_total": 1} {
		if got[name] < n {
			t.Errorf("%s: %d series, want at least %d (all: %v)", name, got[name], n, got)
		}
	}
}
