package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// TestEngine runs every check in the real engine over three hours of a
// small fleet with four problems, then two quiet hours: each problem is
// one finding, kept active by reports every repeat_every while it lasts
// and cleared by the engine once it stops; the look-alikes (a server
// certificate on a load-balanced farm, a device reconnecting with its
// own client id, a device changing address) raise nothing.
func TestEngine(t *testing.T) {
	ds, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	eng, err := detect.New(detect.DefaultConfig(), ds, detect.NewJSONSink(&out))
	if err != nil {
		t.Fatal(err)
	}
	expired := goodCert("old-broker")
	expired.NotAfter = t0.AddDate(0, -2, 0)
	mtls := func(device string, broker *schema.Cert) func(*schema.Session) {
		return withTLS(&schema.TLS{Version: "TLSv12", Cipher: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Cert: broker, ClientCert: goodCert(device)})
	}
	var ss []*schema.Session
	for m := range 300 {
		at := time.Duration(m) * time.Minute
		// Clean traffic all along: a load-balanced API, a device moving.
		ss = append(ss,
			sess("10.0.0.20", "10.8.0."+itoa(m%8), 443, at, 20*time.Second, withTLS(&schema.TLS{Version: "TLSv13", Cert: goodCert("api-farm")})),
			sess("10.0.0."+itoa(30+m/100), "10.9.0.1", 8883, at, 50*time.Second, mtls("dev-30", goodCert("broker"))),
			sess("10.0.0.40", "10.9.0.1", 1883, at, 50*time.Second, mqtt("sensor-40")),
		)
		if m >= 180 {
			continue // the problems stop after three hours
		}
		ss = append(ss,
			// Two devices with one certificate, connected at once.
			sess("10.0.0.5", "10.9.0.1", 8883, at, 50*time.Second, mtls("cloned", goodCert("broker"))),
			sess("10.0.0.6", "10.9.0.1", 8883, at+10*time.Second, 50*time.Second, mtls("cloned", goodCert("broker"))),
			// Two devices with one client id, knocking each other off.
			sess("10.0.0."+itoa(7+m%2), "10.9.0.1", 1883, at, 61*time.Second, mqtt("sensor-7")),
			// A broker with an expired certificate.
			sess("10.0.0.9", "10.9.0.2", 8883, at, 50*time.Second, mtls("dev-9", expired)),
			// A camera serving telnet.
			sess("10.0.0.10", "10.0.0.11", 23, at, 5*time.Second, func(s *schema.Session) { s.App, s.L7 = "telnet", &schema.L7{By: "content"} }),
		)
	}
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].End.Before(ss[j].End) })
	batch := make([]schema.Session, 0, 64)
	for i, s := range ss {
		batch = append(batch, *s)
		if len(batch) == cap(batch) || i == len(ss)-1 {
			if err := eng.WriteSessions(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	type got struct{ Detector, Rule, DedupeKey, State string }
	var findings []got
	dec := json.NewDecoder(&out)
	for dec.More() {
		var f schema.Finding
		if err := dec.Decode(&f); err != nil {
			t.Fatal(err)
		}
		var ev detect.Evidence
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Count < 15 { // three hours, a report every ten minutes
			t.Errorf("%s: %d reports, want a report every repeat_every while the problem lasted", f.DedupeKey, ev.Count)
		}
		if f.Tenant != "acme" || len(f.Entities) < 2 {
			t.Errorf("finding %+v", f)
		}
		findings = append(findings, got{f.Detector, f.Rule, f.DedupeKey, f.State})
	}
	slices.SortFunc(findings, func(a, b got) int { return strings.Compare(a.DedupeKey, b.DedupeKey) })
	want := []got{
		{"conflicting-client-ids", "CONFLICTING_CLIENT_IDS_CHECK", "CONFLICTING_CLIENT_IDS_CHECK|ip:10.9.0.1|sensor-7", "cleared"},
		{"device-certificate-shared", "DEVICE_CERTIFICATE_SHARED_CHECK", "DEVICE_CERTIFICATE_SHARED_CHECK|cloned", "cleared"},
		{"cleartext-management", "cleartext-management-telnet", "cleartext-management-telnet|ip:10.0.0.11", "cleared"},
		{"weak-tls", "server-certificate-expiring", "server-certificate-expiring|expired|old-broker", "cleared"},
	}
	if diff := cmp.Diff(want, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
