package detect

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestRepeatsFoldIntoOneFinding(t *testing.T) {
	sink := &memSink{}
	e, reg := newEngineReg(t, DefaultConfig(), sink, scanner())
	const n = 1000 // one every 100 ms: 100 s of session time
	for i := range n {
		write(t, e, session(fmt.Sprintf("C%d", i), time.Duration(i)*100*time.Millisecond, 22))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got := sink.latest()
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	// Raised, one update after UpdateEvery (60 s), the last state at Close.
	if len(sink.writes) != 3 {
		t.Errorf("%d writes, want 3 (raise, one due update, close)", len(sink.writes))
	}
	f := got[0]
	want := schema.Finding{
		ID: findingID(key{"acme", "scan", "horizontal-scan|ip:10.0.0.5"}, t0), Tenant: "acme", Time: t0,
		Detector: "scan", Rule: "horizontal-scan", Severity: "medium", Entities: []string{"ip:10.0.0.5", "port:22"},
		State: StateActive, DedupeKey: "horizontal-scan|ip:10.0.0.5", Technique: "T1046",
	}
	if diff := cmp.Diff(want, f, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Evidence" }, cmp.Ignore())); diff != "" {
		t.Errorf("finding (-want +got):\n%s", diff)
	}
	ev := evidence(t, f)
	last := t0.Add((n - 1) * 100 * time.Millisecond)
	if ev.Count != n || !ev.FirstSeen.Equal(t0) || !ev.LastSeen.Equal(last) || ev.State != StateActive {
		t.Errorf("count %d first %v last %v state %s, want %d %v %v active", ev.Count, ev.FirstSeen, ev.LastSeen, ev.State, n, t0, last)
	}
	if len(ev.Sessions) != 40 || ev.Sessions[0] != "C0/0" || ev.Sessions[19] != "C19/0" ||
		ev.Sessions[20] != "C980/0" || ev.Sessions[39] != "C999/0" || ev.SessionsOmitted != n-40 {
		t.Errorf("sessions %v, omitted %d: want C0–C19, C980–C999, 960 omitted", ev.Sessions, ev.SessionsOmitted)
	}
	if ev.Summary != "probe of 10.0.1.9" || ev.Values["port"] != 22 {
		t.Errorf("summary %q values %v", ev.Summary, ev.Values)
	}
	if got := metricValue(t, reg, "osprey_detect_reports_total", "detector", "scan"); got != n {
		t.Errorf("osprey_detect_reports_total = %v, want %d", got, n)
	}
	if got := metricValue(t, reg, "osprey_detect_findings_total", "detector", "scan", "severity", "medium"); got != 1 {
		t.Errorf("osprey_detect_findings_total = %v, want 1", got)
	}
	if got := metricValue(t, reg, "osprey_detect_active_findings"); got != 1 {
		t.Errorf("osprey_detect_active_findings = %v, want 1", got)
	}
	if !sink.closed {
		t.Error("sink not closed")
	}
}

func TestIDStableAcrossRuns(t *testing.T) {
	run := func() string {
		sink := &memSink{}
		e := newEngine(t, DefaultConfig(), sink, scanner())
		write(t, e, session("C1", time.Minute, 22), session("C2", 2*time.Minute, 22))
		e.Close()
		return sink.latest()[0].ID
	}
	if a, b := run(), run(); a != b {
		t.Errorf("ids %s and %s differ across runs of the same input", a, b)
	}
}

func TestTicksFollowSessionTime(t *testing.T) {
	det := &fake{name: "ticker"}
	e := newEngine(t, DefaultConfig(), &memSink{}, det)
	// 35 s of sessions from 2020, one per second, then a late one that
	// must not move time back.
	for i := range 36 {
		write(t, e, session("C", time.Duration(i)*time.Second, 80))
	}
	write(t, e, session("late", 0, 80))
	e.Close()
	want := []time.Time{t0.Add(10 * time.Second), t0.Add(20 * time.Second), t0.Add(30 * time.Second), t0.Add(35 * time.Second)}
	if diff := cmp.Diff(want, det.ticks); diff != "" {
		t.Errorf("ticks (-want +got):\n%s", diff)
	}
}

func TestAdvanceTicksAQuietLiveEngine(t *testing.T) {
	det := &fake{name: "ticker"}
	e := newEngine(t, DefaultConfig(), &memSink{}, det)
	write(t, e, session("C", 0, 80))
	if err := e.Advance(context.Background(), t0.Add(15*time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(det.ticks) != 1 || !det.ticks[0].Equal(t0.Add(15*time.Second)) {
		t.Errorf("ticks %v, want one at t0+15s", det.ticks)
	}
}

func TestMetricsReachMetricDetectors(t *testing.T) {
	det := &metricFake{fake: fake{name: "defender"}}
	sink := &memSink{}
	e := newEngine(t, DefaultConfig(), sink, det)
	ms := []schema.DeviceMetric{{Device: "thermostat-1", Time: t0, Name: "num-messages-sent", Value: 900}}
	if err := e.WriteMetrics(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if got := sink.latest(); len(got) != 1 || got[0].Rule != "num-messages-sent" || !got[0].Time.Equal(t0) {
		t.Errorf("findings %+v, want one num-messages-sent at t0", got)
	}
}

type metricFake struct{ fake }

func (m *metricFake) Metric(dm *schema.DeviceMetric, report func(Report)) {
	report(Report{Time: dm.Time, Rule: dm.Name, Severity: High, Entities: []string{"thing:" + dm.Device}})
}

func TestEvictionBoundsMemory(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxActive = 2
	sink := &memSink{}
	det := &fake{name: "per-port", on: func(s *schema.Session, report func(Report)) {
		report(Report{Time: s.End, Rule: "port", Entities: []string{fmt.Sprintf("port:%d", s.Resp.Port)}})
	}}
	e, reg := newEngineReg(t, cfg, sink, det)
	write(t, e, session("A", 0, 1), session("B", time.Second, 2), session("A", 2*time.Second, 1), session("C", 3*time.Second, 3))
	if evicted := metricValue(t, reg, "osprey_detect_evicted_total"); len(e.open) != 2 || evicted != 1 {
		t.Fatalf("%d open, %v evicted; want 2 and 1", len(e.open), evicted)
	}
	// port:2 was the least recently reported: cleared early, marked evicted.
	for _, f := range sink.latest() {
		evicted := evidence(t, f).Evicted
		if want := f.Entities[0] == "port:2"; evicted != want || (f.State == StateCleared) != want {
			t.Errorf("%v: state %s evicted %v, want evicted and cleared only for port:2", f.Entities, f.State, evicted)
		}
	}
	e.Close()
}

func TestConcurrentWriters(t *testing.T) {
	seen := 0 // unguarded: the race detector fails the test unless the engine serialises
	det := &fake{name: "count", on: func(*schema.Session, func(Report)) { seen++ }}
	e := newEngine(t, DefaultConfig(), &memSink{}, det, scanner())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				write(t, e, session(fmt.Sprintf("G%dC%d", g, i), time.Duration(i)*time.Second, 22))
			}
		})
	}
	wg.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if seen != 800 {
		t.Errorf("detector saw %d sessions, want 800", seen)
	}
	if err := e.WriteSessions(context.Background(), nil); err == nil {
		t.Error("WriteSessions after Close succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"tick", func(c *Config) { c.TickEvery = 0 }, "tick_every: 0s, want a positive duration"},
		{"clear", func(c *Config) { c.ClearAfter = -time.Second }, "clear_after: -1s, want a positive duration"},
		{"override", func(c *Config) { c.ClearAfterByDetector = map[string]time.Duration{"beacon": 0} },
			"clear_after_by_detector.beacon: 0s, want a positive duration"},
		{"max_active", func(c *Config) { c.MaxActive = 0 }, "max_active: 0, want at least 1"},
		{"max_sessions", func(c *Config) { c.MaxSessions = 1 }, "max_sessions: 1, want at least 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNonFiniteValuesAreDropped(t *testing.T) {
	sink := &memSink{}
	det := &fake{name: "score", on: func(s *schema.Session, report func(Report)) {
		report(Report{Time: s.End, Rule: "odd", Values: map[string]float64{"score": math.NaN(), "ratio": math.Inf(1), "n": 1}})
	}}
	e := newEngine(t, DefaultConfig(), sink, det)
	write(t, e, session("C1", 0, 80))
	e.Close()
	if diff := cmp.Diff(map[string]float64{"n": 1}, evidence(t, sink.latest()[0]).Values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

type evicting struct {
	fake
	n uint64
}

func (e *evicting) Evictions() uint64 { return e.n }

func TestDetectorEvictionsExported(t *testing.T) {
	a, b := &evicting{fake: fake{name: "tally"}, n: 3}, &evicting{fake: fake{name: "tally"}, n: 4}
	_, reg := newEngineReg(t, DefaultConfig(), &memSink{}, a, b, scanner())
	if got := metricValue(t, reg, "osprey_detect_detector_evictions_total", "detector", "tally"); got != 7 {
		t.Errorf("evictions of the two tally detectors: %v, want 7", got)
	}
}

// finishing reports once at Close, and clears its finding on a port-80
// session.
type finishing struct{ fake }

func (f *finishing) Finish(now time.Time, report func(Report)) {
	report(Report{Rule: "pending", Entities: []string{"ip:10.0.0.9"}, DedupeKey: "pending", Summary: "reported at the end"})
}

func TestClearReportAndFinish(t *testing.T) {
	sink := &memSink{}
	det := &finishing{fake{name: "scan", on: func(s *schema.Session, report func(Report)) {
		r := Report{Rule: "horizontal-scan", Entities: []string{"ip:" + s.Orig.IP.String()}, DedupeKey: "k"}
		r.Clear = s.Resp.Port == 80
		report(r)
	}}}
	e := newEngine(t, DefaultConfig(), sink, det)
	write(t, e, session("C1", 0, 22))
	write(t, e, session("C2", time.Second, 80))
	got := sink.latest()
	if len(got) != 1 || got[0].State != StateCleared {
		t.Fatalf("after a Clear report: %+v", got)
	}
	write(t, e, session("C3", 2*time.Second, 80)) // nothing open: a Clear raises nothing
	if len(sink.latest()) != 1 {
		t.Errorf("a Clear report raised a finding: %+v", sink.latest())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	var pending int
	for _, f := range sink.latest() {
		if f.Rule == "pending" && f.State == StateActive {
			pending++
		}
	}
	if pending != 1 {
		t.Errorf("Finish's report is not among the findings: %+v", sink.latest())
	}
}

// TestRepeatsAddTheirEntities: a repeat naming entities the finding
// lacks adds them, up to maxEntities, without changing a finding already
// emitted.
func TestRepeatsAddTheirEntities(t *testing.T) {
	first := &Report{Time: t0, Rule: "new-destination", Entities: []string{"ip:10.0.0.5", "ip:192.0.2.1"}}
	tr := newTracked(key{"acme", "allowlist", "new-destination|10.0.0.5"}, first)
	tr.fold(first, 40)
	emitted := tr.finding()
	for i := range 100 {
		tr.fold(&Report{Time: t0, Entities: []string{"ip:10.0.0.5", fmt.Sprintf("ip:192.0.2.%d", i+2)}}, 40)
	}
	got := tr.finding().Entities
	if len(got) != maxEntities || !slices.IsSorted(got) || !slices.Contains(got, "ip:192.0.2.2") || !slices.Contains(got, "ip:10.0.0.5") {
		t.Errorf("entities %v: want the first %d, sorted", got, maxEntities)
	}
	if !slices.Equal(emitted.Entities, []string{"ip:10.0.0.5", "ip:192.0.2.1"}) {
		t.Errorf("an emitted finding's entities changed to %v", emitted.Entities)
	}
}
