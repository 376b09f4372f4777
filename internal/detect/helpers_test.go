package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var t0 = time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC) // past: the engine must not look at the wall clock

// fake reports through on for every session, and records its ticks.
type fake struct {
	name  string
	on    func(s *schema.Session, report func(Report))
	ticks []time.Time
}

func (f *fake) Name() string { return f.name }
func (f *fake) Session(s *schema.Session, report func(Report)) {
	if f.on != nil {
		f.on(s, report)
	}
}
func (f *fake) Tick(now time.Time, _ func(Report)) { f.ticks = append(f.ticks, now) }

// scanner reports every session whose responder port is 22 as a scan by
// its originator.
func scanner() *fake {
	return &fake{name: "scan", on: func(s *schema.Session, report func(Report)) {
		if s.Resp.Port != 22 {
			return
		}
		src := "ip:" + s.Orig.IP.String()
		report(Report{
			Time: s.End, Tenant: s.Tenant, Rule: "horizontal-scan", Severity: Medium,
			Entities: []string{src, "port:22", src}, DedupeKey: "horizontal-scan|" + src,
			Technique: "T1046", Summary: fmt.Sprintf("probe of %s", s.Resp.IP),
			Sessions: []string{fmt.Sprintf("%s/%d", s.UID, s.Seq)},
			Values:   map[string]float64{"port": float64(s.Resp.Port)},
		})
	}}
}

// session ends at t0+offset; port 22 makes the scanner report.
func session(uid string, offset time.Duration, port uint16) schema.Session {
	var s schema.Session
	s.UID, s.Tenant = uid, "acme"
	s.Start, s.End = t0.Add(offset-time.Second), t0.Add(offset)
	s.Orig.IP = netip.MustParseAddr("10.0.0.5")
	s.Resp.IP, s.Resp.Port = netip.MustParseAddr("10.0.1.9"), port
	return s
}

// memSink records every write, to check what is written and how often.
type memSink struct {
	mu     sync.Mutex
	writes []schema.Finding
	closed bool
}

func (m *memSink) WriteFindings(_ context.Context, b []schema.Finding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes = append(m.writes, b...)
	return nil
}

func (m *memSink) Close() error { m.closed = true; return nil }

// latest is the last state written of each finding, in order of first write.
func (m *memSink) latest() []schema.Finding {
	idx := map[string]int{}
	var out []schema.Finding
	for _, f := range m.writes {
		if i, ok := idx[f.ID]; ok {
			out[i] = f
			continue
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}

func evidence(t *testing.T, f schema.Finding) Evidence {
	t.Helper()
	var ev Evidence
	if err := json.Unmarshal(f.Evidence, &ev); err != nil {
		t.Fatalf("evidence of %s: %v", f.ID, err)
	}
	return ev
}

func newEngine(t testing.TB, cfg Config, sink FindingSink, dets ...Detector) *Engine {
	t.Helper()
	e, err := New(cfg, dets, sink)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func write(t testing.TB, e *Engine, ss ...schema.Session) {
	t.Helper()
	if err := e.WriteSessions(context.Background(), ss); err != nil {
		t.Fatal(err)
	}
}

// metricValue reads a counter or gauge from reg, the series whose labels
// include the given name=value pairs.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

func newEngineReg(t *testing.T, cfg Config, sink FindingSink, dets ...Detector) (*Engine, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	e, err := New(cfg, dets, sink, WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	return e, reg
}
