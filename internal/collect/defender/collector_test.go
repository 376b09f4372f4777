package defender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// memSink keeps what it is given; fail makes it refuse batches.
type memSink struct {
	mu      sync.Mutex
	metrics []schema.DeviceMetric
	fail    error
}

func (s *memSink) WriteMetrics(_ context.Context, batch []schema.DeviceMetric) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.metrics = append(s.metrics, batch...)
	return nil
}

func (s *memSink) Close() error { return nil }

func (s *memSink) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// byDevice returns the stored metrics of one device, by name.
func (s *memSink) byDevice(device string) map[string]schema.DeviceMetric {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]schema.DeviceMetric{}
	for _, m := range s.metrics {
		if m.Device == device {
			out[m.Name] = m
		}
	}
	return out
}

type rejectLog struct {
	mu  sync.Mutex
	all []collect.BadInput
}

func (r *rejectLog) Reject(b collect.BadInput) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, b)
}

func (r *rejectLog) list() []collect.BadInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]collect.BadInput(nil), r.all...)
}

type harness struct {
	c                  *Collector
	sink               *memSink
	rejects            *rejectLog
	mqttAddr, httpAddr string
	done               chan error
}

// startCollector runs a collector until the test ends; prepare may
// adjust it (its clock) before it runs.
func startCollector(t *testing.T, cfg Config, prepare func(*Collector)) *harness {
	t.Helper()
	h := &harness{sink: &memSink{}, rejects: &rejectLog{}, done: make(chan error, 1)}
	c, err := New(cfg, h.sink, h.rejects, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(c)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	if h.mqttAddr, h.httpAddr, err = c.Addrs(actx); err != nil {
		t.Fatal(err)
	}
	return h
}

func httpConfig() Config {
	cfg := DefaultConfig()
	cfg.MQTT.Mode = "off"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.FlushInterval = 20 * time.Millisecond
	return cfg
}

// post sends a report and returns the status and the reply.
func post(t *testing.T, h *harness, thing, contentType string, body []byte, auth ...string) (int, Reply) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+h.httpAddr+"/v1/defender/things/"+thing+"/metrics", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r Reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %q: %v", b, err)
	}
	return resp.StatusCode, r
}

func wantReply(t *testing.T, status int, r Reply, wantStatus int, thing string, id int64, code string) {
	t.Helper()
	gotCode := ""
	if r.StatusDetails != nil {
		gotCode = r.StatusDetails.ErrorCode
	}
	wantText := StatusAccepted
	if code != "" {
		wantText = StatusRejected
	}
	if status != wantStatus || r.ThingName != thing || r.ReportID != id || r.Status != wantText || gotCode != code || r.Timestamp == 0 {
		t.Errorf("got %d %+v (%+v), want %d %s report %d %s %s", status, r, r.StatusDetails, wantStatus, thing, id, wantText, code)
	}
}

func TestHTTP(t *testing.T) {
	cfg := httpConfig()
	cfg.MinReportInterval = 5 * time.Minute
	cfg.Tenant = "acme"
	clock := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	h := startCollector(t, cfg, func(c *Collector) {
		c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	long := readTestdata(t, "report-long.json")

	status, r := post(t, h, "cam-1", "application/json", long)
	wantReply(t, status, r, 200, "cam-1", 1700000300, "")
	got := h.sink.byDevice("cam-1")
	if len(got) != 14 {
		t.Fatalf("%d metrics stored, want 14: %v", len(got), got)
	}
	if m := got["aws:listening-tcp-ports"]; m.Value != 2 || strings.Join(m.List, ",") != "22,443" || m.Tenant != "acme" || !m.Time.Equal(clock) {
		t.Errorf("listening ports stored as %+v", m)
	}

	advance(10 * time.Minute)
	status, r = post(t, h, "cam-1", "application/json", long)
	wantReply(t, status, r, 400, "cam-1", 1700000300, CodeDuplicateReportID)

	status, r = post(t, h, "cam-1", "application/json", []byte(`{"hed":{"rid":1700000600,"v":"1.0"},"met":{"tp":{"pts":[{"pt":99999}]}}}`))
	wantReply(t, status, r, 400, "cam-1", 0, CodeInvalidPayload)
	if msg := r.StatusDetails.ErrorMessage; msg != "met.tp.pts[0].pt: 99999 is not a port (1-65535)" {
		t.Errorf("message %q", msg)
	}

	// A later, good report in short-named CBOR is taken.
	short := toCBOR(t, bytes.Replace(readTestdata(t, "report-short.json"), []byte("1700000300"), []byte("1700000600"), 1))
	status, r = post(t, h, "cam-1", "application/cbor", short)
	wantReply(t, status, r, 200, "cam-1", 1700000600, "")

	// Too soon after it.
	advance(time.Minute)
	status, r = post(t, h, "cam-1", "application/json", []byte(`{"header":{"report_id":1700000700,"version":"1.0"},"custom_metrics":{"t":[{"number":1}]}}`))
	wantReply(t, status, r, 429, "cam-1", 1700000700, CodeThrottled)

	status, r = post(t, h, "cam-1", "text/plain", long)
	wantReply(t, status, r, 415, "cam-1", 0, CodeInvalidPayload)
	status, r = post(t, h, "bad%01name", "application/json", long)
	wantReply(t, status, r, 400, "bad\x01name", 0, CodeInvalidThingName)

	// The store fails: the report is refused and may be sent again.
	advance(5 * time.Minute)
	h.sink.setFail(errors.New("disk full"))
	status, r = post(t, h, "cam-1", "application/json", []byte(`{"header":{"report_id":1700000900,"version":"1.0"},"custom_metrics":{"t":[{"number":1}]}}`))
	wantReply(t, status, r, 503, "cam-1", 1700000900, CodeInternalFailure)
	h.sink.setFail(nil)
	status, r = post(t, h, "cam-1", "application/json", []byte(`{"header":{"report_id":1700000900,"version":"1.0"},"custom_metrics":{"t":[{"number":1}]}}`))
	wantReply(t, status, r, 200, "cam-1", 1700000900, "")

	rej := h.rejects.list()
	if len(rej) != 4 { // duplicate, bad port, throttled, thing name (415 never reached the parser)
		t.Fatalf("%d rejects, want 4: %+v", len(rej), rej)
	}
	if b := rej[1]; b.Kind != "defender" || b.Source != "http://127.0.0.1/v1/defender/things/cam-1/metrics" || b.Field != "met.tp.pts[0].pt" || b.Offset != -1 || len(b.Raw) == 0 {
		t.Errorf("bad input %+v", b)
	}
	if n := testutil.ToFloat64(t, h.c.count.accepted.WithLabelValues("http"), "osprey_defender_reports_accepted_total"); n != 3 {
		t.Errorf("accepted counter %v, want 3", n)
	}
	if n := testutil.ToFloat64(t, h.c.count.rejected.WithLabelValues("http", CodeInternalFailure), "osprey_defender_reports_rejected_total"); n != 1 {
		t.Errorf("InternalFailure counter %v, want 1", n)
	}
}

func TestHTTPUsers(t *testing.T) {
	cfg := httpConfig()
	cfg.MinReportInterval = 0
	cfg.MQTT.Users = []User{{Username: "gw", Password: "s3cret", Things: []string{"cam-1"}}, {Username: "fleet", Password: "x"}}
	h := startCollector(t, cfg, nil)
	body := []byte(`{"header":{"report_id":1,"version":"1.0"},"custom_metrics":{"t":[{"number":1}]}}`)
	status, r := post(t, h, "cam-1", "application/json", body)
	wantReply(t, status, r, 401, "cam-1", 0, CodeNotAuthorized)
	status, r = post(t, h, "cam-1", "application/json", body, "gw", "wrong")
	wantReply(t, status, r, 401, "cam-1", 0, CodeNotAuthorized)
	status, r = post(t, h, "cam-2", "application/json", body, "gw", "s3cret")
	wantReply(t, status, r, 403, "cam-2", 0, CodeNotAuthorized)
	status, r = post(t, h, "cam-1", "application/json", body, "gw", "s3cret")
	wantReply(t, status, r, 200, "cam-1", 1, "")
	status, r = post(t, h, "cam-2", "application/json", body, "fleet", "x")
	wantReply(t, status, r, 200, "cam-2", 1, "")
}

// With only feeds, Run reads them, writes their metrics and returns;
// bad lines are set aside with their line and offset.
func TestCloudFeed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MQTT.Mode = "off"
	cfg.Cloud = []string{"testdata/cloud.jsonl"}
	sink, rejects := &memSink{}, &rejectLog{}
	c, err := New(cfg, sink, rejects, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range sink.metrics {
		names[m.Device+" "+m.Name] = true
	}
	for _, want := range []string{"cam-1 aws:num-authorization-failures", "cam-1 aws:source-ip-address", "plc-7 aws:num-disconnects",
		"plc-7 aws:num-messages-received[!telemetry]", "plc-7 aws:message-byte-size"} {
		if !names[want] {
			t.Errorf("missing %s; have %v", want, names)
		}
	}
	if len(sink.metrics) != 5 {
		t.Errorf("%d metrics, want 5", len(sink.metrics))
	}
	rej := rejects.list()
	if len(rej) != 2 || rej[0].Line != 4 || rej[0].Field != "value.count" || rej[1].Line != 6 || rej[1].Source != "testdata/cloud.jsonl" {
		t.Fatalf("rejects %+v", rej)
	}
	data := readTestdata(t, "cloud.jsonl")
	if off := rej[1].Offset; !bytes.HasPrefix(data[off:], []byte("not json\n")) {
		t.Errorf("offset %d points at %q", off, data[off:min(int(off)+10, len(data))])
	}
}

func TestCloudFeedLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.jsonl")
	good := `{"thing":"t","name":"aws:num-disconnects","timestamp":1700000000000,"value":{"count":1}}` + "\n"
	if err := os.WriteFile(path, []byte(good+strings.Repeat("x", 300<<10)+"\n"+good), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MQTT.Mode = "off"
	cfg.Cloud = []string{path}
	sink, rejects := &memSink{}, &rejectLog{}
	c, err := New(cfg, sink, rejects, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rej := rejects.list()
	if len(sink.metrics) != 2 || len(rej) != 1 || rej[0].Line != 2 || !strings.Contains(rej[0].Err.Error(), "longer than") {
		t.Errorf("%d metrics, rejects %+v", len(sink.metrics), rej)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Mode = "external"
	cfg.MQTT.Broker = ""
	cfg.BatchSize = 0
	cfg.MQTT.Users = []User{{Username: "u", Things: []string{"a/b"}}}
	err := cfg.Validate()
	for _, key := range []string{"defender.mqtt.broker", "defender.batch_size", "defender.mqtt.users[0].things[0]"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}
