package behave

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// t0 is far from the wall clock on purpose: detectors must take time
// from sessions only.
var t0 = time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)

var uidSeq int

// sess builds a finished TCP session from orig to resp:port starting at
// at and lasting a second, answered (SF) unless changed by the options.
func sess(orig, resp string, port uint16, at time.Duration, opts ...func(*schema.Session)) *schema.Session {
	uidSeq++
	s := &schema.Session{
		UID:   "C" + strconv.Itoa(uidSeq),
		Final: true, Start: t0.Add(at), End: t0.Add(at + time.Second),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr(orig), Port: uint16(40000 + uidSeq%20000)},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr(resp), Port: port},
		Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf",
		OrigPkts: 5, RespPkts: 5, OrigBytes: 100, RespBytes: 200,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func refused(s *schema.Session) {
	s.ConnState, s.History, s.RespPkts, s.OrigBytes, s.RespBytes = "REJ", "Sr", 1, 0, 0
}

func udp(s *schema.Session) { s.Proto, s.Transport = 17, "udp" }

// run feeds sessions to a detector, ticking at each session's end as
// the engine does, and returns the reports.
func run(d detect.Detector, ss ...*schema.Session) []detect.Report {
	var out []detect.Report
	add := func(r detect.Report) { out = append(out, r) }
	for _, s := range ss {
		d.Session(s, add)
		if t, ok := d.(detect.Ticker); ok {
			t.Tick(s.End, add)
		}
	}
	return out
}

// one checks that exactly one report came with this dedupe key and
// these entities among others.
func one(t *testing.T, rs []detect.Report, key string, entities ...string) detect.Report {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d reports, want 1: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.DedupeKey != key {
		t.Errorf("dedupe key %q, want %q", r.DedupeKey, key)
	}
	for _, e := range entities {
		if !slices.Contains(r.Entities, e) {
			t.Errorf("entities %v lack %q", r.Entities, e)
		}
	}
	if len(r.Sessions) == 0 || len(r.Sessions) > maxExamples {
		t.Errorf("%d example sessions, want 1 to %d", len(r.Sessions), maxExamples)
	}
	if r.Summary == "" || r.Rule == "" || r.Severity == "" || r.Time.IsZero() {
		t.Errorf("incomplete report %+v", r)
	}
	return r
}

func none(t *testing.T, rs []detect.Report) {
	t.Helper()
	if len(rs) != 0 {
		t.Fatalf("got %d reports, want none: %+v", len(rs), rs[0])
	}
}

func itoa3(i int) string { return strconv.Itoa(i % 250) }
