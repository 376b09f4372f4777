package hec

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/hec/hectest"
	"github.com/osprey-ndr/osprey/internal/schema"
)

const token = "11111111-2222-3333-4444-555555555555"

func newServer(t *testing.T, opts hectest.Options) *hectest.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	s := hectest.New(opts)
	t.Cleanup(s.Close)
	return s
}

func config(url string) Config {
	c := DefaultConfig()
	c.URL, c.Token, c.Host = url, token, "sensor-1"
	c.AckInterval, c.AckTimeout = 20*time.Millisecond, 10*time.Second
	return c
}

func newHEC(t *testing.T, c Config) *HEC {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func testFindings(n int) []schema.Finding {
	out := make([]schema.Finding, n)
	for i := range out {
		out[i] = schema.Finding{ID: fmt.Sprintf("f%03d", i), Tenant: "acme", Detector: "horizontal-scan", Rule: "horizontal-scan",
			Severity: "high", State: "active", Time: time.Date(2026, 3, 1, 12, 0, i, 123456789, time.UTC),
			Entities: []string{"ip:10.99.0.9", "port:22"}, DedupeKey: "10.99.0.9/22",
			Evidence: json.RawMessage(`{"summary":"10.99.0.9 probed 60 hosts on 22/tcp"}`)}
	}
	return out
}

func testSession() schema.Session {
	return schema.Session{Version: 1, UID: "C1", Sensor: "edge-7", Tenant: "acme", Source: "pcap",
		Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 1, 12, 0, 1, 500000000, time.UTC),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5"), Port: 51234},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr("192.0.2.8"), Port: 443},
		Proto: 6, Transport: "tcp", App: "tls", ConnState: "SF"}
}

// records encodes findings as the output would queue them.
func records(t testing.TB, h *HEC, fs []schema.Finding) []deliver.Record {
	t.Helper()
	out := make([]deliver.Record, len(fs))
	for i := range fs {
		e := deliver.Event{Kind: deliver.KindFinding, Tenant: fs[i].Tenant, Time: fs[i].Time, Finding: &fs[i]}
		b, err := h.Encoder().Encode(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = deliver.Record{Seq: uint64(i + 1), Kind: deliver.KindFinding, Data: b}
	}
	return out
}

func ids(t *testing.T, evs []hectest.Event) []string {
	t.Helper()
	out := make([]string, len(evs))
	for i, e := range evs {
		var f schema.Finding
		if err := json.Unmarshal(e.Event, &f); err != nil {
			t.Fatal(err)
		}
		out[i] = f.ID
	}
	return out
}

func idRange(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("f%03d", i))
	}
	return out
}

// TestEnvelope: each kind's event has the HEC envelope — time with its
// fraction, host, source, sourcetype, index, indexed fields — and the
// record's own JSON as the event.
func TestEnvelope(t *testing.T) {
	c := config("http://127.0.0.1:1")
	c.Index = "osprey"
	c.Host = ""
	h := newHEC(t, c)
	hostname, _ := os.Hostname()
	f := testFindings(1)[0]
	s := testSession()
	noSensor := testSession()
	noSensor.Sensor = ""
	m := schema.DeviceMetric{Tenant: "acme", Device: "ip:10.0.0.9", Time: time.Unix(1772366400, 0), Name: "aws:num-listening-tcp-ports", Value: 3}
	type want struct {
		time       float64
		host, st   string
		fields     map[string]any
		record     any
		decodeInto any
	}
	for _, tc := range []struct {
		name string
		ev   deliver.Event
		want want
	}{
		{"finding", deliver.Event{Kind: deliver.KindFinding, Time: f.Time, Finding: &f}, want{1772366400.123456, hostname, "osprey:finding",
			map[string]any{"tenant": "acme", "detector": "horizontal-scan", "rule": "horizontal-scan", "severity": "high", "state": "active"}, &f, &schema.Finding{}}},
		{"session with a sensor", deliver.Event{Kind: deliver.KindSession, Time: s.End, Session: &s}, want{1772366401.5, "edge-7", "osprey:session",
			map[string]any{"tenant": "acme", "src": "10.0.0.5", "dest": "192.0.2.8", "dest_port": "443", "transport": "tcp", "app": "tls"}, &s, &schema.Session{}}},
		{"session without", deliver.Event{Kind: deliver.KindSession, Time: noSensor.End, Session: &noSensor}, want{1772366401.5, hostname, "osprey:session",
			map[string]any{"tenant": "acme", "src": "10.0.0.5", "dest": "192.0.2.8", "dest_port": "443", "transport": "tcp", "app": "tls"}, &noSensor, &schema.Session{}}},
		{"metric", deliver.Event{Kind: deliver.KindMetric, Time: m.Time, Metric: &m}, want{1772366400, hostname, "osprey:metric",
			map[string]any{"tenant": "acme", "device": "ip:10.0.0.9", "metric": "aws:num-listening-tcp-ports"}, &m, &schema.DeviceMetric{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := h.Encoder().Encode([]byte("prefix"), &tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), "prefix{") {
				t.Fatalf("Encode did not append: %s", b)
			}
			evs, ref := hectest.ParseEvents(b[len("prefix"):], []string{"osprey"})
			if ref != nil || len(evs) != 1 {
				t.Fatalf("HEC refused %s: %v", b, ref)
			}
			e := evs[0]
			if e.Time == nil || *e.Time != tc.want.time {
				t.Errorf("time %v, want %v", e.Time, tc.want.time)
			}
			got := [4]string{e.Host, e.Source, e.Sourcetype, e.Index}
			if w := [4]string{tc.want.host, "osprey", tc.want.st, "osprey"}; got != w {
				t.Errorf("host, source, sourcetype, index = %q, want %q", got, w)
			}
			if diff := cmp.Diff(tc.want.fields, e.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if err := json.Unmarshal(e.Event, tc.want.decodeInto); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want.record, tc.want.decodeInto, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodeConfigured: configured sourcetypes and fields (entities as
// an array), empty values left out, an empty list sends no fields.
func TestEncodeConfigured(t *testing.T) {
	c := config("http://127.0.0.1:1")
	c.Sourcetypes = map[string]string{"findings": "soc:alert"}
	c.Fields = map[string][]string{"findings": {"entities", "technique", "id"}, "sessions": {}}
	h := newHEC(t, c)
	f := testFindings(1)[0]
	s := testSession()
	b, _ := h.Encoder().Encode(nil, &deliver.Event{Kind: deliver.KindFinding, Finding: &f})
	b, _ = h.Encoder().Encode(b, &deliver.Event{Kind: deliver.KindSession, Session: &s})
	evs, ref := hectest.ParseEvents(b, nil)
	if ref != nil {
		t.Fatal(ref)
	}
	if evs[0].Sourcetype != "soc:alert" || evs[1].Sourcetype != "osprey:session" {
		t.Errorf("sourcetypes %q, %q", evs[0].Sourcetype, evs[1].Sourcetype)
	}
	if diff := cmp.Diff(map[string]any{"entities": []string{"ip:10.99.0.9", "port:22"}, "id": "f000"}, evs[0].Fields); diff != "" {
		t.Error(diff)
	}
	if evs[1].Fields != nil || evs[0].Time != nil {
		t.Errorf("session fields %v, finding time without Event.Time %v", evs[1].Fields, evs[0].Time)
	}
	if _, err := h.Encoder().Encode(nil, &deliver.Event{Kind: deliver.KindFinding}); err == nil {
		t.Error("an event without its record was encoded")
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\`, "tab\tnl\ncr\r\x00\x1f", "é ü 中", "\u2028\u2029", "bad\xff\xfeutf8", "<html>&"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q → %s: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q → %s → %q, want %q", s, got, back, wantBack)
		}
	}
}

func TestAppendTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Unix(1772366400, 0):              "1772366400.000000",
		time.Unix(1772366400, 1000):           "1772366400.000001",
		time.Unix(1772366400, 999999999):      "1772366400.999999",
		time.Unix(-1, 250000000):              "-1.250000",
		time.Unix(0, 0).Add(-time.Second / 4): "-1.750000",
	} {
		if got := string(appendTime(nil, in)); got != want {
			t.Errorf("%v: %s, want %s", in, got, want)
		}
	}
}

// TestSend: a batch is one gzipped request on the output's channel,
// with the token.
func TestSend(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	h := newHEC(t, config(srv.URL))
	recs := records(t, h, testFindings(5))
	n, err := h.Send(t.Context(), recs)
	if n != 5 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	evs := srv.Events()
	if diff := cmp.Diff(idRange(0, 5), ids(t, evs)); diff != "" {
		t.Error(diff)
	}
	for _, e := range evs {
		if !e.Gzip || e.Channel != h.Channel() || e.Request != 1 {
			t.Errorf("gzip %v, channel %q (want %q), request %d", e.Gzip, e.Channel, h.Channel(), e.Request)
		}
	}
	c := config(srv.URL)
	c.Gzip = false
	c.Channel = "0f0e0d0c-0b0a-0908-0706-050403020100"
	h = newHEC(t, c)
	if n, err := h.Send(t.Context(), records(t, h, testFindings(1))); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if e := srv.Events()[5]; e.Gzip || e.Channel != c.Channel {
		t.Errorf("gzip %v, channel %q", e.Gzip, e.Channel)
	}
}

// TestBatching: a batch is split into requests of at most
// max_batch_events events and max_batch_bytes bytes, in order.
func TestBatching(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	c := config(srv.URL)
	c.MaxBatchEvents = 3
	h := newHEC(t, c)
	recs := records(t, h, testFindings(10))
	if n, err := h.Send(t.Context(), recs); n != 10 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	perRequest := map[int]int{}
	for _, e := range srv.Events() {
		perRequest[e.Request]++
	}
	if diff := cmp.Diff(map[int]int{1: 3, 2: 3, 3: 3, 4: 1}, perRequest); diff != "" {
		t.Errorf("events per request (-want +got):\n%s", diff)
	}

	// By bytes: each record is a few hundred bytes; 1 KiB holds a few.
	srv = newServer(t, hectest.Options{})
	c = config(srv.URL)
	c.MaxBatchBytes = 1024
	h = newHEC(t, c)
	recs = records(t, h, testFindings(10))
	size := len(recs[0].Data)
	per := 1024 / size
	if n, err := h.Send(t.Context(), recs); n != 10 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	evs := srv.Events()
	if diff := cmp.Diff(idRange(0, 10), ids(t, evs)); diff != "" {
		t.Error(diff)
	}
	if want := (10 + per - 1) / per; srv.Requests() != want {
		t.Errorf("%d requests of %d-byte events under 1 KiB, want %d", srv.Requests(), size, want)
	}

	// A record larger than max_batch_bytes goes alone.
	big := testFindings(1)
	big[0].Evidence = json.RawMessage(`{"summary":"` + strings.Repeat("x", 2000) + `"}`)
	before := srv.Requests()
	if n, err := h.Send(t.Context(), append(records(t, h, big), recs[:2]...)); n != 3 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if got := srv.Requests() - before; got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

// TestTooLarge: HEC's max_content_length below max_batch_bytes halves
// the requests until they pass; an event larger than it alone is
// refused for good.
func TestTooLarge(t *testing.T) {
	srv := newServer(t, hectest.Options{MaxContentLength: 2000})
	h := newHEC(t, config(srv.URL))
	recs := records(t, h, testFindings(12))
	if n, err := h.Send(t.Context(), recs); n != 12 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if diff := cmp.Diff(idRange(0, 12), ids(t, srv.Events())); diff != "" {
		t.Error(diff)
	}
	big := testFindings(1)
	big[0].Evidence = json.RawMessage(`{"summary":"` + strings.Repeat("x", 3000) + `"}`)
	n, err := h.Send(t.Context(), records(t, h, big))
	var pe *deliver.PermanentError
	if n != 0 || !errors.As(err, &pe) || pe.Records != 1 {
		t.Errorf("Send = %d, %v; want a permanent refusal of 1", n, err)
	}
}

// TestInvalidEvent: HEC names the first invalid event; the events
// before it are sent on their own, it alone is refused, and the rest
// follows on the next Send.
func TestInvalidEvent(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	h := newHEC(t, config(srv.URL))
	recs := records(t, h, testFindings(5))
	recs[2].Data = []byte(`{"time":1772366400,"event":""}`)
	n, err := h.Send(t.Context(), recs)
	var pe *deliver.PermanentError
	if n != 2 || !errors.As(err, &pe) || pe.Records != 1 || !strings.Contains(err.Error(), "code 13") {
		t.Fatalf("Send = %d, %v; want 2 and a permanent refusal of 1 (code 13)", n, err)
	}
	if n, err := h.Send(t.Context(), recs[3:]); n != 2 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if diff := cmp.Diff([]string{"f000", "f001", "f003", "f004"}, ids(t, srv.Events())); diff != "" {
		t.Error(diff)
	}
	// The first event invalid: refused alone at once.
	recs[0].Data = []byte(`{"time":1772366400}`)
	n, err = h.Send(t.Context(), recs[:2])
	if n != 0 || !errors.As(err, &pe) || pe.Records != 1 || !strings.Contains(err.Error(), "code 12") {
		t.Fatalf("Send = %d, %v; want 0 and a permanent refusal of 1 (code 12)", n, err)
	}
}

// TestErrorClasses: each HEC answer goes where docs/outputs-hec.md says.
func TestErrorClasses(t *testing.T) {
	type class int
	const (
		sent class = iota
		permanentAll
		permanentOne
		configErr
		unavailable
		retry
	)
	classOf := func(err error) class {
		var pe *deliver.PermanentError
		switch {
		case err == nil:
			return sent
		case errors.As(err, &pe) && pe.Records == 1:
			return permanentOne
		case errors.As(err, &pe):
			return permanentAll
		case errors.Is(err, ErrConfig) && errors.Is(err, deliver.ErrUnavailable):
			return configErr
		case errors.Is(err, deliver.ErrUnavailable):
			return unavailable
		}
		return retry
	}
	names := []string{"sent", "permanent (all)", "permanent (one)", "config (unavailable)", "unavailable", "retry"}
	for _, tc := range []struct {
		name  string
		opts  hectest.Options
		mod   func(*Config)
		reply *hectest.Reply
		want  class
	}{
		{"success", hectest.Options{}, nil, nil, sent},
		{"token disabled (1)", hectest.Options{Token: "other", DisabledToken: token}, nil, nil, configErr},
		{"invalid token (4)", hectest.Options{Token: "other"}, nil, nil, configErr},
		{"incorrect index (7)", hectest.Options{Indexes: []string{"main"}}, func(c *Config) { c.Index = "osprey" }, nil, configErr},
		{"index allowed", hectest.Options{Indexes: []string{"osprey"}}, func(c *Config) { c.Index = "osprey" }, nil, sent},
		{"token required (2)", hectest.Options{}, nil, &hectest.Reply{Status: 401, Code: 2, Text: "Token is required"}, configErr},
		{"invalid authorization (3)", hectest.Options{}, nil, &hectest.Reply{Status: 401, Code: 3, Text: "Invalid authorization"}, configErr},
		{"channel missing (10)", hectest.Options{}, nil, &hectest.Reply{Status: 400, Code: 10, Text: "Data channel is missing"}, configErr},
		{"invalid channel (11)", hectest.Options{}, nil, &hectest.Reply{Status: 400, Code: 11, Text: "Invalid data channel"}, configErr},
		{"not found", hectest.Options{}, nil, &hectest.Reply{Status: 404, Code: 404, Text: "not found"}, configErr},
		{"no data (5)", hectest.Options{}, nil, &hectest.Reply{Status: 400, Code: 5, Text: "No data"}, permanentAll},
		{"invalid data format (6), no event number", hectest.Options{}, nil, &hectest.Reply{Status: 400, Code: 6, Text: "Invalid data format"}, permanentAll},
		{"invalid data format (6) at 0", hectest.Options{}, nil, &hectest.Reply{Status: 400, Code: 6, Text: "Invalid data format", Extra: map[string]int64{"invalid-event-number": 0}}, permanentOne},
		{"indexed fields (15) at 0", hectest.Options{}, nil, &hectest.Reply{Status: 400, Code: 15, Text: "Error in handling indexed fields", Extra: map[string]int64{"invalid-event-number": 0}}, permanentOne},
		{"internal error (8)", hectest.Options{}, nil, &hectest.Reply{Status: 500, Code: 8, Text: "Internal server error"}, retry},
		{"busy (9)", hectest.Options{}, nil, &hectest.Reply{Status: 503, Code: 9, Text: "Server is busy", RetryAfter: "7"}, unavailable},
		{"unhealthy (18)", hectest.Options{}, nil, &hectest.Reply{Status: 503, Code: 18, Text: "HEC is unhealthy, queues are full"}, unavailable},
		{"too many requests", hectest.Options{}, nil, &hectest.Reply{Status: 429, Code: -1}, unavailable},
		{"hang-up", hectest.Options{}, nil, &hectest.Reply{Hangup: true}, unavailable},
		{"bad gateway", hectest.Options{}, nil, &hectest.Reply{Status: 502, Code: -1, Text: "proxy"}, retry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.opts)
			if tc.reply != nil {
				srv.Inject(*tc.reply)
			}
			c := config(srv.URL)
			if tc.mod != nil {
				tc.mod(&c)
			}
			h := newHEC(t, c)
			n, err := h.Send(t.Context(), records(t, h, testFindings(2)))
			if got := classOf(err); got != tc.want {
				t.Errorf("Send = %d, %v: %s, want %s", n, err, names[got], names[tc.want])
			}
			if (n == 2) != (tc.want == sent) || (n != 0 && n != 2) {
				t.Errorf("Send = %d, %v", n, err)
			}
			var ra *deliver.RetryAfterError
			if tc.reply != nil && tc.reply.RetryAfter == "7" && (!errors.As(err, &ra) || ra.After != 7*time.Second) {
				t.Errorf("Retry-After not carried: %v", err)
			}
		})
	}
}

// TestAck: with indexer acknowledgement, Send returns once HEC says the
// events are indexed, polling on the output's channel.
func TestAck(t *testing.T) {
	srv := newServer(t, hectest.Options{Ack: true, AckDelay: 50 * time.Millisecond})
	c := config(srv.URL)
	c.Ack = true
	c.MaxBatchEvents = 4
	h := newHEC(t, c)
	n, err := h.Send(t.Context(), records(t, h, testFindings(10)))
	if n != 10 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	// Send returned: every event is indexed, every ack id was queried.
	if diff := cmp.Diff(idRange(0, 10), ids(t, srv.Events())); diff != "" {
		t.Error(diff)
	}
	if srv.AckRequests() == 0 {
		t.Error("no ack query")
	}
}

// TestAckTimeout: events HEC accepted but never acknowledged are not
// sent: the error is unavailable, the events are sent again.
func TestAckTimeout(t *testing.T) {
	srv := newServer(t, hectest.Options{Ack: true, AckDelay: time.Hour})
	c := config(srv.URL)
	c.Ack = true
	c.AckTimeout = 100 * time.Millisecond
	h := newHEC(t, c)
	recs := records(t, h, testFindings(3))
	n, err := h.Send(t.Context(), recs)
	if n != 0 || !errors.Is(err, deliver.ErrUnavailable) || !strings.Contains(err.Error(), "not acknowledged") {
		t.Fatalf("Send = %d, %v; want 0, unavailable (not acknowledged)", n, err)
	}
	if srv.Accepted() != 3 || len(srv.Events()) != 0 {
		t.Fatalf("accepted %d, indexed %d", srv.Accepted(), len(srv.Events()))
	}
	srv.SetAckDelay(0)
	if n, err := h.Send(t.Context(), recs); n != 3 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if diff := cmp.Diff(idRange(0, 3), ids(t, srv.Events())); diff != "" {
		t.Error(diff)
	}
}

// TestAckConfigErrors: ack on for a token without it: the events were
// accepted (so they count as sent) and the error says what to fix; the
// ack endpoint answers 14 for such a token.
func TestAckConfigErrors(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	c := config(srv.URL)
	c.Ack = true
	h := newHEC(t, c)
	n, err := h.Send(t.Context(), records(t, h, testFindings(2)))
	if n != 2 || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "ackId") {
		t.Errorf("Send = %d, %v", n, err)
	}
	_, err = h.queryAcks(t.Context(), []int64{0})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "code 14") {
		t.Errorf("ack query: %v", err)
	}
}

// newOutput is an HEC output through the real delivery loop and queue,
// with fast retries.
func newOutput(t *testing.T, c Config, dir string, drain time.Duration) (*deliver.Output, *prometheus.Registry) {
	t.Helper()
	h := newHEC(t, c)
	oc := deliver.DefaultConfig()
	oc.Name, oc.Type = "splunk", "splunk_hec"
	oc.Queue.Dir = dir
	oc.Retry = deliver.RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	oc.DrainTimeout = drain
	if err := oc.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := deliver.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	o, err := deliver.NewOutput(oc, h.Encoder(), h, deliver.Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return o, reg
}

// waitEvents blocks until the collector indexed n events, or fails the
// test after a generous while (a hang is a failure, not a timing
// assertion).
func waitEvents(t *testing.T, srv *hectest.Server, n int) []hectest.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if evs := srv.Events(); len(evs) >= n {
			return evs
		}
		select {
		case <-srv.Arrived():
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("collector indexed %d events, want %d", len(srv.Events()), n)
		}
	}
}

// TestOutageThroughOutput: while the collector is down, then busy, the
// records wait in the output's queue; once it is back every one arrives,
// in order, none dead-lettered.
func TestOutageThroughOutput(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	srv.SetDown(true)
	dir := t.TempDir()
	o, reg := newOutput(t, config(srv.URL), dir, time.Minute)
	r := deliver.NewRouter(o)
	r.Start(t.Context())
	r.WriteFindings(t.Context(), testFindings(20))
	for srv.Requests() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.SetDown(false)
	srv.SetBusy(true)
	for before := srv.Requests(); srv.Requests() < before+3; {
		time.Sleep(5 * time.Millisecond)
	}
	srv.SetBusy(false)
	evs := waitEvents(t, srv, 20)
	r.Close()
	if diff := cmp.Diff(idRange(0, 20), ids(t, evs)); diff != "" {
		t.Error(diff)
	}
	if o.Left() != 0 {
		t.Errorf("%d records left queued", o.Left())
	}
	if n := value(t, reg, "osprey_output_failed_total"); n != 0 {
		t.Errorf("%v records dead-lettered", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "dead-letter.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dead-letter file: %v", err)
	}
}

// TestAckThroughOutput: records stay queued until acknowledged — an
// output stopped while acknowledgements never come leaves them all
// queued, although HEC accepted them; the next start sends them again
// and, acknowledged, they leave the queue (at least once).
func TestAckThroughOutput(t *testing.T) {
	srv := newServer(t, hectest.Options{Ack: true, AckDelay: time.Hour})
	c := config(srv.URL)
	c.Ack = true
	c.AckTimeout = 50 * time.Millisecond
	dir := t.TempDir()
	o, _ := newOutput(t, c, dir, 0) // stopped at once: the acks never come
	r := deliver.NewRouter(o)
	r.Start(t.Context())
	r.WriteFindings(t.Context(), testFindings(5))
	for srv.Accepted() < 10 { // sent at least twice
		time.Sleep(5 * time.Millisecond)
	}
	r.Close()
	if o.Left() != 5 || len(srv.Events()) != 0 {
		t.Fatalf("%d records left queued, %d indexed; want 5, 0", o.Left(), len(srv.Events()))
	}
	srv.SetAckDelay(0)
	o, _ = newOutput(t, c, dir, time.Minute)
	r = deliver.NewRouter(o)
	r.Start(t.Context())
	evs := waitEvents(t, srv, 5)
	r.Close()
	if diff := cmp.Diff(idRange(0, 5), ids(t, evs)); diff != "" {
		t.Error(diff)
	}
	if o.Left() != 0 {
		t.Errorf("%d records left queued", o.Left())
	}
}

// TestDeadLetterThroughOutput: an invalid record goes to the dead-letter
// file; the others, before and after it, arrive; a token error
// dead-letters nothing.
func TestDeadLetterThroughOutput(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	dir := t.TempDir()
	c := config(srv.URL)
	c.MaxBatchEvents = 2
	o, reg := newOutput(t, c, dir, time.Minute)
	r := deliver.NewRouter(o)
	srv.Inject(hectest.Reply{Status: 400, Code: 6, Text: "Invalid data format", Extra: map[string]int64{"invalid-event-number": 1}})
	r.Start(t.Context())
	r.WriteFindings(t.Context(), testFindings(4))
	evs := waitEvents(t, srv, 3)
	r.Close()
	if diff := cmp.Diff([]string{"f000", "f002", "f003"}, ids(t, evs)); diff != "" {
		t.Error(diff)
	}
	dead, _ := os.ReadFile(filepath.Join(dir, "dead-letter.jsonl"))
	if n := strings.Count(string(dead), "\n"); n != 1 || !strings.Contains(string(dead), `f001`) || !strings.Contains(string(dead), "code 6") {
		t.Errorf("dead letter: %s", dead)
	}
	if n := value(t, reg, "osprey_output_failed_total"); n != 1 {
		t.Errorf("failed_total = %v", n)
	}

	// A wrong token: retried and retried, never dead-lettered.
	srv = newServer(t, hectest.Options{Token: "the-real-one"})
	dir = t.TempDir()
	o, reg = newOutput(t, config(srv.URL), dir, 0)
	r = deliver.NewRouter(o)
	r.Start(t.Context())
	r.WriteFindings(t.Context(), testFindings(2))
	for srv.Requests() < 6 { // twice retry.max_attempts
		time.Sleep(5 * time.Millisecond)
	}
	r.Close()
	if o.Left() != 2 || value(t, reg, "osprey_output_failed_total") != 0 {
		t.Errorf("%d left, %v dead-lettered; want 2, 0", o.Left(), value(t, reg, "osprey_output_failed_total"))
	}
}

// TestTLS: HTTPS with the collector's CA; without it the certificate is
// not trusted.
func TestTLS(t *testing.T) {
	srv := hectest.NewTLS(hectest.Options{Token: token})
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config(srv.URL)
	c.TLS.CAFile = ca
	h := newHEC(t, c)
	if n, err := h.Send(t.Context(), records(t, h, testFindings(1))); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	c.TLS.CAFile = ""
	h = newHEC(t, c)
	if _, err := h.Send(t.Context(), records(t, h, testFindings(1))); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}

func TestTokenFile(t *testing.T) {
	srv := newServer(t, hectest.Options{})
	path := filepath.Join(t.TempDir(), "token")
	os.WriteFile(path, []byte(token+"\n# rotated 2026-03-01\n"), 0o600)
	c := config(srv.URL)
	c.Token, c.TokenFile = "", path
	h := newHEC(t, c)
	if n, err := h.Send(t.Context(), records(t, h, testFindings(1))); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	c.TokenFile = filepath.Join(t.TempDir(), "missing")
	if _, err := New(c); err == nil || !strings.HasPrefix(err.Error(), "token_file:") {
		t.Errorf("New = %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct{ url, ackURL, event, ack string }{
		{"https://splunk:8088", "", "https://splunk:8088/services/collector/event", "https://splunk:8088/services/collector/ack"},
		{"https://splunk:8088/", "", "https://splunk:8088/services/collector/event", "https://splunk:8088/services/collector/ack"},
		{"https://lb/splunk/services/collector/event/1.0", "", "https://lb/splunk/services/collector/event/1.0", "https://lb/splunk/services/collector/ack"},
		{"https://lb/hec", "https://lb/hec-ack", "https://lb/hec", "https://lb/hec-ack"},
	} {
		c := Config{URL: tc.url, AckURL: tc.ackURL}
		if e, a := c.endpoints(); e != tc.event || a != tc.ack {
			t.Errorf("%s: %s, %s; want %s, %s", tc.url, e, a, tc.event, tc.ack)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"default", func(c *Config) {}, ""},
		{"url", func(c *Config) { c.URL = "splunk:8088" }, "url:"},
		{"url with a query", func(c *Config) { c.URL = "https://splunk:8088/services/collector?token=x" }, "url:"},
		{"no token", func(c *Config) { c.Token = "" }, "token: required"},
		{"both tokens", func(c *Config) { c.TokenFile = "/run/secrets/hec" }, "token_file:"},
		{"source", func(c *Config) { c.Source = "" }, "source:"},
		{"sourcetype kind", func(c *Config) { c.Sourcetypes = map[string]string{"alerts": "x"} }, "sourcetypes.alerts:"},
		{"sourcetype singular", func(c *Config) { c.Sourcetypes = map[string]string{"finding": "a"} }, "sourcetypes.finding: unknown kind"},
		{"sourcetype empty", func(c *Config) { c.Sourcetypes = map[string]string{"sessions": ""} }, "sourcetypes.sessions: empty"},
		{"index", func(c *Config) { c.Index = "_internal" }, "index:"},
		{"fields kind", func(c *Config) { c.Fields = map[string][]string{"things": {"tenant"}} }, "fields.things:"},
		{"unknown field", func(c *Config) { c.Fields = map[string][]string{"sessions": {"src", "dst"}} }, "fields.sessions[1]: unknown session field \"dst\""},
		{"field twice", func(c *Config) { c.Fields = map[string][]string{"findings": {"rule", "rule"}} }, "fields.findings[1]:"},
		{"max_batch_events", func(c *Config) { c.MaxBatchEvents = 0 }, "max_batch_events:"},
		{"max_batch_bytes", func(c *Config) { c.MaxBatchBytes = 10 }, "max_batch_bytes:"},
		{"channel", func(c *Config) { c.Channel = "osprey" }, "channel:"},
		{"ack_url needed", func(c *Config) { c.Ack, c.URL = true, "https://lb/hec" }, "ack_url:"},
		{"ack_url", func(c *Config) { c.AckURL = "lb/ack" }, "ack_url:"},
		{"ack_interval", func(c *Config) { c.Ack, c.AckInterval = true, 0 }, "ack_interval:"},
		{"ack_timeout", func(c *Config) { c.Ack, c.AckTimeout = true, time.Millisecond }, "ack_timeout:"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "timeout:"},
		{"tls", func(c *Config) { c.TLS.KeyFile = "k.pem" }, "tls.cert_file:"},
	} {
		c := config("https://splunk.example:8088")
		tc.mod(&c)
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// value sums a metric family's samples in reg.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			} else {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// TestYAML: the section read over its defaults, as the configuration
// loader reads it: a kind written in sourcetypes or fields replaces its
// default, the others keep theirs.
func TestYAML(t *testing.T) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(`
url: https://splunk.example:8088
token_file: /run/secrets/hec
index: osprey
sourcetypes: {sessions: "zeek:conn"}
fields:
  sessions: [src, dest, community_id]
  metrics: []
max_batch_bytes: 512KiB
ack: true
ack_timeout: 5m
`))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.URL, want.TokenFile, want.Index, want.MaxBatchBytes, want.Ack, want.AckTimeout = "https://splunk.example:8088", "/run/secrets/hec", "osprey", 512<<10, true, 5*time.Minute
	want.Sourcetypes["sessions"] = "zeek:conn"
	want.Fields["sessions"] = []string{"src", "dest", "community_id"}
	want.Fields["metrics"] = []string{}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	enc := newEncoder(c)
	if got := len(enc.kinds[deliver.KindMetric].fields); got != 0 {
		t.Errorf("metrics: %d fields, want none", got)
	}
	if got := len(enc.kinds[deliver.KindFinding].fields); got != 5 {
		t.Errorf("findings: %d fields, want the 5 defaults", got)
	}
}
