package scenario

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Targets of issue 7.
const (
	minRecall          = 0.9
	maxFalsePer100Hour = 1.0
)

// collect keeps every finding state the engine writes.
type collect struct{ findings []schema.Finding }

func (c *collect) WriteFindings(_ context.Context, b []schema.Finding) error {
	c.findings = append(c.findings, b...)
	return nil
}

func (c *collect) Close() error { return nil }

// detectAll runs the engine with the scenario's detectors over sc's
// sessions and metrics, in time order, and returns the findings written
// and the number of sessions fed.
func detectAll(t testing.TB, sc *Scenario, bcfg behave.Config) ([]schema.Finding, int) {
	t.Helper()
	ds, err := Detectors(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &collect{}
	e, err := detect.New(detect.DefaultConfig(), ds, sink)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for b := range sc.Records() {
		n += len(b.Sessions)
		if err := e.WriteSessions(context.Background(), b.Sessions); err != nil {
			t.Fatal(err)
		}
		if err := e.WriteMetrics(context.Background(), b.Metrics); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.findings, n
}

// qualityConfig is DefaultConfig (1 728 device-hours, 80 incidents), or
// with -short 800 device-hours and 40 incidents. The short run keeps 8
// hours for its incidents: packed tighter, outliers of one statistical
// behaviour fall in one hour and move the small fleet's percentile.
func qualityConfig(short bool) Config {
	cfg := DefaultConfig()
	if short {
		cfg.Hours, cfg.Devices, cfg.VMs, cfg.Incidents = 40, 12, 8, 2
	}
	return cfg
}

// TestQuality runs every behavioural detector with its defaults, and
// the scenario's policy, over the scenario and holds them to the
// targets: recall of at least 90 % overall and for each kind, at most
// one false finding per 100 device-hours.
func TestQuality(t *testing.T) {
	cfg := qualityConfig(testing.Short())
	sc, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	findings, n := detectAll(t, sc, behave.DefaultConfig())
	r := Score(sc.Labels(), findings, cfg.DeviceHours())
	t.Logf("%d sessions, %d devices and VMs over %d hours\n%s", n, cfg.Devices+cfg.VMs, cfg.Hours, r)
	if r.Recall() < minRecall {
		t.Errorf("recall %.0f%%, want at least %.0f%%", 100*r.Recall(), 100*minRecall)
	}
	for _, k := range r.Kinds {
		if k.Injected > 0 && k.Recall() < minRecall {
			t.Errorf("%s: recall %.0f%% (%d of %d), want at least %.0f%%", k.Kind, 100*k.Recall(), k.Detected, k.Injected, 100*minRecall)
		}
	}
	for kind := range Kinds {
		if !hasKind(r, kind) {
			t.Errorf("no %s incident injected", kind)
		}
	}
	if got := r.FalsePer100DeviceHours(); got > maxFalsePer100Hour {
		t.Errorf("%.2f false findings per 100 device-hours, want at most %.0f", got, maxFalsePer100Hour)
	}
}

func hasKind(r Report, kind string) bool {
	for _, k := range r.Kinds {
		if k.Kind == kind && k.Injected > 0 {
			return true
		}
	}
	return false
}

// TestDeterministic: the same seed gives the same sessions, and so the
// same findings with the same ids.
func TestDeterministic(t *testing.T) {
	cfg := qualityConfig(true)
	cfg.Devices, cfg.VMs = 6, 4
	var runs [2][]schema.Finding
	for i := range runs {
		sc, err := Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		runs[i], _ = detectAll(t, sc, behave.DefaultConfig())
	}
	if len(runs[0]) == 0 {
		t.Fatal("no findings")
	}
	if diff := cmp.Diff(runs[0], runs[1]); diff != "" {
		t.Errorf("second run differs (-first +second):\n%s", diff)
	}
}
