package hec

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/hec/hectest"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// FuzzParseResponse: whatever HEC (or a proxy in front of it) answers,
// ParseResponse returns without panicking, with -1 for what is absent,
// and a refusal built from it is classified into one of the delivery
// loop's classes with at most the request's events refused.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		`{"text":"Success","code":0}`, `{"text":"Success","code":0,"ackId":7}`,
		`{"text":"Invalid data format","code":6,"invalid-event-number":3}`, `{"text":"Server is busy","code":9}`,
		`<html>502 Bad Gateway</html>`, ``, `null`, `{"code":"6"}`, `{"ackId":-4,"code":-2}`, `{"ackId":1e30}`,
	} {
		f.Add([]byte(s), 400, 5)
	}
	f.Fuzz(func(t *testing.T, body []byte, status, n int) {
		r, err := ParseResponse(body)
		if r.Code < -1 || r.AckID < -1 || r.InvalidEvent < -1 {
			t.Fatalf("negative fields: %+v", r)
		}
		if err != nil && (r.Code != -1 || r.AckID != -1 || r.InvalidEvent != -1) {
			t.Fatalf("an error with fields set: %+v", r)
		}
		if n < 1 || n > 1000 || status < 100 || status > 599 {
			return
		}
		cerr := (&Error{Status: status, Response: r}).classify(n, 0)
		if cerr == nil {
			t.Fatal("a refusal classified as no error")
		}
		var pe *deliver.PermanentError
		if errors.As(cerr, &pe) && (pe.Records < 1 || pe.Records > n) {
			t.Fatalf("permanent refusal of %d events of a request of %d", pe.Records, n)
		}
	})
}

// FuzzParseAcks: any answer of the ack endpoint parses into ack ids ≥ 0
// or an error.
func FuzzParseAcks(f *testing.F) {
	for _, s := range []string{`{"acks":{"0":true,"1":false}}`, `{"acks":{}}`, `{"acks":{"x":true}}`, `{"acks":{"-1":true}}`, `{}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		acks, err := ParseAcks(body)
		if err != nil {
			if acks != nil {
				t.Fatal("acks and an error")
			}
			return
		}
		for id := range acks {
			if id < 0 {
				t.Fatalf("ack id %d", id)
			}
		}
	})
}

// FuzzEncode: whatever strings a finding or session carries (they come
// from the network: DNS names, TLS SNI, HTTP hosts), the encoder writes
// an event HEC accepts, whose event is the record's JSON.
func FuzzEncode(f *testing.F) {
	f.Add("acme", "horizontal-scan", "high", "ip:10.0.0.5", "edge-7", "dns", int64(1772366400123456789))
	f.Add("", "", "", "", "", "", int64(0))
	f.Add("q\"\\", "\x00\x1f\u2028", "\xff\xfe", "<script>&", "é中", "\t\n\r", int64(-1))
	c := DefaultConfig()
	c.URL, c.Token, c.Host, c.Index = "http://hec", "t", "h\u2029\"", "osprey"
	c.Fields = map[string][]string{"findings": FieldNames(deliver.KindFinding), "sessions": FieldNames(deliver.KindSession)}
	enc := newEncoder(c)
	f.Fuzz(func(t *testing.T, tenant, detector, severity, entity, sensor, app string, ns int64) {
		fd := schema.Finding{ID: detector + entity, Tenant: tenant, Detector: detector, Rule: detector, Severity: severity,
			State: "active", Entities: []string{entity, tenant}, DedupeKey: entity, Technique: app, Time: time.Unix(0, ns)}
		s := schema.Session{UID: entity, Tenant: tenant, Sensor: sensor, App: app, Transport: severity, End: time.Unix(0, ns),
			Orig: schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5"), Asset: entity}}
		var b []byte
		var err error
		if b, err = enc.Encode(b, &deliver.Event{Kind: deliver.KindFinding, Time: fd.Time, Finding: &fd}); err != nil {
			t.Fatal(err)
		}
		if b, err = enc.Encode(b, &deliver.Event{Kind: deliver.KindSession, Time: s.End, Session: &s}); err != nil {
			t.Fatal(err)
		}
		evs, ref := hectest.ParseEvents(b, []string{"osprey"})
		if ref != nil || len(evs) != 2 {
			t.Fatalf("HEC refused %s: %v", b, ref)
		}
		var back schema.Finding
		if err := json.Unmarshal(evs[0].Event, &back); err != nil {
			t.Fatal(err)
		}
		// Invalid UTF-8 becomes U+FFFD in any JSON encoding: compare
		// with the record's own JSON read back.
		var norm schema.Finding
		b, _ = json.Marshal(fd)
		json.Unmarshal(b, &norm)
		want, _ := json.Marshal(norm)
		got, _ := json.Marshal(back)
		if string(want) != string(got) {
			t.Fatalf("event %s, want %s", got, want)
		}
		if tenant != "" && evs[0].Fields["tenant"] != back.Tenant {
			t.Fatalf("tenant field %q, want %q", evs[0].Fields["tenant"], back.Tenant)
		}
	})
}
