package hectest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	tok = "tok-1"
	ch  = "FE0ECFAD-13D5-401B-847D-77833BD77131"
)

type answer struct {
	status int
	Text   string          `json:"text"`
	Code   int             `json:"code"`
	AckID  *int64          `json:"ackId"`
	Acks   map[string]bool `json:"acks"`
	Bad    *int            `json:"invalid-event-number"`
}

func post(t *testing.T, url string, header map[string]string, body []byte) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(b, &a); err != nil && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d %s: not JSON: %v", resp.StatusCode, b, err)
	}
	return a
}

// TestContract: the collector answers each documented case with its
// HTTP status and HEC code.
func TestContract(t *testing.T) {
	s := New(Options{Token: tok, DisabledToken: "old", Indexes: []string{"main"}, Ack: true})
	defer s.Close()
	ev := []byte(`{"event":"hello"}`)
	auth := func(v string) map[string]string {
		return map[string]string{"Authorization": v, "X-Splunk-Request-Channel": ch}
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	url := s.URL + "/services/collector/event"
	for _, tc := range []struct {
		name         string
		url          string
		header       map[string]string
		body         []byte
		status, code int
		bad          int // invalid-event-number, -1 none
	}{
		{"success", url, auth("Splunk " + tok), ev, 200, 0, -1},
		{"batch", url, auth("Splunk " + tok), []byte(`{"event":"a"}{"event":{"b":1},"time":"1772366400.5"} {"event":"c","index":"main"}`), 200, 0, -1},
		{"gzip", url, map[string]string{"Authorization": "Splunk " + tok, "X-Splunk-Request-Channel": ch, "Content-Encoding": "gzip"}, gz(ev), 200, 0, -1},
		{"token disabled", url, auth("Splunk old"), ev, 403, 1, -1},
		{"token required", url, map[string]string{}, ev, 401, 2, -1},
		{"invalid authorization", url, auth("Bearer " + tok), ev, 401, 3, -1},
		{"invalid token", url, auth("Splunk nope"), ev, 403, 4, -1},
		{"no data", url, auth("Splunk " + tok), []byte(" \n"), 400, 5, -1},
		{"invalid data format", url, auth("Splunk " + tok), []byte(`{"event":"a"}{"event":`), 400, 6, 1},
		{"not an object", url, auth("Splunk " + tok), []byte(`["event"]`), 400, 6, 0},
		{"bad gzip", url, map[string]string{"Authorization": "Splunk " + tok, "X-Splunk-Request-Channel": ch, "Content-Encoding": "gzip"}, ev, 400, 6, -1},
		{"incorrect index", url, auth("Splunk " + tok), []byte(`{"event":"a"}{"event":"b","index":"secret"}`), 400, 7, 1},
		{"channel missing", url, map[string]string{"Authorization": "Splunk " + tok}, ev, 400, 10, -1},
		{"invalid channel", url, map[string]string{"Authorization": "Splunk " + tok, "X-Splunk-Request-Channel": "chan"}, ev, 400, 11, -1},
		{"channel in the query", url + "?channel=" + ch, map[string]string{"Authorization": "Splunk " + tok}, ev, 200, 0, -1},
		{"event required", url, auth("Splunk " + tok), []byte(`{"host":"h"}`), 400, 12, 0},
		{"event blank", url, auth("Splunk " + tok), []byte(`{"event":"x"}{"event":""}`), 400, 13, 1},
		{"event null", url, auth("Splunk " + tok), []byte(`{"event":null}`), 400, 13, 0},
		{"indexed fields", url, auth("Splunk " + tok), []byte(`{"event":"x","fields":{"n":1}}`), 400, 15, 0},
		{"query string token", url + "?token=" + tok, auth("Splunk " + tok), ev, 400, 16, -1},
		{"ack of a batch", s.URL + "/services/collector/ack", auth("Splunk " + tok), []byte(`{"acks":[0]}`), 200, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, tc.url, tc.header, tc.body)
			if a.status != tc.status || a.Code != tc.code {
				t.Errorf("%d code %d (%s), want %d code %d", a.status, a.Code, a.Text, tc.status, tc.code)
			}
			if (a.Bad == nil) != (tc.bad < 0) || (a.Bad != nil && *a.Bad != tc.bad) {
				t.Errorf("invalid-event-number %v, want %d", a.Bad, tc.bad)
			}
			if tc.status == 200 && strings.HasSuffix(tc.url, "/event") && a.AckID == nil {
				t.Error("no ackId")
			}
		})
	}
	// Nothing refused was indexed; what succeeded was, once acknowledged
	// (AckDelay 0).
	if got := len(s.Events()); got != 6 {
		t.Errorf("%d events indexed, want 6", got)
	}
}

// TestAcks: ack ids per channel, false until the delay passes, true
// once, then forgotten; 14 when the token has no acknowledgement.
func TestAcks(t *testing.T) {
	s := New(Options{Token: tok, Ack: true, AckDelay: time.Hour})
	defer s.Close()
	h := map[string]string{"Authorization": "Splunk " + tok, "X-Splunk-Request-Channel": ch}
	for want := int64(0); want < 3; want++ {
		if a := post(t, s.URL+"/services/collector/event", h, []byte(`{"event":"x"}`)); a.AckID == nil || *a.AckID != want {
			t.Fatalf("ackId %v, want %d", a.AckID, want)
		}
	}
	ack := func() map[string]bool {
		return post(t, s.URL+"/services/collector/ack?channel="+ch, h, []byte(`{"acks":[0,1,2,7]}`)).Acks
	}
	if got := ack(); got["0"] || got["1"] || got["2"] || got["7"] || len(got) != 4 {
		t.Errorf("before the delay: %v", got)
	}
	if len(s.Events()) != 0 || s.Accepted() != 3 {
		t.Errorf("indexed %d, accepted %d before the acks", len(s.Events()), s.Accepted())
	}
	s.SetAckDelay(0)
	post(t, s.URL+"/services/collector/event", h, []byte(`{"event":"y"}`)) // ackId 3, due at once
	got := post(t, s.URL+"/services/collector/ack", h, []byte(`{"acks":[3]}`)).Acks
	if !got["3"] {
		t.Errorf("ack 3: %v", got)
	}
	if got := post(t, s.URL+"/services/collector/ack", h, []byte(`{"acks":[3]}`)).Acks; got["3"] {
		t.Error("an ack was reported true twice")
	}
	other := map[string]string{"Authorization": "Splunk " + tok, "X-Splunk-Request-Channel": "00000000-0000-0000-0000-000000000000"}
	if a := post(t, s.URL+"/services/collector/event", other, []byte(`{"event":"z"}`)); a.AckID == nil || *a.AckID != 0 {
		t.Errorf("another channel's first ackId %v, want 0", a.AckID)
	}

	noAck := New(Options{Token: tok})
	defer noAck.Close()
	if a := post(t, noAck.URL+"/services/collector/ack", h, []byte(`{"acks":[0]}`)); a.status != 400 || a.Code != 14 {
		t.Errorf("ack without ack: %d code %d", a.status, a.Code)
	}
	if a := post(t, noAck.URL+"/services/collector/event", map[string]string{"Authorization": "Splunk " + tok}, []byte(`{"event":"x"}`)); a.status != 200 || a.AckID != nil {
		t.Errorf("event without ack: %d, ackId %v", a.status, a.AckID)
	}
}

func TestModes(t *testing.T) {
	s := New(Options{Token: tok, MaxContentLength: 20})
	defer s.Close()
	h := map[string]string{"Authorization": "Splunk " + tok}
	url := s.URL + "/services/collector/event"
	s.SetBusy(true)
	if a := post(t, url, h, []byte(`{"event":"x"}`)); a.status != 503 || a.Code != 9 {
		t.Errorf("busy: %d code %d", a.status, a.Code)
	}
	s.SetBusy(false)
	if a := post(t, url, h, []byte(`{"event":"a long event, longer than twenty bytes"}`)); a.status != 413 {
		t.Errorf("too large: %d", a.status)
	}
	s.Inject(Reply{Status: 500, Code: 8, Text: "Internal server error"})
	if a := post(t, url, h, []byte(`{"event":"x"}`)); a.status != 500 || a.Code != 8 {
		t.Errorf("injected: %d code %d", a.status, a.Code)
	}
	if a := post(t, url, h, []byte(`{"event":"x"}`)); a.status != 200 {
		t.Errorf("after the injected reply: %d", a.status)
	}
	s.SetDown(true)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"event":"x"}`))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("a request was answered while down")
	}
	resp, err := http.Get(s.URL + "/services/collector/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":17`) {
		t.Errorf("health: %s", b)
	}
}

// FuzzParseEvents: any body is either refused with a documented code
// and the number of an event in it, or parsed into events that all
// have a non-blank event.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{
		`{"event":"a"}`, `{"event":{"k":1},"time":1772366400.5,"host":"h","fields":{"f":"v","l":["a","b"]}}{"event":"b"}`,
		``, `{`, `{"event":""}`, `{"index":"x","event":1}`, `null`, `{"time":"soon","event":1}`, `{"fields":{"a":{}},"event":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, ref := ParseEvents(body, []string{"main"})
		if ref != nil {
			if evs != nil {
				t.Fatal("events and a refusal")
			}
			switch ref.Code {
			case 5, 6, 7, 12, 13, 15:
			default:
				t.Fatalf("undocumented code %d", ref.Code)
			}
			if ref.InvalidEvent < -1 || ref.InvalidEvent > len(body) {
				t.Fatalf("invalid event %d of a %d-byte body", ref.InvalidEvent, len(body))
			}
			return
		}
		if len(evs) == 0 {
			t.Fatal("no events and no refusal")
		}
		for _, e := range evs {
			if t := string(bytes.TrimSpace(e.Event)); t == "" || t == "null" || t == `""` {
				panic("blank event accepted")
			}
		}
	})
}
