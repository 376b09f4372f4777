package profile

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// reportFor is the one report on entity, failing the test otherwise.
func reportFor(t *testing.T, rs []detect.Report, rule, entity string) detect.Report {
	t.Helper()
	var found []detect.Report
	for _, r := range rs {
		if r.Rule == rule && slices.Contains(r.Entities, entity) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d reports of %s on %s, want 1; all: %+v", len(found), rule, entity, rs)
	}
	return found[0]
}

func TestDerivedMetrics(t *testing.T) {
	const window = 5 * time.Minute
	// Every behaviour is violated by any datapoint, so that each report
	// shows the derived value.
	d := newDetector(t, DefaultConfig(), profileJSON(`
		{"name":"out","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"less-than","value":{"count":0}}},
		{"name":"in","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":0}}},
		{"name":"pout","metric":"aws:all-packets-out","criteria":{"comparisonOperator":"less-than","value":{"count":0}}},
		{"name":"est","metric":"aws:num-established-tcp-connections","criteria":{"comparisonOperator":"less-than","value":{"count":0}}},
		{"name":"att","metric":"aws:num-connection-attempts","criteria":{"comparisonOperator":"less-than","value":{"count":0}}},
		{"name":"ntcp","metric":"aws:num-listening-tcp-ports","criteria":{"comparisonOperator":"less-than","value":{"count":0}}},
		{"name":"tcp","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[22]}}},
		{"name":"udp","metric":"aws:listening-udp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[]}}},
		{"name":"dst","metric":"aws:destination-ip-addresses","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["10.0.0.0/8"]}}},
		{"name":"src","metric":"aws:source-ip-address","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["192.0.2.0/24"]}}}`))
	interim := func(seq uint32, final bool, out uint64) func(*schema.Session) {
		return func(s *schema.Session) {
			s.UID, s.Seq, s.Final, s.OrigIPBytes, s.RespIPBytes, s.OrigPkts, s.RespPkts = "Clong", seq, final, out, 0, uint64(seq+1)*10, 0
		}
	}
	ss := []*schema.Session{
		// 10.0.0.5 serves telnet and SSH to 10.0.0.9.
		tcp("10.0.0.9", "10.0.0.5", 23, time.Minute),
		tcp("10.0.0.9", "10.0.0.5", 22, time.Minute),
		// It calls out to the internet: a long flow in three interim
		// records with cumulative counters…
		tcp("10.0.0.5", "198.51.100.7", 443, 2*time.Minute, interim(0, false, 1000)),
		tcp("10.0.0.5", "198.51.100.7", 443, 3*time.Minute, interim(1, false, 3000)),
		tcp("10.0.0.5", "198.51.100.7", 443, 4*time.Minute, interim(2, true, 6000)),
		// …and an unanswered attempt, which adds no destination.
		tcp("10.0.0.5", "203.0.113.9", 443, 4*time.Minute, func(s *schema.Session) {
			s.ConnState, s.History, s.RespPkts, s.RespIPBytes = "S0", "S", 0, 0
		}),
		// A DNS answer makes 10.0.0.53 a UDP listener.
		tcp("10.0.0.5", "10.0.0.53", 53, 4*time.Minute, func(s *schema.Session) { s.Proto, s.Transport, s.History = 17, "udp", "Dd" }),
	}
	rs := sessions(d, t0.Add(window), ss...)

	dev := "ip:10.0.0.5"
	for _, tc := range []struct {
		rule  string
		value float64
	}{
		{"P/out", 900 + 900 + 6000 + 500 + 500}, // answers to the client, the long flow once, the attempt, the DNS query
		{"P/in", 500 + 500 + 0 + 0 + 900},
		{"P/pout", 4 + 4 + 30 + 5 + 5},
		{"P/est", 3}, // two served, the long flow once
		{"P/att", 3}, // the long flow, the unanswered attempt, the DNS query
		{"P/ntcp", 2},
	} {
		if r := reportFor(t, rs, tc.rule, dev); r.Values["value"] != tc.value {
			t.Errorf("%s: %v, want %v", tc.rule, r.Values["value"], tc.value)
		}
	}
	if r := reportFor(t, rs, "P/tcp", dev); !strings.Contains(r.Summary, "[23]") {
		t.Errorf("listening ports: %s", r.Summary)
	}
	if r := reportFor(t, rs, "P/dst", dev); r.Values["offending"] != 1 || !strings.Contains(r.Summary, "[198.51.100.7]") {
		t.Errorf("destinations: %s", r.Summary)
	}
	if r := reportFor(t, rs, "P/src", dev); !strings.Contains(r.Summary, "[10.0.0.5]") {
		t.Errorf("source addresses: %s", r.Summary)
	}
	reportFor(t, rs, "P/udp", "ip:10.0.0.53")
	for _, r := range rs {
		if !r.Time.Equal(t0.Add(window)) {
			t.Errorf("datapoint at %v, want the window's end", r.Time)
		}
		if slices.Contains(r.Entities, "ip:198.51.100.7") {
			t.Errorf("an internet address measured as a device: %+v", r)
		}
	}

	// The next window starts empty: the long flow has ended and nothing
	// is repeated.
	if rs := sessions(d, t0.Add(2*window)); len(rs) != 0 {
		t.Errorf("%d reports from an empty window", len(rs))
	}
}

func TestDerivedDevices(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Targets = map[string]Target{"P": {Tags: []string{"camera"}, CIDRs: []string{"10.9.0.0/16"}}}
	d := newDetector(t, cfg, profileJSON(`{"name":"tcp","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[554]}}}`))
	asset := func(s *schema.Session) { s.Resp.Asset, s.Resp.Tags = "i-0abc", []string{"camera", "lobby"} }
	rs := sessions(d, t0.Add(5*time.Minute),
		tcp("10.0.0.9", "10.0.0.5", 22, time.Minute, asset), // a tagged asset
		tcp("10.0.0.9", "10.9.1.1", 23, time.Minute),        // in the targeted range
		tcp("10.0.0.9", "10.1.1.1", 23, time.Minute),        // neither: not targeted
	)
	if r := reportFor(t, rs, "P/tcp", "asset:i-0abc"); !slices.Equal(r.Entities, []string{"asset:i-0abc", "ip:10.0.0.5"}) ||
		r.DedupeKey != "P/tcp|asset:i-0abc" {
		t.Errorf("asset report %+v", r)
	}
	reportFor(t, rs, "P/tcp", "ip:10.9.1.1")
	if len(rs) != 2 {
		t.Errorf("%d reports, want 2: %+v", len(rs), rs)
	}

	cfg.Targets = map[string]Target{"P": {Source: sourceReported}}
	d = newDetector(t, cfg, profileJSON(`{"name":"tcp","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[554]}}}`))
	if d.derive.on {
		t.Error("deriving for a reported-only profile")
	}
}

func TestDerivedMemoryCaps(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDevices, cfg.MaxLive, cfg.MaxList = 4, 3, 2
	d := newDetector(t, cfg, profileJSON(`{"name":"dst","metric":"aws:destination-ip-addresses","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["0.0.0.0/0"]}}}`))
	var ss []*schema.Session
	for i := range 20 {
		ss = append(ss, tcp(fmt.Sprintf("10.0.1.%d", i), "198.51.100.1", 443, time.Minute, func(s *schema.Session) { s.Seq, s.Final = 0, false }))
		ss = append(ss, tcp("10.0.0.1", fmt.Sprintf("198.51.100.%d", i), 443, time.Minute))
	}
	sessions(d, t0.Add(time.Minute), ss...)
	w := d.derive.windows[devKey{tenant: "acme", kind: kindIP, ip: netip.MustParseAddr("10.0.0.1")}]
	if len(d.derive.windows) > 4 || len(d.derive.live) > 3 || w != nil && len(w.remotes) > 2 || d.Evictions() == 0 {
		t.Errorf("%d windows, %d live flows, evictions %d", len(d.derive.windows), len(d.derive.live), d.Evictions())
	}
}

func TestDeriveOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DeriveSessions = false
	d := newDetector(t, cfg, profileJSON(`{"name":"tcp","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[554]}}}`))
	if rs := sessions(d, t0.Add(time.Hour), tcp("10.0.0.9", "10.0.0.5", 22, time.Minute)); len(rs) != 0 || len(d.derive.windows) != 0 {
		t.Errorf("derived with derive_sessions off: %+v", rs)
	}
}

// TestEngineDerived runs sessions through the detection engine: the
// window closes on session time and the finding names the device.
func TestEngineDerived(t *testing.T) {
	d := newDetector(t, DefaultConfig(), profileJSON(`{"name":"tcp","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[22]}}}`))
	e, sink := newEngine(t, d)
	var batch []schema.Session
	for i := range 20 {
		batch = append(batch, *tcp("10.0.0.9", "10.0.0.5", 23, time.Duration(i)*time.Minute))
	}
	if err := e.WriteSessions(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	fs := sink.latest()
	if len(fs) != 1 {
		t.Fatalf("%d findings: %+v", len(fs), sink.writes)
	}
	for _, f := range fs {
		if f.Rule != "P/tcp" || !slices.Equal(f.Entities, []string{"ip:10.0.0.5"}) || !f.Time.Equal(t0.Add(5*time.Minute)) {
			t.Errorf("finding %+v", f)
		}
	}
}
