package scenario

import (
	"context"
	"testing"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// collect keeps every finding state the engine writes.
type collect struct{ findings []schema.Finding }

func (c *collect) WriteFindings(_ context.Context, b []schema.Finding) error {
	c.findings = append(c.findings, b...)
	return nil
}

func (c *collect) Close() error { return nil }

// detectAll runs the engine with the scenario's detectors over sc and
// returns the findings written, and the sessions fed.
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
	for batch := range sc.Sessions() {
		n += len(batch)
		if err := e.WriteSessions(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.findings, n
}

func qualityConfig(short bool) Config {
	cfg := DefaultConfig()
	if short {
		cfg.Hours, cfg.Devices, cfg.VMs, cfg.Incidents = 34, 12, 8, 2
	}
	return cfg
}

func TestQuality(t *testing.T) {
	cfg := qualityConfig(testing.Short())
	sc, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	findings, n := detectAll(t, sc, behave.DefaultConfig())
	r := Score(sc.Labels(), findings, cfg.DeviceHours())
	t.Logf("%d sessions, %.0f device-hours\n%s", n, cfg.DeviceHours(), r)
}
