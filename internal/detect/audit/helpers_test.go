package audit

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// t0 is far from the wall clock on purpose: the checks must take time
// from sessions only.
var t0 = time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)

var uidSeq int

// sess builds a finished, answered TCP session from orig to resp:port
// starting at `at` and lasting `dur`.
func sess(orig, resp string, port uint16, at, dur time.Duration, opts ...func(*schema.Session)) *schema.Session {
	uidSeq++
	s := &schema.Session{
		UID: "C" + strconv.Itoa(uidSeq), Final: true, Tenant: "acme",
		Start: t0.Add(at), End: t0.Add(at + dur),
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

// withTLS gives a session a decoded TLS handshake.
func withTLS(t *schema.TLS) func(*schema.Session) {
	return func(s *schema.Session) { s.App, s.L7 = "tls", &schema.L7{By: "content", Confidence: 0.95, TLS: t} }
}

// mqtt gives a session an accepted MQTT CONNECT with this client id.
func mqtt(id string) func(*schema.Session) {
	return func(s *schema.Session) {
		ok := uint8(0)
		s.App, s.L7 = "mqtt", &schema.L7{By: "content", Confidence: 0.95, MQTT: &schema.MQTT{ClientID: id, ProtocolLevel: 4, ConnAck: &ok}}
	}
}

func asset(id string) func(*schema.Session) { return func(s *schema.Session) { s.Orig.Asset = id } }

// goodCert is a certificate with nothing to report at t0.
func goodCert(sha string) *schema.Cert {
	return &schema.Cert{Subject: "CN=" + sha, Issuer: "CN=Fleet CA", SHA256: sha,
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(2, 0, 0), KeyAlg: "ECDSA", KeyBits: 256, SigAlg: "ECDSA-SHA256"}
}

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

// one checks that exactly one report came, with this rule and dedupe key
// and these entities among others.
func one(t *testing.T, rs []detect.Report, rule, key string, entities ...string) detect.Report {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d reports, want 1: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.Rule != rule || r.DedupeKey != key {
		t.Errorf("rule %q key %q, want %q %q", r.Rule, r.DedupeKey, rule, key)
	}
	for _, e := range entities {
		if !slices.Contains(r.Entities, e) {
			t.Errorf("entities %v lack %q", r.Entities, e)
		}
	}
	if len(r.Sessions) == 0 || len(r.Sessions) > maxExamples {
		t.Errorf("%d example sessions, want 1 to %d", len(r.Sessions), maxExamples)
	}
	if r.Summary == "" || r.Severity == "" || r.Time.IsZero() || r.Tenant != "acme" {
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
