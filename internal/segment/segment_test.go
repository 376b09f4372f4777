package segment_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/segment"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// t0 is the start of the test range: 100 whole minutes.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

var scope = store.Scope{Tenant: "acme", Range: store.Range{Since: t0, Until: t0.Add(100 * time.Minute)}}

// segNet gives each segment its own addresses.
var segNet = map[string]byte{"app": 1, "db": 2, "web": 3, "mgmt": 4, "backup": 5, "internet": 0}

// flow is n sessions from one segment to another, ending at minute m of
// the range.
type flow struct {
	src, dst, proto string
	port            uint16
	n               int
	state, action   string
}

func sess(i int, src, dst, proto string, port uint16, state string, end time.Time, orig, resp uint64) schema.Session {
	ip := func(seg string, host int) netip.Addr {
		if seg == "internet" {
			return netip.AddrFrom4([4]byte{198, 51, 100, byte(host)})
		}
		return netip.AddrFrom4([4]byte{10, segNet[seg], 0, byte(host)})
	}
	s := schema.Session{
		Version: schema.SessionVersion, UID: fmt.Sprintf("C%s%s%s%d-%d", src, dst, proto, port, i), Tenant: "acme", Final: true,
		EndReason: "fin", Source: "pcap", Start: end.Add(-10 * time.Second), End: end, ConnState: state, Transport: proto,
		Orig:     schema.Endpoint{IP: ip(src, 10+i%50), Port: uint16(40000 + i), Segment: src},
		Resp:     schema.Endpoint{IP: ip(dst, 100), Port: port, Segment: dst},
		OrigPkts: 3, RespPkts: 2, OrigBytes: orig, RespBytes: resp,
	}
	switch proto {
	case "tcp":
		s.Proto = 6
	case "udp":
		s.Proto = 17
	case "icmp":
		s.Proto, s.Orig.Port, s.Resp.Port = 1, 8, 0
	}
	if state == "S0" || state == "REJ" {
		s.RespPkts, s.RespBytes = 0, 0
	}
	return s
}

func history(flows []flow) []schema.Session {
	var out []schema.Session
	for _, f := range flows {
		for i := range f.n {
			end := t0.Add(time.Duration(1+i*7%95)*time.Minute + 30*time.Second)
			s := sess(i, f.src, f.dst, f.proto, f.port, f.state, end, 100, 1000)
			if f.action != "" {
				s.Source, s.EndReason, s.Flow = "vpcflow", "window", &schema.Flow{Action: f.action}
			}
			out = append(out, s)
		}
	}
	return out
}

var observed = []flow{
	{src: "app", dst: "db", proto: "tcp", port: 5432, n: 10, state: "SF"},
	{src: "app", dst: "db", proto: "tcp", port: 6379, n: 4, state: "SF"},
	{src: "app", dst: "internet", proto: "tcp", port: 443, n: 6, state: "SF"},
	{src: "web", dst: "app", proto: "tcp", port: 8080, n: 5, state: "RSTO"},
	{src: "app", dst: "mgmt", proto: "udp", port: 514, n: 3, state: "S0"}, // one-way syslog: needed
	{src: "mgmt", dst: "app", proto: "icmp", n: 3, state: "OTH"},
	{src: "app", dst: "app", proto: "tcp", port: 22, n: 5, state: "SF"}, // inside a segment
	// Unanswered and rejected: never recommended.
	{src: "mgmt", dst: "db", proto: "tcp", port: 22, n: 10, state: "S0"},
	{src: "web", dst: "db", proto: "tcp", port: 3306, n: 5, state: "REJ"},
	{src: "app", dst: "db", proto: "tcp", port: 1433, n: 4, state: "OTH", action: "reject"},
	// Noise under min_sessions 3.
	{src: "web", dst: "db", proto: "tcp", port: 5432, n: 1, state: "SF"},
}

func open(t *testing.T, sessions []schema.Session) store.Store {
	t.Helper()
	st, err := duckdb.Open(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.WriteSessions(t.Context(), storetest.Records(t.Context(), sessions)); err != nil {
		t.Fatal(err)
	}
	return st
}

// longFlow began before the range: only its second record is in it.
func longFlow() []schema.Session {
	a := sess(0, "db", "backup", "tcp", 873, "S1", t0.Add(-time.Minute), 5000, 100)
	a.Final, a.EndReason = false, "active"
	b := a
	b.Seq, b.Final, b.EndReason, b.End, b.ConnState, b.OrigBytes = 1, true, "fin", t0.Add(20*time.Minute), "SF", 9000
	return []schema.Session{a, b}
}

func TestRecommend(t *testing.T) {
	st := open(t, append(history(observed), longFlow()...))
	got, err := segment.Recommend(t.Context(), st, scope, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []segment.Pair{
		{Src: "app", Dst: "db", Sessions: 14, Bytes: 14 * 1100, Ports: []segment.Port{
			{Proto: "tcp", Port: 5432, Sessions: 10, Bytes: 11000}, {Proto: "tcp", Port: 6379, Sessions: 4, Bytes: 4400}}},
		{Src: "app", Dst: "internet", Sessions: 6, Bytes: 6600, Ports: []segment.Port{{Proto: "tcp", Port: 443, Sessions: 6, Bytes: 6600}}},
		{Src: "web", Dst: "app", Sessions: 5, Bytes: 5500, Ports: []segment.Port{{Proto: "tcp", Port: 8080, Sessions: 5, Bytes: 5500}}},
		{Src: "app", Dst: "mgmt", Sessions: 3, Bytes: 300, Ports: []segment.Port{{Proto: "udp", Port: 514, Sessions: 3, Bytes: 300}}}, // no answer bytes
		{Src: "mgmt", Dst: "app", Sessions: 3, Bytes: 3300, Ports: []segment.Port{{Proto: "icmp", Port: 0, Sessions: 3, Bytes: 3300}}},
	}
	if diff := cmp.Diff(want, got.Items); diff != "" {
		t.Errorf("recommendations (-want +got):\n%s", diff)
	}
	// With every session counted, the noise and the flow that began
	// before the range (one session, its bytes in the range only) join.
	all, err := segment.Recommend(t.Context(), st, scope, 1)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, p := range all.Items {
		for _, port := range p.Ports {
			extra = append(extra, fmt.Sprintf("%s>%s %s/%d %d %d", p.Src, p.Dst, port.Proto, port.Port, port.Sessions, port.Bytes))
		}
	}
	for _, w := range []string{"web>db tcp/5432 1 1100", "db>backup tcp/873 1 4000"} {
		if !strings.Contains(strings.Join(extra, "\n"), w) {
			t.Errorf("min_sessions 1 lacks %q: %v", w, extra)
		}
	}
	for _, e := range extra {
		for _, bad := range []string{"/22 ", "/3306 ", "/1433 "} {
			if strings.Contains(e, bad) {
				t.Errorf("unanswered or rejected traffic recommended: %s", e)
			}
		}
	}
	if _, err := segment.Recommend(t.Context(), st, scope, 0); err == nil || !strings.Contains(err.Error(), "min_sessions") {
		t.Errorf("min_sessions 0: %v, want an error naming it", err)
	}
}

// The proposed policy loads; over the history it came from it reports
// nothing (unanswered probes included); what it did not see, it reports.
func TestPolicyRoundTrip(t *testing.T) {
	st := open(t, append(history(observed), longFlow()...))
	rec, err := segment.Recommend(t.Context(), st, scope, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("policy:\n%s", rec.Policy)
	p, err := policy.Load("recommended.yaml", []byte(rec.Policy))
	if err != nil {
		t.Fatalf("the proposed policy does not load: %v\n%s", err, rec.Policy)
	}
	if p.Name != segment.PolicyName {
		t.Errorf("policy name %q", p.Name)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := policy.WhatIf(t.Context(), st, set, policy.WhatIfQuery{Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions != len(history(observed))+1 || len(res.Rules) != 0 || res.EvalErrors != 0 {
		t.Errorf("what-if over the history: %d sessions, %d eval errors, violations %+v", res.Sessions, res.EvalErrors, res.Rules)
	}

	// Drawn with min_sessions 3, the policy reports the noise and the
	// long flow that it left out, and nothing else.
	rec3, err := segment.Recommend(t.Context(), st, scope, 3)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := policy.Load("recommended.yaml", []byte(rec3.Policy))
	if err != nil {
		t.Fatal(err)
	}
	set3, _ := policy.NewSet(p3)
	res3, err := policy.WhatIf(t.Context(), st, set3, policy.WhatIfQuery{Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if len(res3.Rules) != 1 || res3.Rules[0].Rule != segment.DenyRule || res3.Rules[0].Sessions != 2 || res3.Rules[0].Findings != 2 {
		t.Errorf("min_sessions 3 what-if: %+v", res3.Rules)
	}

	det := policy.NewDetector(set)
	at := t0.Add(200 * time.Minute)
	for _, tc := range []struct {
		name     string
		s        schema.Session
		violates bool
	}{
		{"observed port", sess(1, "app", "db", "tcp", 5432, "SF", at, 1, 1), false},
		{"port not observed", sess(1, "app", "db", "tcp", 5433, "SF", at, 1, 1), true},
		{"probe port answered", sess(1, "mgmt", "db", "tcp", 22, "SF", at, 1, 1), true},
		{"protocol not observed", sess(1, "app", "db", "udp", 5432, "SF", at, 1, 1), true},
		{"pair reversed", sess(1, "db", "app", "tcp", 5432, "SF", at, 1, 1), true},
		{"new segment", sess(1, "backup", "db", "tcp", 5432, "SF", at, 1, 1), true},
		{"icmp between observed segments", sess(1, "mgmt", "app", "icmp", 0, "OTH", at, 1, 1), false},
		{"inside a segment", sess(1, "db", "db", "tcp", 9999, "SF", at, 1, 1), false},
		{"unanswered attempt", sess(1, "app", "db", "tcp", 5433, "S0", at, 1, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reps []detect.Report
			det.Session(&tc.s, func(r detect.Report) { reps = append(reps, r) })
			if (len(reps) > 0) != tc.violates {
				t.Errorf("violation %v, want %v: %+v", len(reps) > 0, tc.violates, reps)
			}
		})
	}
}

func TestPolicyNamesAndPorts(t *testing.T) {
	pairs := []segment.Pair{
		{Src: "a b", Dst: "c:d", Ports: []segment.Port{{Proto: "tcp", Port: 80}, {Proto: "tcp", Port: 8000}, {Proto: "tcp", Port: 8001},
			{Proto: "tcp", Port: 8002}, {Proto: "tcp", Port: 8003}, {Proto: "tcp", Port: 9000}, {Proto: "tcp", Port: 9001},
			{Proto: "unknown_transport"}}},
		{Src: "a", Dst: "b-c:d", Ports: []segment.Port{{Proto: "udp", Port: 53}}},
	}
	y, err := segment.Policy(pairs, store.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load("p.yaml", []byte(y)); err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	for _, want := range []string{`port: [80, 8000-8003, 9000, 9001]`, "name: a-b-to-c-d-tcp\n", "name: a-to-b-c-d-udp\n",
		`when: proto == "unknown_transport"`, "name: a-b-to-c-d-unknown_transport\n"} {
		if !strings.Contains(y, want) {
			t.Errorf("policy lacks %q:\n%s", want, y)
		}
	}
}

// Capacity against numbers worked out by hand. The link app↔db carries,
// in 100 minutes, app→db traffic in minutes 0-9 of 4500·(m+1) bytes
// (600·(m+1) bit/s) and db→app 9000 bytes in minute 50 (1200 bit/s):
// 11 minutes with traffic, 89 without. The p95 is the 95th smallest of
// the 100: the 6th smallest with traffic, 3000 bit/s; the peak 6000.
func TestCapacity(t *testing.T) {
	var ss []schema.Session
	for m := range 10 {
		b := uint64(4500 * (m + 1))
		ss = append(ss, sess(m, "app", "db", "tcp", 5432, "SF", t0.Add(time.Duration(m)*time.Minute+59*time.Second), b/3, 2*b/3))
	}
	ss = append(ss, sess(0, "db", "app", "tcp", 8443, "SF", t0.Add(50*time.Minute+time.Second), 9000, 0))
	ss = append(ss, sess(0, "web", "app", "tcp", 80, "SF", t0.Add(3*time.Minute), 600, 0),
		sess(1, "web", "app", "tcp", 80, "SF", t0.Add(7*time.Minute), 1200, 0),
		sess(0, "app", "app", "tcp", 80, "SF", t0.Add(7*time.Minute), 1e9, 0),
		sess(0, "mgmt", "backup", "tcp", 873, "SF", t0.Add(150*time.Minute), 1e9, 0)) // after the range
	// Another tenant's traffic on the same pair never counts.
	other := sess(0, "app", "db", "tcp", 5432, "SF", t0.Add(5*time.Minute), 1e9, 0)
	other.Tenant = "other"
	st := open(t, append(ss, other))
	cfg := segment.DefaultConfig()
	cfg.Links = []segment.Link{
		{Name: "app-db", Src: []string{"app"}, Dst: []string{"db"}, BandwidthBps: 5000}, // 3000 / 5000: 60 % exactly
		{Name: "app-db-wider", Src: []string{"app"}, Dst: []string{"db", "backup"}, BandwidthBps: 5001},
		{Name: "idle", Src: []string{"mgmt"}, Dst: []string{"backup"}, BandwidthBps: 1e9},
	}
	got, err := segment.Capacity(t.Context(), st, scope, cfg, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []segment.Load{
		{Name: "app-db", Src: "app", Dst: "db", BandwidthBps: 5000, PeakBps: 6000, P95Bps: 3000, Utilisation: 0.6, Warning: true},
		{Name: "app-db-wider", Src: "app", Dst: "db,backup", BandwidthBps: 5001, PeakBps: 6000, P95Bps: 3000, Utilisation: 3000.0 / 5001, Warning: false},
		{Name: "idle", Src: "mgmt", Dst: "backup", BandwidthBps: 1e9},
		{Name: "web → app", Src: "web", Dst: "app", PeakBps: 160}, // 2 minutes of 100: p95 0
	}
	if diff := cmp.Diff(want, got.Items); diff != "" {
		t.Errorf("capacity (-want +got):\n%s", diff)
	}
	// Below the threshold by a hair: no warning.
	cfg.WarnUtilisation = 0.6000001
	got, err = segment.Capacity(t.Context(), st, scope, cfg, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Items[0].Warning {
		t.Errorf("warning at %v under %v", got.Items[0].Utilisation, cfg.WarnUtilisation)
	}
	// An open range ends now and starts at the first minute with
	// traffic: minutes 0-9 at 600·(m+1) bit/s and 10-19 empty, so the p95
	// is the 19th smallest of 20: 5400; minute 50 lies past now.
	sc := scope
	sc.Since, sc.Until = time.Time{}, time.Time{}
	got, err = segment.Capacity(t.Context(), st, sc, cfg, t0.Add(20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if it := got.Items[0]; it.PeakBps != 6000 || it.P95Bps != 5400 {
		t.Errorf("open range: %+v", it)
	}
}

func TestValidate(t *testing.T) {
	cfg := segment.DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.WarnUtilisation, cfg.MinSessions = 1.5, 0
	cfg.Links = []segment.Link{{Name: "a", Src: []string{"x"}, Dst: []string{""}, BandwidthBps: 1}, {Name: "a", BandwidthBps: 0}}
	err := cfg.Validate()
	for _, want := range []string{"warn_utilisation", "min_sessions", "links[0].dst[0]: empty", "links[1].name", "links[1].src", "links[1].dst", "links[1].bandwidth"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// The policy shown in docs/segmentation.md loads.
func TestDocsPolicy(t *testing.T) {
	doc, err := os.ReadFile("../../docs/segmentation.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	if _, err := policy.Load("segmentation.yaml", []byte(example)); err != nil || !strings.Contains(example, segment.DenyRule) {
		t.Errorf("docs/segmentation.md policy: %v\n%s", err, example)
	}
}
