package syslog

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
)

var (
	encodeTime = time.Date(2026, 3, 1, 12, 0, 5, 123000, time.UTC)
	findTime   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// testFinding has every field set, with characters each layer must
// escape: '"', '\' and ']' in structured data, '|' and '\' in the CEF
// header, '=' and a line break in CEF values.
func testFinding(id string) schema.Finding {
	return schema.Finding{
		ID: id, Tenant: `acme "east" [1]\2`, Time: findTime, Detector: "policy", Rule: "ssh|telnet-from-internet",
		Severity: "critical", State: "active", Technique: "T1021",
		Entities:  []string{"ip:10.0.0.5", "ip:203.0.113.9", "port:22", "tag:a=b"},
		Evidence:  json.RawMessage(`{"summary":"203.0.113.9 → 10.0.0.5:22 \\ via | jump=yes\nagain","first_seen":"2026-03-01T12:00:00Z","last_seen":"2026-03-01T12:02:00.5Z","count":4}`),
		DedupeKey: "k",
	}
}

func testSession() schema.Session {
	return schema.Session{
		Version: 1, UID: "CKd1", Seq: 2, Tenant: "acme", Sensor: "s1", Source: "pcap",
		Start: findTime, End: findTime.Add(1500 * time.Millisecond),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5"), Port: 51000, MAC: "90:b1:1c:99:49:29"},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 443},
		Proto: 6, Transport: "tcp", ConnState: "SF", App: "tls", Direction: "outbound",
		OrigPkts: 10, RespPkts: 12, OrigBytes: 1200, RespBytes: 5400, CommunityID: "1:abc=",
	}
}

func testMetric() schema.DeviceMetric {
	return schema.DeviceMetric{Tenant: "acme", Device: "ip:10.0.0.7", Asset: "cam-1", Time: findTime,
		Name: "aws:listening-tcp-ports", Value: 2.5, List: []string{"22", "80"}}
}

func findingEv(f *schema.Finding) *deliver.Event {
	return &deliver.Event{Kind: deliver.KindFinding, Tenant: f.Tenant, Time: f.Time, Finding: f}
}

func sessionEv(s *schema.Session) *deliver.Event {
	return &deliver.Event{Kind: deliver.KindSession, Tenant: s.Tenant, Time: s.End, Session: s}
}

func metricEv(m *schema.DeviceMetric) *deliver.Event {
	return &deliver.Event{Kind: deliver.KindMetric, Tenant: m.Tenant, Time: m.Time, Metric: m}
}

func testEncoder(t testing.TB, mod func(*Config)) *Encoder {
	t.Helper()
	c := DefaultConfig()
	c.Address, c.Hostname, c.DeviceVersion = "127.0.0.1:514", "sensor-1", "1.2.3"
	if mod != nil {
		mod(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := NewEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	e.now = func() time.Time { return encodeTime }
	return e
}

// parse5424 reads a message with go-syslog's RFC 5424 parser, which
// must find it valid.
func parse5424(t testing.TB, msg []byte) *rfc5424.SyslogMessage {
	t.Helper()
	m, err := rfc5424.NewParser().Parse(msg)
	if err != nil {
		t.Fatalf("not RFC 5424: %v\n%s", err, msg)
	}
	return m.(*rfc5424.SyslogMessage)
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestEncodeFinding: the header fields, the structured data and the
// CEF payload of a finding, read back by an RFC 5424 parser and a CEF
// parser.
func TestEncodeFinding(t *testing.T) {
	e := testEncoder(t, nil)
	f := testFinding("f1")
	msg, err := e.Encode(nil, findingEv(&f))
	if err != nil {
		t.Fatal(err)
	}
	if want := "<162>1 2026-03-01T12:00:05.000123Z sensor-1 osprey "; !strings.HasPrefix(string(msg), want) {
		t.Errorf("message %s\nwant prefix %s", msg, want)
	}
	m := parse5424(t, msg)
	if *m.Facility != 20 || *m.Severity != 2 {
		t.Errorf("facility %d severity %d, want 20 (local4), 2 (crit)", *m.Facility, *m.Severity)
	}
	if got := str(m.MsgID); got != "finding" {
		t.Errorf("MSGID %q", got)
	}
	wantSD := map[string]map[string]string{"osprey@32473": {
		"tenant": f.Tenant, "id": "f1", "detector": "policy", "rule": f.Rule, "severity": "critical", "state": "active", "technique": "T1021",
	}}
	if diff := cmp.Diff(wantSD, *m.StructuredData); diff != "" {
		t.Errorf("structured data (-want +got):\n%s", diff)
	}
	cef, err := parseCEF(str(m.Message))
	if err != nil {
		t.Fatalf("%v: %s", err, str(m.Message))
	}
	wantHeader := [7]string{"0", "Osprey", "Osprey NDR", "1.2.3", "policy/ssh|telnet-from-internet", "203.0.113.9 → 10.0.0.5:22 \\ via | jump=yes again", "10"}
	if diff := cmp.Diff(wantHeader, cef.Header); diff != "" {
		t.Errorf("CEF header (-want +got):\n%s", diff)
	}
	wantExt := map[string]string{
		"rt": "1772366400000", "start": "1772366400000", "end": "1772366520500", "cat": "finding", "externalId": "f1",
		"src": "10.0.0.5", "dst": "203.0.113.9", "dpt": "22",
		"cs1Label": "detector", "cs1": "policy", "cs2Label": "rule", "cs2": f.Rule, "cs3Label": "state", "cs3": "active",
		"cs4Label": "tenant", "cs4": f.Tenant, "cs5Label": "technique", "cs5": "T1021",
		"cs6Label": "entities", "cs6": "ip:10.0.0.5,ip:203.0.113.9,port:22,tag:a=b", "cn1Label": "count", "cn1": "4",
	}
	if diff := cmp.Diff(wantExt, cef.Ext); diff != "" {
		t.Errorf("CEF extension (-want +got):\n%s", diff)
	}
	if strings.ContainsAny(string(msg), "\n\r") {
		t.Errorf("a line break in %q", msg)
	}
}

func TestEncodeSessionAndMetric(t *testing.T) {
	e := testEncoder(t, func(c *Config) { c.Facility = "daemon" })
	s := testSession()
	msg, _ := e.Encode(nil, sessionEv(&s))
	m := parse5424(t, msg)
	if *m.Priority != 3<<3|6 || str(m.MsgID) != "session" {
		t.Errorf("PRI %d MSGID %s", *m.Priority, str(m.MsgID))
	}
	cef, err := parseCEF(str(m.Message))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([7]string{"0", "Osprey", "Osprey NDR", "1.2.3", "session", "tcp tls session", "1"}, cef.Header); diff != "" {
		t.Error(diff)
	}
	want := map[string]string{
		"rt": "1772366401500", "start": "1772366400000", "end": "1772366401500", "cat": "session", "externalId": "CKd1/2",
		"src": "10.0.0.5", "spt": "51000", "dst": "2001:db8::1", "dpt": "443", "proto": "TCP", "app": "tls",
		"out": "1200", "in": "5400", "smac": "90:b1:1c:99:49:29",
		"cs1Label": "conn_state", "cs1": "SF", "cs2Label": "direction", "cs2": "outbound", "cs3Label": "community_id", "cs3": "1:abc=",
		"cs4Label": "tenant", "cs4": "acme", "cs5Label": "sensor", "cs5": "s1",
		"cn1Label": "orig_pkts", "cn1": "10", "cn2Label": "resp_pkts", "cn2": "12",
	}
	if diff := cmp.Diff(want, cef.Ext); diff != "" {
		t.Errorf("session extension (-want +got):\n%s", diff)
	}

	mt := testMetric()
	msg, _ = e.Encode(nil, metricEv(&mt))
	m = parse5424(t, msg)
	if *m.Severity != 6 || str(m.MsgID) != "metric" {
		t.Errorf("severity %d MSGID %s", *m.Severity, str(m.MsgID))
	}
	if diff := cmp.Diff(map[string]string{"tenant": "acme", "device": "ip:10.0.0.7", "metric": mt.Name}, (*m.StructuredData)["osprey@32473"]); diff != "" {
		t.Error(diff)
	}
	cef, _ = parseCEF(str(m.Message))
	want = map[string]string{
		"rt": "1772366400000", "cat": "metric", "src": "10.0.0.7", "cs1Label": "metric", "cs1": mt.Name, "cs2Label": "list", "cs2": "22,80",
		"cs4Label": "tenant", "cs4": "acme", "cs5Label": "asset", "cs5": "cam-1", "cs6Label": "device", "cs6": "ip:10.0.0.7",
		"cfp1Label": "value", "cfp1": "2.5",
	}
	if diff := cmp.Diff(want, cef.Ext); diff != "" {
		t.Errorf("metric extension (-want +got):\n%s", diff)
	}
}

// TestEncodeJSON: with format json, MSG is the record's JSON, whole.
func TestEncodeJSON(t *testing.T) {
	e := testEncoder(t, func(c *Config) { c.Format, c.StructuredData = FormatJSON, false })
	f := testFinding("f1")
	msg, _ := e.Encode([]byte("keep"), findingEv(&f))
	if !strings.HasPrefix(string(msg), "keep<162>1 ") {
		t.Errorf("Encode did not append: %.40s", msg)
	}
	m := parse5424(t, msg[4:])
	if m.StructuredData != nil {
		t.Errorf("structured data %v with structured_data: false", *m.StructuredData)
	}
	var got schema.Finding
	if err := json.Unmarshal([]byte(str(m.Message)), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Error(diff)
	}
}

func TestSeverity(t *testing.T) {
	for in, want := range map[string][2]int{
		"critical": {2, 10}, "high": {3, 8}, "medium": {4, 5}, "low": {5, 3}, "info": {6, 1}, "": {6, 1}, "bogus": {6, 1},
	} {
		if got := [2]int{Severity(in), cefSeverity(in)}; got != want {
			t.Errorf("%q: syslog, CEF %v, want %v", in, got, want)
		}
	}
}

// TestTruncate: a UDP message longer than max_message_size is cut to it
// on a UTF-8 boundary, says so in its structured data and still parses;
// TCP does not cut.
func TestTruncate(t *testing.T) {
	e := testEncoder(t, func(c *Config) { c.Network, c.MaxMessageSize = "udp", 480 })
	f := testFinding("f1")
	f.Evidence = json.RawMessage(`{"summary":"` + strings.Repeat("é", 400) + `"}`)
	msg, _ := e.Encode(nil, findingEv(&f))
	if len(msg) > 480 || len(msg) < 470 {
		t.Errorf("length %d, want at most 480 and close to it", len(msg))
	}
	m := parse5424(t, msg)
	if n, _ := strconv.Atoi((*m.StructuredData)["osprey@32473"]["truncated"]); n <= 480 {
		t.Errorf("truncated=%d", n)
	}
	if e.Truncated() != 1 {
		t.Errorf("Truncated() = %d", e.Truncated())
	}
	tcp := testEncoder(t, func(c *Config) { c.MaxMessageSize = 480 })
	if msg, _ := tcp.Encode(nil, findingEv(&f)); len(msg) < 800 {
		t.Errorf("tcp message cut to %d", len(msg))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.Network = "relp" }, "network:"},
		{func(c *Config) { c.Address = "siem" }, "address:"},
		{func(c *Config) { c.Framing = "lf" }, "framing:"},
		{func(c *Config) { c.Format = "leef" }, "format:"},
		{func(c *Config) { c.Facility = "local8" }, "facility:"},
		{func(c *Config) { c.Facility = "23" }, ""},
		{func(c *Config) { c.Hostname = "a b" }, "hostname:"},
		{func(c *Config) { c.AppName = "" }, "app_name:"},
		{func(c *Config) { c.EnterpriseNumber = 0 }, "enterprise_number:"},
		{func(c *Config) { c.MaxMessageSize = 100 }, "max_message_size:"},
		{func(c *Config) { c.Timeout = 0 }, "timeout:"},
		{func(c *Config) { c.Network, c.TLS.CertFile = "tls", "c.pem" }, "tls.cert_file:"},
		{func(c *Config) { c.TLS.CAFile = "ca.pem" }, "tls: set, but network is \"tcp\""},
	} {
		c := DefaultConfig()
		c.Address = "siem.example:6514"
		tc.mod(&c)
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestFrame: octet counting counts bytes, not characters; line feed
// framing ends each message with one and lets none inside.
func TestFrame(t *testing.T) {
	for _, tc := range []struct{ framing, msg, want string }{
		{FramingOctetCounting, "<14>1 - - - - - - é", "20 <14>1 - - - - - - é"},
		{FramingNonTransparent, "<14>1 - - - - - - a\nb", "<14>1 - - - - - - a b\n"},
	} {
		s := &Syslog{cfg: Config{Framing: tc.framing}}
		if got := string(s.frame([]byte("x"), []byte(tc.msg))); got != "x"+tc.want {
			t.Errorf("%s: %q, want %q", tc.framing, got, "x"+tc.want)
		}
	}
}

// TestSendUnavailable: a receiver that is not there is an outage, not a
// refusal of the records.
func TestSendUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := DefaultConfig()
	c.Address = addr
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Send(t.Context(), []deliver.Record{{Data: []byte("<14>1 - - - - - - x")}})
	if n != 0 || !errors.Is(err, deliver.ErrUnavailable) {
		t.Errorf("Send = %d, %v; want 0, unavailable", n, err)
	}
}
