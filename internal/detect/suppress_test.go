package detect

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestVerdictSuppressesLaterReports(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.SuppressionFile = filepath.Join(t.TempDir(), "suppressions.yaml")
	cfg.SuppressFor = 24 * time.Hour
	sink := &memSink{}
	e, reg := newEngineReg(t, cfg, sink, scanner())
	write(t, e, session("C1", 0, 22))
	id := sink.latest()[0].ID
	if err := e.Verdict(ctx, id, FalsePositive, "the vulnerability scanner"); err != nil {
		t.Fatal(err)
	}
	write(t, e, session("C2", time.Hour, 22), session("C3", 2*time.Hour, 22))
	if got := sink.latest(); len(got) != 1 {
		t.Fatalf("%d findings, want only the verdicted one: suppressed reports must not raise", len(got))
	}
	if n := metricValue(t, reg, "osprey_detect_suppressed_total"); n != 2 {
		t.Errorf("osprey_detect_suppressed_total = %v, want 2", n)
	}
	sups := e.Suppressions()
	want := []Suppression{{
		Tenant: "acme", Detector: "scan", Rule: "horizontal-scan", Entities: []string{"ip:10.0.0.5", "port:22"},
		Verdict: FalsePositive, Note: "the vulnerability scanner", Finding: id,
		Created: t0, Expires: t0.Add(24 * time.Hour), Hits: 2,
	}}
	if diff := cmp.Diff(want, sups, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())); diff != "" {
		t.Errorf("suppressions (-want +got):\n%s", diff)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The file brings them back after a restart; past its expiry the
	// suppression no longer holds.
	sink2 := &memSink{}
	e2 := newEngine(t, cfg, sink2, scanner())
	if diff := cmp.Diff(sups, e2.Suppressions()); diff != "" {
		t.Errorf("suppressions after restart (-saved +loaded):\n%s", diff)
	}
	write(t, e2, session("C4", 3*time.Hour, 22))
	if len(sink2.writes) != 0 {
		t.Errorf("a suppressed report raised %+v after restart", sink2.writes)
	}
	write(t, e2, session("C5", 25*time.Hour, 22))
	if got := sink2.latest(); len(got) != 1 || got[0].State != StateActive {
		t.Errorf("findings %+v after expiry, want one active", got)
	}
	if err := e2.RemoveSuppression(sups[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e2.Suppressions()); n != 0 {
		t.Errorf("%d suppressions after removal, want 0", n)
	}
	e2.Close()
}

func TestSuppressClosesMatchingOpenFindings(t *testing.T) {
	sink := &memSink{}
	e := newEngine(t, DefaultConfig(), sink, scanner())
	other := session("C2", time.Second, 22)
	other.Orig.IP = netip.MustParseAddr("10.0.0.6")
	write(t, e, session("C1", 0, 22), other)
	// Any rule of the scan detector about 10.0.0.6.
	s, err := e.Suppress(context.Background(), Suppression{Detector: "scan", Entities: []string{"ip:10.0.0.6"}, Verdict: BenignPositive})
	if err != nil {
		t.Fatal(err)
	}
	got := sink.latest()
	if got[0].State != StateActive || got[1].State != StateBenignPositive || evidence(t, got[1]).Suppression != s.ID {
		t.Errorf("states %s, %s (suppression %q); want active, benign_positive (%s)",
			got[0].State, got[1].State, evidence(t, got[1]).Suppression, s.ID)
	}
	if _, err := e.Suppress(context.Background(), Suppression{Detector: "scan", Verdict: "active"}); err == nil {
		t.Error("a suppression with verdict \"active\" was accepted")
	}
	e.Close()
}

func TestApplySuppressionsToStoredFindings(t *testing.T) {
	stored := func(id, state, rule string, at time.Time, entities ...string) schema.Finding {
		return schema.Finding{ID: id, Tenant: "acme", Time: at, Detector: "scan", Rule: rule, State: state,
			Entities: entities, Evidence: []byte(`{"count":3,"state":"` + state + `"}`)}
	}
	sups := []Suppression{{ID: "s1", Detector: "scan", Rule: "horizontal-scan", Entities: []string{"ip:10.0.0.5"},
		Verdict: FalsePositive, Note: "scanner", Expires: t0.Add(time.Hour)}}
	history := []schema.Finding{
		stored("old", StateCleared, "horizontal-scan", t0.Add(-24*time.Hour), "ip:10.0.0.5", "port:22"),
		stored("open", StateActive, "horizontal-scan", t0, "ip:10.0.0.5", "port:23"),
		stored("later", StateActive, "horizontal-scan", t0.Add(2*time.Hour), "ip:10.0.0.5"), // after expiry
		stored("other-ip", StateActive, "horizontal-scan", t0, "ip:10.0.0.6"),
		stored("other-rule", StateActive, "vertical-scan", t0, "ip:10.0.0.5"),
		stored("done", StateBenignPositive, "horizontal-scan", t0, "ip:10.0.0.5"),
	}
	changed, err := ApplySuppressions(history, sups)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range changed {
		ids = append(ids, f.ID)
		if ev := evidence(t, f); f.State != FalsePositive || ev.State != FalsePositive || ev.Verdict != FalsePositive ||
			ev.Note != "scanner" || ev.Suppression != "s1" || ev.Count != 3 {
			t.Errorf("%s: state %s evidence %+v", f.ID, f.State, ev)
		}
	}
	if diff := cmp.Diff([]string{"old", "open"}, ids); diff != "" {
		t.Errorf("changed ids (-want +got):\n%s", diff)
	}
	if history[1].State != StateActive {
		t.Error("ApplySuppressions changed its input")
	}
}

func TestSuppressionFileRejectsUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte("suppressions:\n- detector: scan\n  verdict: false_positive\n  colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.SuppressionFile = path
	if _, err := New(cfg, nil, &memSink{}); err == nil {
		t.Error("a suppression file with an unknown key was accepted")
	}
}

// A verdict given by another process (osprey findings verdict) reaches a
// running engine through the file: the open finding closes, later
// reports stay quiet.
func TestReloadSuppressionsFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.SuppressionFile = filepath.Join(t.TempDir(), "suppressions.yaml")
	sink := &memSink{}
	e := newEngine(t, cfg, sink, scanner())
	write(t, e, session("C1", 0, 22))
	f := sink.latest()[0]
	s, err := SuppressionFor(f, BenignPositive, "the scanner", t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SuppressionFor(f, "maybe", "", t0, 0); err == nil {
		t.Error("a suppression with a bad verdict was made")
	}
	if err := AddToSuppressionFile(cfg.SuppressionFile, s); err != nil {
		t.Fatal(err)
	}
	if err := e.ReloadSuppressions(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.latest()[0]; got.State != BenignPositive {
		t.Errorf("the open finding is %s after the reload, want %s", got.State, BenignPositive)
	}
	write(t, e, session("C2", time.Minute, 22))
	if len(sink.latest()) != 1 {
		t.Errorf("a suppressed report raised a finding: %+v", sink.latest())
	}
	if err := e.ReloadSuppressions(ctx); err != nil { // unchanged: the hit is kept
		t.Fatal(err)
	}
	if got := e.Suppressions(); len(got) != 1 || got[0].Hits != 1 || got[0].Finding != f.ID {
		t.Errorf("suppressions after a second reload: %+v", got)
	}
	listed, err := ReadSuppressionFile(cfg.SuppressionFile)
	if err != nil || len(listed) != 1 || listed[0].ID != s.ID {
		t.Errorf("the file lists %+v, %v", listed, err)
	}
}
