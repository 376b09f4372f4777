package profile

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// t0 is far from the wall clock on purpose: the detector must take time
// from metrics and sessions only.
var t0 = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)

// profileJSON is one profile named P with the given behaviours.
func profileJSON(behaviors string) string {
	return `{"securityProfileName":"P","behaviors":[` + behaviors + `]}`
}

func newDetector(t testing.TB, cfg Config, profiles ...string) *Detector {
	t.Helper()
	var ps []SecurityProfile
	for i, p := range profiles {
		got, err := Parse("test"+strconv.Itoa(i), []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, got...)
	}
	d, err := NewFromProfiles(cfg, ps)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func metric(thing, name string, at time.Duration, v float64, list ...string) *schema.DeviceMetric {
	if list != nil {
		v = float64(len(list))
	}
	return &schema.DeviceMetric{Tenant: "acme", Device: thing, Time: t0.Add(at), Name: name, Value: v, List: list}
}

// feed gives the detector metrics, ticking at each one's time as the
// engine does, and returns the reports.
func feed(d *Detector, ms ...*schema.DeviceMetric) []detect.Report {
	var out []detect.Report
	add := func(r detect.Report) { out = append(out, r) }
	for _, m := range ms {
		d.Metric(m, add)
		d.Tick(m.Time, add)
	}
	return out
}

// sessions gives the detector sessions, then ticks at end so the
// window holding them closes.
func sessions(d *Detector, end time.Time, ss ...*schema.Session) []detect.Report {
	var out []detect.Report
	add := func(r detect.Report) { out = append(out, r) }
	for _, s := range ss {
		d.Session(s, add)
	}
	d.Tick(end, add)
	return out
}

var uid int

// tcp is an answered TCP session from orig to resp:port ending at at.
func tcp(orig, resp string, port uint16, at time.Duration, opts ...func(*schema.Session)) *schema.Session {
	uid++
	s := &schema.Session{UID: "C" + strconv.Itoa(uid), Final: true, Tenant: "acme",
		Start: t0.Add(at - time.Second), End: t0.Add(at),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr(orig), Port: 40000},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr(resp), Port: port},
		Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf",
		OrigPkts: 5, RespPkts: 4, OrigIPBytes: 500, RespIPBytes: 900}
	for _, o := range opts {
		o(s)
	}
	return s
}

// engineSink records the findings the engine writes.
type engineSink struct{ writes []schema.Finding }

func (s *engineSink) WriteFindings(_ context.Context, b []schema.Finding) error {
	s.writes = append(s.writes, b...)
	return nil
}
func (s *engineSink) Close() error { return nil }

// latest is the last state written of each finding, by id.
func (s *engineSink) latest() map[string]schema.Finding {
	out := map[string]schema.Finding{}
	for _, f := range s.writes {
		out[f.ID] = f
	}
	return out
}

func newEngine(t *testing.T, d *Detector) (*detect.Engine, *engineSink) {
	t.Helper()
	cfg := detect.DefaultConfig() // an hour of quiet: findings clear by the detector's Clear reports
	sink := &engineSink{}
	e, err := detect.New(cfg, []detect.Detector{d}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return e, sink
}
